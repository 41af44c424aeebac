// Isolation Forest (Liu, Ting & Zhou 2008, ICDM), with scikit-learn's contamination threshold.
// Trees live in flat typed arrays shared by the whole forest, so scoring a row is a few hundred
// array reads and no allocation.

import { assembleForest, type Forest, isolationForestLimits, type Scaling, scaled, scoreChecked, type TreeArrays } from "./forest.js";
import { forestFromJson, forestToJson, type IsolationForestJson, type ModelMeta } from "./isolation-forest-json.js";
import { createTreeBuilder } from "./isolation-tree.js";
import { ModelError } from "./model-error.js";
import { createRandom, type Random, seedMax } from "./random.js";

export type { IsolationForestJson, IsolationTreeJson } from "./isolation-forest-json.js";
export { isolationForestLimits };

export const isolationForestDefaults = { trees: 100, sampleSize: 256, seed: 0 } as const;

/** Used when no contamination is given: scikit-learn's "auto" offset, the paper's s = 0.5 boundary. */
export const defaultScoreThreshold = 0.5;

export interface IsolationForestOptions {
  /** Number of trees t; 1..1000, default 100. */
  trees?: number;
  /** Rows per tree ψ, capped at the training row count; 2..100,000, default 256. */
  sampleSize?: number;
  /** Seed of the PRNG that draws subsamples and splits; 0..2^32−1, default 0. */
  seed?: number;
  /** Expected share of outliers in the training rows, in (0, 0.5]; sets the threshold. */
  contamination?: number;
  /** Standardise each feature with the training rows' mean and population deviation. */
  standardize?: boolean;
}

/** A trained forest: pure, immutable, safe to share. */
export interface IsolationForest {
  readonly featureCount: number;
  readonly treeCount: number;
  /** ψ actually used: min(sampleSize, training rows). */
  readonly sampleSize: number;
  /** ⌈log2 ψ⌉. */
  readonly heightLimit: number;
  readonly seed: number;
  /** null when the threshold is the default 0.5. */
  readonly contamination: number | null;
  /** predict() flags a row whose score is ≥ this. */
  readonly threshold: number;
  /** Anomaly score s(x) = 2^(−E[h(x)] / c(ψ)) in (0, 1]: near 1 is anomalous, well below 0.5 normal. */
  score(row: ArrayLike<number>): number;
  scoreRows(rows: ReadonlyArray<ArrayLike<number>>): Float64Array;
  predict(row: ArrayLike<number>): boolean;
  toJSON(): IsolationForestJson;
}

export function trainIsolationForest(rows: ReadonlyArray<ArrayLike<number>>, options: IsolationForestOptions = {}): IsolationForest {
  const settings = checkOptions(options);
  const featureCount = checkRows(rows, isolationForestLimits.trainingRowsMax, null, 2);
  const scaling = settings.standardize ? fitScaling(rows, featureCount) : null;
  const sampleSize = Math.min(settings.sampleSize, rows.length);
  const heightLimit = Math.ceil(Math.log2(sampleSize));
  if (settings.trees * sampleSize > isolationForestLimits.sampledRowsMax) {
    throw new ModelError(
      "limit_exceeded",
      `trees × sampleSize must be at most ${isolationForestLimits.sampledRowsMax}, got ${settings.trees * sampleSize}`,
    );
  }
  const trees = growTrees(rows, featureCount, scaling, sampleSize, heightLimit, settings.trees, createRandom(settings.seed));
  const forest = assembleForest(trees, { featureCount, sampleSize, heightLimit, scaling });
  let threshold = defaultScoreThreshold;
  if (settings.contamination !== null) {
    threshold = upperQuantile(scoreAll(forest, rows), 1 - settings.contamination);
  }
  return createModel(forest, { seed: settings.seed, contamination: settings.contamination, threshold });
}

/** Rebuilds a model stored with toJSON() (the object or its JSON text); throws ModelError "invalid_model" if it is not one. */
export function isolationForestFromJson(json: unknown): IsolationForest {
  const { forest, meta } = forestFromJson(json);
  return createModel(forest, meta);
}

interface Settings {
  trees: number;
  sampleSize: number;
  seed: number;
  contamination: number | null;
  standardize: boolean;
}

function checkOptions(options: IsolationForestOptions): Settings {
  const trees = options.trees ?? isolationForestDefaults.trees;
  const sampleSize = options.sampleSize ?? isolationForestDefaults.sampleSize;
  const seed = options.seed ?? isolationForestDefaults.seed;
  const contamination = options.contamination ?? null;
  checkInteger("trees", trees, 1, isolationForestLimits.treesMax);
  checkInteger("sampleSize", sampleSize, 2, isolationForestLimits.sampleSizeMax);
  checkInteger("seed", seed, 0, seedMax);
  if (contamination !== null && !(contamination > 0 && contamination <= 0.5)) {
    throw new ModelError("invalid_input", `contamination must be in (0, 0.5], got ${contamination}`);
  }
  return { trees, sampleSize, seed, contamination, standardize: options.standardize ?? false };
}

function checkInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value)) throw new ModelError("invalid_input", `${name} must be an integer, got ${value}`);
  if (value < min || value > max) {
    const code = value > max ? "limit_exceeded" : "invalid_input";
    throw new ModelError(code, `${name} must be in ${min}..${max}, got ${value}`);
  }
}

