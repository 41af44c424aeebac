// How similar two names are, given how similar their tokens are: word order does not matter, each
// query token pairs with at most one list token, and a token one side lacks costs little.

export type NameScoreWeights = {
  /** Weight of a token the other name lacks, per character, against 1 for a paired token's characters. */
  unpairedTokenWeight: number;
  /** Factor when only one token pairs although a name has more ("Vladimir" vs "Vladimir Putin"). */
  singlePairFactor: number;
};

export const nameScoreWeightsDefault: NameScoreWeights = { unpairedTokenWeight: 0.1, singlePairFactor: 0.85 };

let similarities = new Float64Array(64);
let usedRows = new Uint8Array(8);
let usedColumns = new Uint8Array(8);

function scratch(rows: number, columns: number): void {
  if (similarities.length < rows * columns) similarities = new Float64Array(rows * columns * 2);
  if (usedRows.length < rows) usedRows = new Uint8Array(rows * 2);
  if (usedColumns.length < columns) usedColumns = new Uint8Array(columns * 2);
  usedRows.fill(0, 0, rows);
  usedColumns.fill(0, 0, columns);
}

/**
 * Σ(w·s) / (Σw + λ·Σw_unpaired) over token pairs chosen greedily, best similarity first, each token
 * used once; w is the longer token's length of a pair, s its similarity, λ `unpairedTokenWeight`, and
 * the unpaired tokens are what the longer name has left over. So reordered names score 1, a missing
 * middle name of 13 letters next to 13 paired letters costs 1.3/14.3 ≈ 0.09, and the score never
 * exceeds the length-weighted mean of the pairs' similarities.
 */
export function scoreNameTokens(
  query: readonly string[],
  candidate: readonly string[],
  similarity: (queryIndex: number, candidateIndex: number) => number,
  weights: NameScoreWeights = nameScoreWeightsDefault,
): number {
  const rows = query.length;
  const columns = candidate.length;
  if (rows === 0 || columns === 0) return 0;
  scratch(rows, columns);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < columns; j++) similarities[i * columns + j] = similarity(i, j);
  }
  const pairs = Math.min(rows, columns);
  let weighted = 0;
  let weightSum = 0;
  for (let pair = 0; pair < pairs; pair++) {
    let best = -1;
    let bestRow = 0;
    let bestColumn = 0;
    for (let i = 0; i < rows; i++) {
      if (usedRows[i] === 1) continue;
      for (let j = 0; j < columns; j++) {
        const value = similarities[i * columns + j] ?? 0;
        if (usedColumns[j] === 0 && value > best) {
          best = value;
          bestRow = i;
          bestColumn = j;
        }
      }
    }
    usedRows[bestRow] = 1;
    usedColumns[bestColumn] = 1;
    const weight = Math.max(query[bestRow]?.length ?? 0, candidate[bestColumn]?.length ?? 0);
    weighted += weight * best;
    weightSum += weight;
  }
  for (let i = 0; i < rows; i++) if (usedRows[i] === 0) weightSum += weights.unpairedTokenWeight * (query[i]?.length ?? 0);
  for (let j = 0; j < columns; j++) {
    if (usedColumns[j] === 0) weightSum += weights.unpairedTokenWeight * (candidate[j]?.length ?? 0);
  }
  const score = weighted / weightSum;
  return pairs === 1 && Math.max(rows, columns) > 1 ? score * weights.singlePairFactor : score;
}
