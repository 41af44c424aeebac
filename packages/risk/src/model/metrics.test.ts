import { describe, expect, it } from "vitest";
import { confusionAt, precisionRecallAt, rocAuc } from "./metrics.js";

describe("rocAuc", () => {
  it("is 1 for a perfect ranking, 0 for a reversed one", () => {
    expect(rocAuc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])).toBe(1);
    expect(rocAuc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1])).toBe(0);
  });

  it("counts the pairs an outlier wins", () => {
    // Outlier pairs (outlier, inlier): 0.35 beats 0.1, loses to 0.4; 0.8 beats both: 3 of 4.
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBe(0.75);
  });

  it("counts a tie between an outlier and an inlier as one half, by average ranks", () => {
    // Ranks: 0.2→1, the three 0.5s share (2+3+4)/3 = 3, 0.9→5. Outliers at 0.5 and 0.9:
    // R₊ = 3 + 5 = 8, U = 8 − 3 = 5, AUC = 5 / (2·3) = 5/6.
    // By pairs: 0.5 vs {0.2 win, 0.5 half, 0.5 half} = 2, 0.9 wins all 3: 5 of 6.
    expect(rocAuc([0.2, 0.5, 0.5, 0.5, 0.9], [0, 0, 1, 0, 1])).toBeCloseTo(5 / 6, 15);
    expect(rocAuc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1])).toBe(0.5);
  });

  it("accepts boolean labels", () => {
    expect(rocAuc([0.3, 0.7], [false, true])).toBe(1);
  });

  it("rejects one-class labels, mismatched lengths, NaN scores and other labels", () => {
    expect(() => rocAuc([0.1, 0.2], [1, 1])).toThrow(/both labels/);
    expect(() => rocAuc([0.1, 0.2], [1])).toThrow(/2 scores but 1 labels/);
    expect(() => rocAuc([0.1, Number.NaN], [0, 1])).toThrow(/score 1: NaN/);
    expect(() => rocAuc([0.1, 0.2], [0, 2 as 1])).toThrow(/label 1: 2/);
  });
});

describe("confusionAt and precisionRecallAt", () => {
  const scores = [0.9, 0.7, 0.6, 0.6, 0.4, 0.2];
  const labels = [1, 0, 1, 0, 1, 0] as const;

  it("flags scores at or above the threshold", () => {
    // Flagged at 0.6: 0.9(1) 0.7(0) 0.6(1) 0.6(0) → TP 2, FP 2; not flagged 0.4(1) 0.2(0) → FN 1, TN 1.
    expect(confusionAt(scores, labels, 0.6)).toEqual({ truePositives: 2, falsePositives: 2, trueNegatives: 1, falseNegatives: 1 });
    expect(precisionRecallAt(scores, labels, 0.6)).toEqual({ precision: 0.5, recall: 2 / 3 });
    expect(precisionRecallAt(scores, labels, 0.8)).toEqual({ precision: 1, recall: 1 / 3 });
  });

  it("gives precision 0 when nothing is flagged and recall 0 when there are no outliers", () => {
    expect(precisionRecallAt(scores, labels, 0.95)).toEqual({ precision: 0, recall: 0 });
    expect(precisionRecallAt([0.9, 0.1], [0, 0], 0.5)).toEqual({ precision: 0, recall: 0 });
  });
});