/** Checks shape, limits and finiteness; returns the feature count. */
function checkRows(rows: ReadonlyArray<ArrayLike<number>>, rowsMax: number, featureCount: number | null, rowsMin: number): number {
  if (rows.length < rowsMin) throw new ModelError("invalid_input", `at least ${rowsMin} rows are needed, got ${rows.length}`);
  if (rows.length > rowsMax) throw new ModelError("limit_exceeded", `at most ${rowsMax} rows, got ${rows.length}`);
  const width = featureCount ?? rows[0]?.length ?? 0;
  if (width < 1 || width > isolationForestLimits.featuresMax) {
    const code = width > isolationForestLimits.featuresMax ? "limit_exceeded" : "invalid_input";
    throw new ModelError(code, `rows must have 1..${isolationForestLimits.featuresMax} features, got ${width}`);
  }
  for (let r = 0; r < rows.length; r++) checkRow(rows[r] as ArrayLike<number>, width, r);
  return width;
}

function checkRow(row: ArrayLike<number>, featureCount: number, rowIndex: number | null): void {
  const where = rowIndex === null ? "row" : `row ${rowIndex}`;
  if (row?.length !== featureCount) {
    throw new ModelError("invalid_input", `${where} has ${row?.length} features, the model has ${featureCount}`);
  }
  for (let c = 0; c < featureCount; c++) {
    const x = row[c];
    if (typeof x !== "number" || !Number.isFinite(x)) {
      throw new ModelError("invalid_input", `${where}, column ${c}: ${String(x)} is not a finite number`);
    }
  }
}

/** Mean and population deviation (as scikit-learn's StandardScaler); a constant feature gets deviation 1. */
function fitScaling(rows: ReadonlyArray<ArrayLike<number>>, featureCount: number): Scaling {
  const mean = new Float64Array(featureCount);
  const std = new Float64Array(featureCount);
  for (let c = 0; c < featureCount; c++) {
    let sum = 0;
    for (const row of rows) sum += row[c] as number;
    const columnMean = sum / rows.length;
    // Two passes, not Σx² − n·mean², which cancels catastrophically for large offsets.
    let squares = 0;
    for (const row of rows) squares += ((row[c] as number) - columnMean) ** 2;
    const deviation = Math.sqrt(squares / rows.length);
    if (!Number.isFinite(deviation) || !Number.isFinite(columnMean)) {
      throw new ModelError("invalid_input", `column ${c}: values too large to standardise`);
    }
    mean[c] = columnMean;
    std[c] = deviation === 0 ? 1 : deviation;
  }
  return { mean, std };
}

function growTrees(
  rows: ReadonlyArray<ArrayLike<number>>,
  featureCount: number,
  scaling: Scaling | null,
  sampleSize: number,
  heightLimit: number,
  treeCount: number,
  random: Random,
): TreeArrays[] {
  const builder = createTreeBuilder(sampleSize, featureCount, heightLimit, random);
  const rowOrder = Int32Array.from({ length: rows.length }, (_, i) => i);
  const sample = new Float64Array(sampleSize * featureCount);
  const trees: TreeArrays[] = [];
  for (let t = 0; t < treeCount; t++) {
    drawSample(rows, rowOrder, sampleSize, featureCount, scaling, random, sample);
    trees.push(builder.build(sample));
  }
  return trees;
}

/** ψ rows without replacement (a partial Fisher–Yates over a running permutation), scaled, row-major. */
function drawSample(
  rows: ReadonlyArray<ArrayLike<number>>,
  rowOrder: Int32Array,
  sampleSize: number,
  featureCount: number,
  scaling: Scaling | null,
  random: Random,
  out: Float64Array,
): void {
  for (let i = 0; i < sampleSize; i++) {
    const j = i + random.nextInt(rowOrder.length - i);
    const picked = rowOrder[j] as number;
    rowOrder[j] = rowOrder[i] as number;
    rowOrder[i] = picked;
    const row = rows[picked] as ArrayLike<number>;
    for (let c = 0; c < featureCount; c++) out[i * featureCount + c] = scaled(row, c, scaling);
  }
}

function scoreAll(forest: Forest, rows: ReadonlyArray<ArrayLike<number>>): Float64Array {
  const scratch = new Float64Array(forest.featureCount);
  const scores = new Float64Array(rows.length);
  for (let r = 0; r < rows.length; r++) scores[r] = scoreChecked(forest, rows[r] as ArrayLike<number>, scratch);
  return scores;
}

/**
 * The q-quantile with linear interpolation between order statistics (Hyndman & Fan type 7,
 * numpy's default, which scikit-learn's offset_ uses): position (n − 1)·q in sorted order.
 */
export function upperQuantile(values: Float64Array, q: number): number {
  if (values.length === 0) throw new ModelError("invalid_input", "quantile of no values");
  const sorted = values.slice().sort();
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  const low = sorted[below] as number;
  const high = sorted[above] as number;
  return low + (high - low) * (position - below);
}

function createModel(forest: Forest, meta: ModelMeta): IsolationForest {
  const scratch = new Float64Array(forest.featureCount);
  const score = (row: ArrayLike<number>): number => {
    checkRow(row, forest.featureCount, null);
    return scoreChecked(forest, row, scratch);
  };
  return {
    featureCount: forest.featureCount,
    treeCount: forest.roots.length,
    sampleSize: forest.sampleSize,
    heightLimit: forest.heightLimit,
    ...meta,
    score,
    scoreRows(rows) {
      checkRows(rows, isolationForestLimits.scoringRowsMax, forest.featureCount, 0);
      return scoreAll(forest, rows);
    },
    predict: (row) => score(row) >= meta.threshold,
    toJSON: () => forestToJson(forest, meta),
  };
}
