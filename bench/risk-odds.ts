// The Risk service's Isolation Forest on three ODDS data sets, by PyOD's protocol
// (packages/risk/testdata/odds/SOURCE.md): per run a random 60/40 split, features standardised
// with the training rows' statistics, 100 trees, ψ = 256, ROC-AUC of the test scores; 20 runs
// with seeds 0..19. The mean is set against PyOD's published figure, with train and score times.
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
// The package's index.ts does not re-export the model yet; switch to "@qenex/risk" when it does.
import { parseLabelledCsv, rocAuc, splitTrainTest, trainIsolationForest } from "@qenex/risk";

/** PyOD's Isolation Forest ROC-AUC (docs/tables/roc.csv), as SOURCE.md quotes it. */
const published = { cardio: 0.9213, shuttle: 0.9971, satellite: 0.7022 } as const;
type DatasetName = keyof typeof published;
const agreementBand = 0.02;

interface Result {
  dataset: DatasetName;
  rows: number;
  features: number;
  runs: number;
  rocAucMean: number;
  rocAucStd: number;
  published: number;
  difference: number;
  withinBand: boolean;
  trainMsMean: number;
  scoreMicrosPerRow: number;
}

function settings(): { runs: number; datasets: DatasetName[]; json: boolean } {
  const { values } = parseArgs({
    options: {
      runs: { type: "string", default: "20" },
      datasets: { type: "string", default: Object.keys(published).join(",") },
      json: { type: "boolean", default: false },
    },
  });
  const runs = Number(values.runs);
  const datasets = values.datasets.split(",");
  if (!Number.isInteger(runs) || runs < 1 || runs > 100 || !datasets.every((d): d is DatasetName => d in published)) {
    throw new Error(`--runs 1..100, --datasets a list of ${Object.keys(published).join(", ")}`);
  }
  return { runs, datasets, json: values.json };
}

function evaluate(dataset: DatasetName, runs: number): Result {
  const text = readFileSync(new URL(`../packages/risk/testdata/odds/${dataset}.csv`, import.meta.url), "utf8");
  const data = parseLabelledCsv(text);
  const rocAucs: number[] = [];
  let trainMs = 0;
  let scoreMs = 0;
  let scoredRows = 0;
  for (let seed = 0; seed < runs; seed++) {
    const { train, test } = splitTrainTest(data, seed);
    const trainStart = performance.now();
    const model = trainIsolationForest(train.rows, { trees: 100, sampleSize: 256, seed, standardize: true });
    const scoreStart = performance.now();
    const scores = model.scoreRows(test.rows);
    const scoreEnd = performance.now();
    trainMs += scoreStart - trainStart;
    scoreMs += scoreEnd - scoreStart;
    scoredRows += test.rows.length;
    rocAucs.push(rocAuc(scores, test.labels));
    process.stderr.write(`\r${dataset}: run ${seed + 1}/${runs}`);
  }
  process.stderr.write("\n");
  const mean = rocAucs.reduce((sum, x) => sum + x, 0) / runs;
  const variance = runs > 1 ? rocAucs.reduce((sum, x) => sum + (x - mean) ** 2, 0) / (runs - 1) : 0;
  const difference = mean - published[dataset];
  return {
    dataset,
    rows: data.rows.length,
    features: data.rows[0]?.length ?? 0,
    runs,
    rocAucMean: mean,
    rocAucStd: Math.sqrt(variance),
    published: published[dataset],
    difference,
    withinBand: Math.abs(difference) <= agreementBand,
    trainMsMean: trainMs / runs,
    scoreMicrosPerRow: (scoreMs * 1000) / scoredRows,
  };
}

function printTable(results: Result[]): void {
  const header = [
    "dataset",
    "rows",
    "features",
    "ROC-AUC (mean ± std)",
    "PyOD",
    "diff",
    `within ${agreementBand}`,
    "train ms",
    "score µs/row",
  ];
  const body = results.map((r) => [
    r.dataset,
    String(r.rows),
    String(r.features),
    `${r.rocAucMean.toFixed(4)} ± ${r.rocAucStd.toFixed(4)}`,
    r.published.toFixed(4),
    `${r.difference >= 0 ? "+" : ""}${r.difference.toFixed(4)}`,
    r.withinBand ? "yes" : "no",
    r.trainMsMean.toFixed(1),
    r.scoreMicrosPerRow.toFixed(2),
  ]);
  const table = [header, ...body];
  const widths = header.map((_, column) => Math.max(...table.map((row) => (row[column] ?? "").length)));
  const line = (row: string[]) =>
    row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join("  ");
  console.log(table.map(line).join("\n"));
  const runs = results[0]?.runs ?? 0;
  console.log(
    `\n${runs} runs per data set (seeds 0..${runs - 1}): 60/40 split, standardised on train, 100 trees, ψ 256.` +
      " train ms: mean per run, input checks and standardisation included; score µs/row: scoreRows over the test rows." +
      ` Node ${process.version}.`,
  );
}

const { runs, datasets, json } = settings();
const results = datasets.map((dataset) => evaluate(dataset, runs));
if (json) console.log(JSON.stringify(results, null, 2));
else printTable(results);
