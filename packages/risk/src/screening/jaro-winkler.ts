// Jaro and Jaro–Winkler similarity of two strings (UTF-16 code units), as defined by Winkler (1990):
// https://en.wikipedia.org/wiki/Jaro%E2%80%93Winkler_distance

/** Winkler's standard prefix scale and the longest common prefix it rewards. */
export const prefixScaleDefault = 0.1;
export const prefixLengthMax = 4;

// Reused between calls so scoring thousands of token pairs per query allocates nothing.
let matchedA = new Uint8Array(64);
let matchedB = new Uint8Array(64);

function scratch(lengthA: number, lengthB: number): void {
  if (matchedA.length < lengthA) matchedA = new Uint8Array(lengthA * 2);
  if (matchedB.length < lengthB) matchedB = new Uint8Array(lengthB * 2);
  matchedA.fill(0, 0, lengthA);
  matchedB.fill(0, 0, lengthB);
}

/** Jaro similarity in [0, 1]: matching characters within the window, less half the transpositions. */
export function jaro(a: string, b: string): number {
  if (a === b) return 1;
  const lengthA = a.length;
  const lengthB = b.length;
  if (lengthA === 0 || lengthB === 0) return 0;
  const window = Math.max(0, Math.floor(Math.max(lengthA, lengthB) / 2) - 1);
  scratch(lengthA, lengthB);
  let matches = 0;
  for (let i = 0; i < lengthA; i++) {
    const from = Math.max(0, i - window);
    const to = Math.min(lengthB - 1, i + window);
    const code = a.charCodeAt(i);
    for (let j = from; j <= to; j++) {
      if (matchedB[j] === 0 && b.charCodeAt(j) === code) {
        matchedA[i] = 1;
        matchedB[j] = 1;
        matches++;
        break;
      }
    }
  }
  if (matches === 0) return 0;
  let halfTranspositions = 0;
  let j = 0;
  for (let i = 0; i < lengthA; i++) {
    if (matchedA[i] === 0) continue;
    while (matchedB[j] === 0) j++;
    if (a.charCodeAt(i) !== b.charCodeAt(j)) halfTranspositions++;
    j++;
  }
  const transpositions = halfTranspositions / 2;
  return (matches / lengthA + matches / lengthB + (matches - transpositions) / matches) / 3;
}

/** Length of the common prefix, at most `prefixLengthMax`. */
export function commonPrefixLength(a: string, b: string): number {
  const limit = Math.min(prefixLengthMax, a.length, b.length);
  let length = 0;
  while (length < limit && a.charCodeAt(length) === b.charCodeAt(length)) length++;
  return length;
}

/**
 * Jaro–Winkler: jaro + ℓ·p·(1 − jaro), ℓ the common prefix (≤ 4), p the prefix scale (0.1).
 * The prefix bonus applies at every Jaro value (no 0.7 boost threshold), as in the usual modern definition.
 */
export function jaroWinkler(a: string, b: string, prefixScale = prefixScaleDefault): number {
  const similarity = jaro(a, b);
  if (similarity === 1) return 1;
  return similarity + commonPrefixLength(a, b) * prefixScale * (1 - similarity);
}
