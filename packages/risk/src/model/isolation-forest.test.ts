import { describe, expect, it } from "vitest";
import { type IsolationForestJson, isolationForestFromJson, isolationForestLimits, trainIsolationForest } from "./isolation-forest.js";
import { rocAuc } from "./metrics.js";
import { ModelError } from "./model-error.js";
import { createRandom } from "./random.js";

/** 1,000 points of a standard 2-D Gaussian (seeded Box–Muller) and 50 points scattered on a ring of radius 6..10. */
function gaussianWithOutliers(seed: number): { rows: number[][]; labels: (0 | 1)[] } {
  const random = createRandom(seed);
  const rows: number[][] = [];
  const labels: (0 | 1)[] = [];
  for (let i = 0; i < 1000; i++) {
    const radius = Math.sqrt(-2 * Math.log(1 - random.nextFloat()));
    const angle = 2 * Math.PI * random.nextFloat();
    rows.push([radius * Math.cos(angle), radius * Math.sin(angle)]);
    labels.push(0);
  }
  for (let i = 0; i < 50; i++) {
    const radius = 6 + 4 * random.nextFloat();
    const angle = 2 * Math.PI * random.nextFloat();
    rows.push([radius * Math.cos(angle), radius * Math.sin(angle)]);
    labels.push(1);
  }
  return { rows, labels };
}

const data = gaussianWithOutliers(2008);

function maxDepth(tree: IsolationForestJson["trees"][number]): number {
  const depth = [0];
  let max = 0;
  tree.feature.forEach((f, i) => {
    const d = depth[i] as number;
    max = Math.max(max, d);
    const left = tree.left[i] as number;
    if (f >= 0) depth[left] = depth[left + 1] = d + 1;
  });
  return max;
}

function errorOf(run: () => unknown): ModelError {
  try {
    run();
  } catch (error) {
    if (error instanceof ModelError) return error;
    throw error;
  }
  throw new Error("expected a ModelError");
}

describe("trainIsolationForest", () => {
  it("ranks far outliers above a Gaussian cloud (ROC-AUC ≥ 0.95)", () => {
    const model = trainIsolationForest(data.rows, { seed: 1 });
    const scores = model.scoreRows(data.rows);
    expect(rocAuc(scores, data.labels)).toBeGreaterThanOrEqual(0.95);
    expect(model.score([0, 0])).toBeLessThan(0.5);
    expect(model.score([9, -9])).toBeGreaterThan(0.6);
  });

  it("gives identical scores for the same seed and slightly different ones for another seed", () => {
    const first = trainIsolationForest(data.rows, { seed: 7 }).scoreRows(data.rows);
    const again = trainIsolationForest(data.rows, { seed: 7 }).scoreRows(data.rows);
    const other = trainIsolationForest(data.rows, { seed: 8 }).scoreRows(data.rows);
    expect(again).toEqual(first);
    const largestChange = Math.max(...first.map((s, i) => Math.abs(s - (other[i] as number))));
    expect(largestChange).toBeGreaterThan(0);
    expect(largestChange).toBeLessThan(0.1);
    expect(rocAuc(other, data.labels)).toBeGreaterThanOrEqual(0.95);
  });

  it("uses the defaults of the paper: 100 trees, ψ = 256, height limit ⌈log2 ψ⌉ = 8", () => {
    const model = trainIsolationForest(data.rows);
    expect([model.treeCount, model.sampleSize, model.heightLimit, model.seed]).toEqual([100, 256, 8, 0]);
    const trees = model.toJSON().trees;
    expect(Math.max(...trees.map(maxDepth))).toBe(8);
  });

  it("caps ψ at the training rows and stops at the height limit ⌈log2 ψ⌉", () => {
    const model = trainIsolationForest(data.rows.slice(0, 100), { sampleSize: 256 });
    expect([model.sampleSize, model.heightLimit]).toEqual([100, 7]);
    expect(Math.max(...model.toJSON().trees.map(maxDepth))).toBeLessThanOrEqual(7);
  });

  it("makes a node where every feature is constant a leaf: identical rows all score 0.5", () => {
    const model = trainIsolationForest(Array.from({ length: 300 }, () => [1, 2, 3]));
    const json = model.toJSON();
    expect(json.trees.every((tree) => tree.feature.length === 1 && tree.value[0] === 256)).toBe(true);
    // h = c(ψ) in every tree, so s = 2^−1 up to the rounding of averaging 100 equal terms.
    expect(model.score([1, 2, 3])).toBeCloseTo(0.5, 12);
    expect(model.score([100, -5, 0])).toBeCloseTo(0.5, 12);
  });

  it("splits only on features that vary in the node", () => {
    const rows = Array.from({ length: 200 }, (_, i) => [5, i, 5]);
    const features = trainIsolationForest(rows)
      .toJSON()
      .trees.flatMap((tree) => tree.feature);
    expect(new Set(features)).toEqual(new Set([-1, 1]));
  });
});

