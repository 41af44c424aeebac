// The trained forest as scoring reads it, and the scoring hot path: shared by training,
// scoring and loading from JSON.

import { averagePathLength } from "./path-length.js";

/** Limits on what a model may be trained on, score or be loaded from; larger inputs are rejected. */
export const isolationForestLimits = {
  treesMax: 1000,
  sampleSizeMax: 100_000,
  featuresMax: 1000,
  trainingRowsMax: 1_000_000,
  scoringRowsMax: 1_000_000,
  /** trees × ψ: bounds training time and the forest's size (< 2 nodes per sampled row, 20 bytes a node). */
  sampledRowsMax: 10_000_000,
} as const;

/** Every tree's nodes concatenated into one set of typed arrays; child indices are global. */
export interface Forest {
  featureCount: number;
  /** ψ actually used. */
  sampleSize: number;
  heightLimit: number;
  /** c(ψ), the normaliser of the score. */
  sampleAveragePathLength: number;
  /** Index of each tree's root node. */
  roots: Int32Array;
  /** Split feature of each node, −1 for a leaf. */
  feature: Int32Array;
  /** Split value of a split node; depth + c(leaf size) for a leaf, so scoring adds it directly. */
  value: Float64Array;
  /** Left child of a split node (the right child is next to it); −1 for a leaf. */
  left: Int32Array;
  /** Training rows that reached each leaf (0 for split nodes): kept only for toJSON. */
  leafSize: Int32Array;
  scaling: Scaling | null;
}

export interface Scaling {
  mean: Float64Array;
  std: Float64Array;
}

/** One tree's nodes with tree-local child indices, as a builder or the JSON loader produces them. */
export interface TreeArrays {
  feature: Int32Array;
  /** Split value, or depth + c(leaf size) for a leaf. */
  value: Float64Array;
  left: Int32Array;
  leafSize: Int32Array;
}

/** Concatenates trees into one forest, turning child indices global. */
export function assembleForest(
  trees: readonly TreeArrays[],
  shape: Pick<Forest, "featureCount" | "sampleSize" | "heightLimit" | "scaling">,
): Forest {
  const nodeCount = trees.reduce((sum, tree) => sum + tree.feature.length, 0);
  const forest: Forest = {
    ...shape,
    sampleAveragePathLength: averagePathLength(shape.sampleSize),
    roots: new Int32Array(trees.length),
    feature: new Int32Array(nodeCount),
    value: new Float64Array(nodeCount),
    left: new Int32Array(nodeCount),
    leafSize: new Int32Array(nodeCount),
  };
  let offset = 0;
  trees.forEach((tree, t) => {
    forest.roots[t] = offset;
    forest.feature.set(tree.feature, offset);
    forest.value.set(tree.value, offset);
    forest.left.set(
      tree.left.map((l) => (l < 0 ? -1 : l + offset)),
      offset,
    );
    forest.leafSize.set(tree.leafSize, offset);
    offset += tree.feature.length;
  });
  return forest;
}

export function scaled(row: ArrayLike<number>, c: number, scaling: Scaling | null): number {
  const x = row[c] as number;
  return scaling === null ? x : (x - (scaling.mean[c] as number)) / (scaling.std[c] as number);
}

/** Σ over trees of h(x) for an already scaled row: the hot path. */
function pathLengthSum(forest: Forest, x: ArrayLike<number>): number {
  const { roots, feature, value, left } = forest;
  let sum = 0;
  for (let t = 0; t < roots.length; t++) {
    let node = roots[t] as number;
    let f = feature[node] as number;
    while (f >= 0) {
      node = (x[f] as number) <= (value[node] as number) ? (left[node] as number) : (left[node] as number) + 1;
      f = feature[node] as number;
    }
    sum += value[node] as number;
  }
  return sum;
}

/** s(x) = 2^(−E[h(x)] / c(ψ)) of a checked row; scratch receives its scaled copy, so nothing is allocated. */
export function scoreChecked(forest: Forest, row: ArrayLike<number>, scratch: Float64Array): number {
  let x: ArrayLike<number> = row;
  if (forest.scaling !== null) {
    for (let c = 0; c < forest.featureCount; c++) scratch[c] = scaled(row, c, forest.scaling);
    x = scratch;
  }
  const meanPathLength = pathLengthSum(forest, x) / forest.roots.length;
  return 2 ** (-meanPathLength / forest.sampleAveragePathLength);
}
