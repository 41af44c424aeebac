// The stored form of a forest: plain JSON with flat arrays per tree, small enough for a
// PostgreSQL jsonb column, checked in full on load so a corrupt row can never score.

import { assembleForest, type Forest, isolationForestLimits, type Scaling, type TreeArrays } from "./forest.js";
import { ModelError } from "./model-error.js";
import { averagePathLength } from "./path-length.js";
import { seedMax } from "./random.js";

export const isolationForestJsonFormat = "qenex.risk.isolation-forest";
export const isolationForestJsonVersion = 1;

export interface IsolationForestJson {
  format: typeof isolationForestJsonFormat;
  version: typeof isolationForestJsonVersion;
  featureCount: number;
  sampleSize: number;
  heightLimit: number;
  seed: number;
  contamination: number | null;
  threshold: number;
  /** Per-feature mean and deviation applied before scoring; null when not standardised. */
  scaling: { mean: number[]; std: number[] } | null;
  trees: IsolationTreeJson[];
}

/**
 * Node i is a leaf when feature[i] is −1: value[i] is then the number of training rows that
 * reached it and left[i] is −1. Otherwise rows with x[feature[i]] ≤ value[i] go to left[i],
 * the others to left[i] + 1; children always come after their parent. Node 0 is the root.
 */
export interface IsolationTreeJson {
  feature: number[];
  value: number[];
  left: number[];
}

/** What a model is besides its forest. */
export interface ModelMeta {
  seed: number;
  contamination: number | null;
  threshold: number;
}

export function forestToJson(forest: Forest, meta: ModelMeta): IsolationForestJson {
  const trees: IsolationTreeJson[] = [];
  for (let t = 0; t < forest.roots.length; t++) {
    const first = forest.roots[t] as number;
    const end = t + 1 < forest.roots.length ? (forest.roots[t + 1] as number) : forest.feature.length;
    const tree: IsolationTreeJson = { feature: [], value: [], left: [] };
    for (let i = first; i < end; i++) {
      const f = forest.feature[i] as number;
      tree.feature.push(f);
      tree.value.push(f < 0 ? (forest.leafSize[i] as number) : (forest.value[i] as number));
      tree.left.push(f < 0 ? -1 : (forest.left[i] as number) - first);
    }
    trees.push(tree);
  }
  const { scaling } = forest;
  return {
    format: isolationForestJsonFormat,
    version: isolationForestJsonVersion,
    featureCount: forest.featureCount,
    sampleSize: forest.sampleSize,
    heightLimit: forest.heightLimit,
    seed: meta.seed,
    contamination: meta.contamination,
    threshold: meta.threshold,
    scaling: scaling === null ? null : { mean: Array.from(scaling.mean), std: Array.from(scaling.std) },
    trees,
  };
}

/** Rebuilds a forest from its JSON (parsed or text), rejecting anything toJSON could not have produced. */
export function forestFromJson(input: unknown): { forest: Forest; meta: ModelMeta } {
  const json = typeof input === "string" ? parseText(input) : input;
  if (!isRecord(json)) fail("a model must be a JSON object");
  if (json.format !== isolationForestJsonFormat) fail(`format must be "${isolationForestJsonFormat}", got ${show(json.format)}`);
  if (json.version !== isolationForestJsonVersion) {
    fail(`unsupported version ${show(json.version)}; this build reads version ${isolationForestJsonVersion}`);
  }
  const limits = isolationForestLimits;
  const featureCount = integerField(json, "featureCount", 1, limits.featuresMax);
  const sampleSize = integerField(json, "sampleSize", 2, limits.sampleSizeMax);
  const heightLimit = integerField(json, "heightLimit", 1, 17);
  if (heightLimit !== Math.ceil(Math.log2(sampleSize))) fail(`heightLimit ${heightLimit} does not match sampleSize ${sampleSize}`);
  const seed = integerField(json, "seed", 0, seedMax);
  const contamination = json.contamination ?? null;
  if (contamination !== null && !(typeof contamination === "number" && contamination > 0 && contamination <= 0.5)) {
    fail(`contamination must be null or in (0, 0.5], got ${show(contamination)}`);
  }
  const threshold = json.threshold;
  if (!(typeof threshold === "number" && threshold > 0 && threshold <= 1)) fail(`threshold must be in (0, 1], got ${show(threshold)}`);
  const scaling = json.scaling === null ? null : scalingFrom(json.scaling, featureCount);
  if (!Array.isArray(json.trees) || json.trees.length < 1 || json.trees.length > limits.treesMax) {
    fail(`trees must be an array of 1..${limits.treesMax} trees`);
  }
  if (json.trees.length * sampleSize > limits.sampledRowsMax) fail(`trees × sampleSize must be at most ${limits.sampledRowsMax}`);
  const trees = json.trees.map((tree: unknown, t: number) => treeFrom(tree, t, featureCount, sampleSize, heightLimit));
  const forest = assembleForest(trees, { featureCount, sampleSize, heightLimit, scaling });
  return { forest, meta: { seed, contamination, threshold } };
}

