import { describe, expect, it } from "vitest";
import { averagePathLength, harmonic, harmonicExactMax } from "./path-length.js";

function directHarmonic(n: number): number {
  let sum = 0;
  for (let k = n; k >= 1; k--) sum += 1 / k;
  return sum;
}

describe("harmonic", () => {
  it("gives the exact small values", () => {
    expect(harmonic(0)).toBe(0);
    expect(harmonic(1)).toBe(1);
    expect(harmonic(2)).toBe(1.5);
    expect(harmonic(3)).toBeCloseTo(11 / 6, 15);
    expect(harmonic(10)).toBeCloseTo(7381 / 2520, 15);
  });

  it("agrees with a direct sum across the switch to the asymptotic series and far beyond", () => {
    for (const n of [harmonicExactMax, harmonicExactMax + 1, 255, 1000, 1_000_000, 10_000_000]) {
      const direct = directHarmonic(n);
      expect(Math.abs(harmonic(n) - direct) / direct).toBeLessThan(1e-9);
    }
  });
});

describe("averagePathLength", () => {
  it("is 0 up to one point and 1 for two", () => {
    expect(averagePathLength(0)).toBe(0);
    expect(averagePathLength(1)).toBe(0);
    expect(averagePathLength(2)).toBe(1);
  });

  it("is 2H(n−1) − 2(n−1)/n above two", () => {
    expect(averagePathLength(3)).toBeCloseTo(2 * 1.5 - 4 / 3, 14); // 1.6667
    expect(averagePathLength(4)).toBeCloseTo(2 * (11 / 6) - 6 / 4, 14); // 2.1667
    // Exact (rational) value; scikit-learn's ln(255) + γ form gives 10.2448 instead.
    expect(averagePathLength(256)).toBeCloseTo(10.248689925634562, 12);
    const n = 1_000_000;
    const direct = 2 * directHarmonic(n - 1) - (2 * (n - 1)) / n;
    expect(Math.abs(averagePathLength(n) - direct) / direct).toBeLessThan(1e-9);
  });
});
