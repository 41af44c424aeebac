// The normalising path length of Isolation Forest (Liu, Ting & Zhou 2008, section 2): c(n) is
// the mean depth of an unsuccessful search in a binary search tree of n points.

/** Euler–Mascheroni constant γ. */
export const eulerMascheroni = 0.5772156649015329;

/** H(i) is summed exactly up to here; above it the asymptotic series is used. */
export const harmonicExactMax = 64;

/**
 * The harmonic number H(i) = 1 + 1/2 + … + 1/i; H(0) = 0.
 * Exact sum for i ≤ 64; above, the paper's ln(i) + γ plus the Euler–Maclaurin terms
 * 1/(2i) − 1/(12i²) + 1/(120i⁴), whose remainder (< 1/(252 i⁶) < 1e-12 at i = 65) keeps
 * the switch invisible: ln(i) + γ alone is off by ≈ 1/(2i), 3.5e-8 relative at i = 10⁶.
 */
export function harmonic(i: number): number {
  if (!Number.isInteger(i) || i < 0) throw new RangeError(`harmonic number of a non-negative integer, got ${i}`);
  if (i <= harmonicExactMax) {
    let sum = 0;
    // Smallest terms first, for the last bit of precision.
    for (let k = i; k >= 1; k--) sum += 1 / k;
    return sum;
  }
  const inverse = 1 / i;
  const inverse2 = inverse * inverse;
  return Math.log(i) + eulerMascheroni + inverse / 2 - inverse2 / 12 + (inverse2 * inverse2) / 120;
}

/** c(n) = 2H(n−1) − 2(n−1)/n for n > 2; c(2) = 1; c(n) = 0 for n ≤ 1. */
export function averagePathLength(n: number): number {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`average path length of a non-negative integer, got ${n}`);
  if (n <= 1) return 0;
  if (n === 2) return 1;
  return 2 * harmonic(n - 1) - (2 * (n - 1)) / n;
}