describe("threshold and predict", () => {
  it("flags about the contamination share of the training rows", () => {
    const model = trainIsolationForest(data.rows, { contamination: 0.05 });
    const scores = model.scoreRows(data.rows);
    const flagged = data.rows.filter((row) => model.predict(row)).length;
    expect(flagged).toBe(scores.filter((s) => s >= model.threshold).length);
    // The threshold interpolates between the order statistics at (n − 1)·0.95 = 996.55, so
    // without ties exactly n − 997 = 53 rows (5.05%) score at or above it; tied scores
    // (near-duplicate points sharing every leaf) can only add a few, hence 52.5..60.
    expect(flagged).toBeGreaterThanOrEqual(Math.floor(0.05 * data.rows.length));
    expect(flagged).toBeLessThanOrEqual(60);
    expect(model.contamination).toBe(0.05);
  });

  it("uses 0.5 when no contamination is given", () => {
    const model = trainIsolationForest(data.rows);
    expect([model.threshold, model.contamination]).toEqual([0.5, null]);
    expect(model.predict([0, 0])).toBe(false);
    expect(model.predict([9, -9])).toBe(true);
  });

  it("rejects a contamination outside (0, 0.5]", () => {
    expect(errorOf(() => trainIsolationForest(data.rows, { contamination: 0 })).message).toMatch(/contamination must be in \(0, 0.5\]/);
    expect(errorOf(() => trainIsolationForest(data.rows, { contamination: 0.6 })).code).toBe("invalid_input");
  });
});

describe("standardisation", () => {
  it("keeps the training mean and population deviation, with deviation 1 for a constant feature", () => {
    const model = trainIsolationForest(
      [
        [1, 5],
        [3, 5],
      ],
      { standardize: true },
    );
    expect(model.toJSON().scaling).toEqual({ mean: [2, 5], std: [1, 1] });
  });

  it("makes scores independent of each feature's units", () => {
    const inOtherUnits = data.rows.map(([x, y]) => [1000 * (x as number) + 5, (y as number) / 100 - 3]);
    const scores = trainIsolationForest(data.rows, { standardize: true }).scoreRows(data.rows);
    const rescaled = trainIsolationForest(inOtherUnits, { standardize: true }).scoreRows(inOtherUnits);
    const largestChange = Math.max(...rescaled.map((s, i) => Math.abs(s - (scores[i] as number))));
    expect(largestChange).toBeLessThan(1e-9);
  });
});

