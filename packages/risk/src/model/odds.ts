// The ODDS benchmark protocol (testdata/odds/SOURCE.md) without I/O: parsing a data set's CSV
// text and PyOD's random 60/40 split, shared by the model's tests and bench/risk-odds.ts.

import { ModelError } from "./model-error.js";
import { createRandom } from "./random.js";

export interface LabelledData {
  rows: number[][];
  /** 1 for an outlier, 0 otherwise. */
  labels: (0 | 1)[];
}

/** A CSV with a header `x0,…,xN,label` and one numeric row per line. */
export function parseLabelledCsv(text: string): LabelledData {
  const lines = text.split(/\r?\n/).filter((line) => line.length > 0);
  const header = lines[0]?.split(",") ?? [];
  if (header.length < 2 || header.at(-1) !== "label") throw new ModelError("invalid_input", "the header must end with a label column");
  const data: LabelledData = { rows: [], labels: [] };
  for (let r = 1; r < lines.length; r++) {
    const cells = (lines[r] as string).split(",").map(Number);
    const label = cells.pop();
    if (cells.length !== header.length - 1 || (label !== 0 && label !== 1)) {
      throw new ModelError("invalid_input", `line ${r + 1}: expected ${header.length - 1} features and a 0/1 label`);
    }
    data.rows.push(cells);
    data.labels.push(label);
  }
  return data;
}

/**
 * A random train/test split as scikit-learn's train_test_split(test_size=0.4) sizes it
 * (⌈0.4·n⌉ test rows), shuffled by a seeded Fisher–Yates so a seed names one split.
 */
export function splitTrainTest(data: LabelledData, seed: number, testFraction = 0.4): { train: LabelledData; test: LabelledData } {
  const n = data.rows.length;
  const order = Array.from({ length: n }, (_, i) => i);
  const random = createRandom(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = random.nextInt(i + 1);
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  const testCount = Math.ceil(testFraction * n);
  const pick = (indices: number[]): LabelledData => ({
    rows: indices.map((i) => data.rows[i] as number[]),
    labels: indices.map((i) => data.labels[i] as 0 | 1),
  });
  return { train: pick(order.slice(testCount)), test: pick(order.slice(0, testCount)) };
}