function parseText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    fail(`not JSON: ${(error as Error).message}`);
  }
}

function scalingFrom(value: unknown, featureCount: number): Scaling {
  if (!isRecord(value)) fail("scaling must be null or { mean, std }");
  const mean = numberArray(value.mean, featureCount, "scaling.mean", (x) => Number.isFinite(x));
  const std = numberArray(value.std, featureCount, "scaling.std", (x) => Number.isFinite(x) && x > 0);
  return { mean: Float64Array.from(mean), std: Float64Array.from(std) };
}

function numberArray(value: unknown, length: number, name: string, valid: (x: number) => boolean): number[] {
  if (!Array.isArray(value) || value.length !== length) fail(`${name} must be an array of ${length} numbers`);
  value.forEach((x: unknown, i: number) => {
    if (typeof x !== "number" || !valid(x)) fail(`${name}[${i}] is invalid: ${show(x)}`);
  });
  return value as number[];
}

/** Checks one tree node by node: children after parents, each node reached once, depth ≤ limit, leaves summing to ψ. */
function treeFrom(value: unknown, t: number, featureCount: number, sampleSize: number, heightLimit: number): TreeArrays {
  if (!isRecord(value)) fail(`tree ${t} must be an object`);
  const nodesMax = 2 * sampleSize - 1;
  const { feature, value: values, left } = value;
  if (!Array.isArray(feature) || !Array.isArray(values) || !Array.isArray(left)) fail(`tree ${t}: feature, value and left must be arrays`);
  const n = feature.length;
  if (n < 1 || n > nodesMax || values.length !== n || left.length !== n) {
    fail(`tree ${t}: feature, value and left must have one equal length in 1..${nodesMax}`);
  }
  const tree: TreeArrays = { feature: new Int32Array(n), value: new Float64Array(n), left: new Int32Array(n), leafSize: new Int32Array(n) };
  const depth = new Int32Array(n).fill(-1);
  depth[0] = 0;
  let leafRows = 0;
  for (let i = 0; i < n; i++) {
    const where = `tree ${t}, node ${i}`;
    if (depth[i] === -1) fail(`${where} is not reached from the root`);
    const f = feature[i];
    const v = values[i];
    const l = left[i];
    if (!Number.isInteger(f) || f < -1 || f >= featureCount) fail(`${where}: feature must be -1..${featureCount - 1}, got ${show(f)}`);
    const d = depth[i] as number;
    tree.feature[i] = f;
    if (f === -1) {
      if (!Number.isInteger(v) || v < 1 || v > sampleSize) fail(`${where}: leaf size must be 1..${sampleSize}, got ${show(v)}`);
      if (l !== -1) fail(`${where}: a leaf's left must be -1, got ${show(l)}`);
      tree.value[i] = d + averagePathLength(v);
      tree.left[i] = -1;
      tree.leafSize[i] = v;
      leafRows += v;
      continue;
    }
    if (typeof v !== "number" || !Number.isFinite(v)) fail(`${where}: split value must be a finite number, got ${show(v)}`);
    if (!Number.isInteger(l) || l <= i || l + 1 >= n)
      fail(`${where}: left must be an index after the node with a right sibling, got ${show(l)}`);
    if (d >= heightLimit) fail(`${where}: splits below the height limit ${heightLimit}`);
    if (depth[l] !== -1 || depth[l + 1] !== -1) fail(`${where}: child ${l} or ${l + 1} already has a parent`);
    depth[l] = d + 1;
    depth[l + 1] = d + 1;
    tree.value[i] = v;
    tree.left[i] = l;
  }
  if (leafRows !== sampleSize) fail(`tree ${t}: leaves hold ${leafRows} rows, sampleSize is ${sampleSize}`);
  return tree;
}

function integerField(json: Record<string, unknown>, name: string, min: number, max: number): number {
  const value = json[name];
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) {
    fail(`${name} must be an integer in ${min}..${max}, got ${show(value)}`);
  }
  return value as number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function fail(message: string): never {
  throw new ModelError("invalid_model", `invalid isolation forest: ${message}`);
}