describe("toJSON and isolationForestFromJson", () => {
  it("round-trips through JSON text to identical scores and an identical stored form", () => {
    const model = trainIsolationForest(data.rows, { seed: 3, contamination: 0.05, standardize: true });
    const text = JSON.stringify(model.toJSON());
    const loaded = isolationForestFromJson(text);
    expect(loaded.scoreRows(data.rows)).toEqual(model.scoreRows(data.rows));
    expect([loaded.threshold, loaded.contamination, loaded.seed]).toEqual([model.threshold, 0.05, 3]);
    expect(JSON.stringify(loaded.toJSON())).toBe(text);
    expect(isolationForestFromJson(JSON.parse(text)).score([4, 4])).toBe(model.score([4, 4]));
  });

  const stored = (): IsolationForestJson => trainIsolationForest(data.rows.slice(0, 64), { trees: 3 }).toJSON();
  const loadError = (change: (json: IsolationForestJson) => void): string => {
    const json = stored();
    change(json);
    const error = errorOf(() => isolationForestFromJson(json));
    expect(error.code).toBe("invalid_model");
    return error.message;
  };

  it("rejects other formats, versions and malformed fields with a message naming the fault", () => {
    expect(errorOf(() => isolationForestFromJson("{")).message).toMatch(/not JSON/);
    expect(loadError((json) => Object.assign(json, { version: 2 }))).toMatch(/unsupported version 2; this build reads version 1/);
    expect(loadError((json) => Object.assign(json, { format: "other" }))).toMatch(/format must be/);
    expect(loadError((json) => Object.assign(json, { featureCount: 1001 }))).toMatch(/featureCount must be an integer in 1..1000/);
    expect(loadError((json) => Object.assign(json, { heightLimit: 9 }))).toMatch(/heightLimit 9 does not match sampleSize 64/);
    expect(loadError((json) => Object.assign(json, { threshold: 1.5 }))).toMatch(/threshold must be in/);
    expect(loadError((json) => Object.assign(json, { scaling: { mean: [0], std: [1, 1] } }))).toMatch(/scaling.mean must be an array of 2/);
    expect(loadError((json) => Object.assign(json, { trees: [] }))).toMatch(/trees must be an array of 1..1000/);
  });

  it("rejects trees whose arrays disagree or whose links do not form a tree", () => {
    expect(loadError((json) => json.trees[1]?.value.pop())).toMatch(/tree 1: feature, value and left must have one equal length/);
    expect(
      loadError((json) => {
        const tree = json.trees[0] as IsolationForestJson["trees"][number];
        tree.left[0] = 0;
      }),
    ).toMatch(/tree 0, node 0: left must be an index after the node/);
    expect(
      loadError((json) => {
        const tree = json.trees[2] as IsolationForestJson["trees"][number];
        const leaf = tree.feature.indexOf(-1);
        tree.value[leaf] = (tree.value[leaf] as number) + 1;
      }),
    ).toMatch(/tree 2: leaves hold 65 rows, sampleSize is 64/);
    expect(
      loadError((json) => {
        const tree = json.trees[0] as IsolationForestJson["trees"][number];
        tree.feature[1] = 7;
      }),
    ).toMatch(/tree 0, node 1: feature must be -1..1, got 7/);
  });
});

describe("input limits and validation", () => {
  it("names the row and column of a NaN or an infinity", () => {
    const rows = data.rows.map((row) => [...row]);
    (rows[3] as number[])[1] = Number.NaN;
    expect(errorOf(() => trainIsolationForest(rows)).message).toBe("row 3, column 1: NaN is not a finite number");
    const model = trainIsolationForest(data.rows);
    expect(errorOf(() => model.score([0, Number.POSITIVE_INFINITY])).message).toBe("row, column 1: Infinity is not a finite number");
    expect(errorOf(() => model.scoreRows([[0, 0], [1]])).message).toBe("row 1 has 1 features, the model has 2");
  });

  it("rejects sizes beyond the limits as limit_exceeded", () => {
    const limits = isolationForestLimits;
    expect(errorOf(() => trainIsolationForest(data.rows, { trees: limits.treesMax + 1 })).code).toBe("limit_exceeded");
    expect(errorOf(() => trainIsolationForest(data.rows, { sampleSize: limits.sampleSizeMax + 1 })).code).toBe("limit_exceeded");
    const wide = Array.from({ length: 3 }, () => new Array<number>(limits.featuresMax + 1).fill(0));
    expect(errorOf(() => trainIsolationForest(wide)).message).toMatch(/1..1000 features, got 1001/);
    const tall = new Array<number[]>(limits.trainingRowsMax + 1).fill([0, 0]);
    expect(errorOf(() => trainIsolationForest(tall)).message).toMatch(/at most 1000000 rows/);
    expect(errorOf(() => trainIsolationForest([[1, 2]])).message).toMatch(/at least 2 rows/);
    const manyRows = Array.from({ length: 10_001 }, (_, i) => [i]);
    expect(errorOf(() => trainIsolationForest(manyRows, { trees: 1000, sampleSize: 10_001 })).message).toMatch(
      /trees × sampleSize must be at most 10000000, got 10001000/,
    );
  });
});
