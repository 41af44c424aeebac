// One isolation tree grown on a subsample (Liu, Ting & Zhou 2008, algorithm 2), into flat
// arrays: random feature, random split value, until a node is alone, all-equal or at the height limit.

import type { TreeArrays } from "./forest.js";
import { averagePathLength } from "./path-length.js";
import type { Random } from "./random.js";

/** Work buffers sized for one tree, reused across trees; build() returns exact-size copies. */
export function createTreeBuilder(sampleSize: number, featureCount: number, heightLimit: number, random: Random) {
  const nodesMax = 2 * sampleSize - 1;
  const tree = {
    nodeCount: 0,
    feature: new Int32Array(nodesMax),
    value: new Float64Array(nodesMax),
    left: new Int32Array(nodesMax),
    leafSize: new Int32Array(nodesMax),
  };
  const rowIndex = new Int32Array(sampleSize);
  const features = Int32Array.from({ length: featureCount }, (_, i) => i);
  // Pending nodes: id, first and end position in rowIndex, depth. DFS keeps at most one
  // pending sibling per level, so heightLimit + 2 entries suffice.
  const stack = new Int32Array(4 * (heightLimit + 2));

  /** Grows a tree on ψ scaled rows, row-major in sample. */
  function build(sample: Float64Array): TreeArrays {
    for (let i = 0; i < sampleSize; i++) rowIndex[i] = i;
    let top = push(stack, 0, 0, 0, sampleSize, 0);
    tree.nodeCount = 1;
    while (top > 0) {
      top -= 4;
      const node = stack[top] as number;
      const start = stack[top + 1] as number;
      const end = stack[top + 2] as number;
      const depth = stack[top + 3] as number;
      const split = depth < heightLimit && end - start > 1 ? chooseSplit(sample, start, end) : null;
      if (split === null) {
        tree.feature[node] = -1;
        tree.value[node] = depth + averagePathLength(end - start);
        tree.left[node] = -1;
        tree.leafSize[node] = end - start;
        continue;
      }
      const middle = partition(sample, start, end, split.feature, split.value);
      const left = tree.nodeCount;
      tree.nodeCount += 2;
      tree.feature[node] = split.feature;
      tree.value[node] = split.value;
      tree.left[node] = left;
      tree.leafSize[node] = 0;
      top = push(stack, top, left + 1, middle, end, depth + 1);
      top = push(stack, top, left, start, middle, depth + 1);
    }
    const n = tree.nodeCount;
    return {
      feature: tree.feature.slice(0, n),
      value: tree.value.slice(0, n),
      left: tree.left.slice(0, n),
      leafSize: tree.leafSize.slice(0, n),
    };
  }

  /**
   * A feature drawn uniformly among those not constant in the node (drawing without
   * replacement and dropping constant ones), and a value uniform in [min, max); null if
   * every feature is constant.
   */
  function chooseSplit(sample: Float64Array, start: number, end: number): { feature: number; value: number } | null {
    for (let remaining = featureCount; remaining > 0; remaining--) {
      const j = random.nextInt(remaining);
      const f = features[j] as number;
      let min = Number.POSITIVE_INFINITY;
      let max = Number.NEGATIVE_INFINITY;
      for (let i = start; i < end; i++) {
        const x = sample[(rowIndex[i] as number) * featureCount + f] as number;
        if (x < min) min = x;
        if (x > max) max = x;
      }
      if (max > min) {
        let value = min + random.nextFloat() * (max - min);
        // Rounding can land on max; min keeps both sides non-empty with the ≤ test.
        if (!(value < max)) value = min;
        return { feature: f, value };
      }
      features[j] = features[remaining - 1] as number;
      features[remaining - 1] = f;
    }
    return null;
  }

  /** Moves rows with x[f] ≤ value before the others; returns the first position of the others. */
  function partition(sample: Float64Array, start: number, end: number, f: number, value: number): number {
    let i = start;
    let j = end - 1;
    while (i <= j) {
      const r = rowIndex[i] as number;
      if ((sample[r * featureCount + f] as number) <= value) {
        i++;
      } else {
        rowIndex[i] = rowIndex[j] as number;
        rowIndex[j] = r;
        j--;
      }
    }
    return i;
  }

  return { build };
}

function push(stack: Int32Array, top: number, node: number, start: number, end: number, depth: number): number {
  stack[top] = node;
  stack[top + 1] = start;
  stack[top + 2] = end;
  stack[top + 3] = depth;
  return top + 4;
}
