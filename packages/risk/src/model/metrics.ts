// How well scores separate labelled outliers (label 1) from inliers (label 0): ROC-AUC,
// and the confusion counts, precision and recall of flagging score ≥ threshold.

import { ModelError } from "./model-error.js";

/** Scores and labels evaluated in one call, at most. */
export const metricsRowsMax = 10_000_000;

export type Label = 0 | 1 | boolean;

export interface Confusion {
  truePositives: number;
  falsePositives: number;
  trueNegatives: number;
  falseNegatives: number;
}

/**
 * ROC-AUC as the Mann–Whitney U statistic: (R₊ − n₊(n₊ + 1)/2) / (n₊·n₋), where R₊ is the
 * sum of the outliers' ranks in ascending score order and tied scores share their average
 * rank, so a tie between an outlier and an inlier counts one half.
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<Label>): number {
  const positive = checkInputs(scores, labels);
  const n = scores.length;
  let positives = 0;
  for (let i = 0; i < n; i++) if (positive[i] === 1) positives++;
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) {
    throw new ModelError("invalid_input", `ROC-AUC needs both labels; got ${positives} outliers and ${negatives} inliers`);
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (scores[a] as number) - (scores[b] as number));
  let positiveRankSum = 0;
  for (let first = 0; first < n; ) {
    let end = first + 1;
    while (end < n && scores[order[end] as number] === scores[order[first] as number]) end++;
    // Ranks first+1 .. end, 1-based, averaged over the tie group.
    const averageRank = (first + 1 + end) / 2;
    for (let k = first; k < end; k++) if (positive[order[k] as number] === 1) positiveRankSum += averageRank;
    first = end;
  }
  return (positiveRankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Counts of flagged (score ≥ threshold) and not flagged rows against their labels. */
export function confusionAt(scores: ArrayLike<number>, labels: ArrayLike<Label>, threshold: number): Confusion {
  const positive = checkInputs(scores, labels);
  if (Number.isNaN(threshold)) throw new ModelError("invalid_input", "threshold is NaN");
  const counts: Confusion = { truePositives: 0, falsePositives: 0, trueNegatives: 0, falseNegatives: 0 };
  for (let i = 0; i < scores.length; i++) {
    const flagged = (scores[i] as number) >= threshold;
    if (positive[i] === 1) {
      if (flagged) counts.truePositives++;
      else counts.falseNegatives++;
    } else if (flagged) {
      counts.falsePositives++;
    } else {
      counts.trueNegatives++;
    }
  }
  return counts;
}

/**
 * Precision TP/(TP+FP) and recall TP/(TP+FN) of flagging score ≥ threshold. A ratio whose
 * denominator is 0 (nothing flagged, no outliers) is 0, as scikit-learn's zero_division default.
 */
export function precisionRecallAt(
  scores: ArrayLike<number>,
  labels: ArrayLike<Label>,
  threshold: number,
): { precision: number; recall: number } {
  return precisionRecallOf(confusionAt(scores, labels, threshold));
}

/** Precision and recall of confusion counts already taken (as precisionRecallAt, without counting twice). */
export function precisionRecallOf(confusion: Confusion): { precision: number; recall: number } {
  const { truePositives, falsePositives, falseNegatives } = confusion;
  const flagged = truePositives + falsePositives;
  const outliers = truePositives + falseNegatives;
  return { precision: flagged === 0 ? 0 : truePositives / flagged, recall: outliers === 0 ? 0 : truePositives / outliers };
}

/** Checks lengths, limits, finite scores and 0/1 labels; returns the labels as 0/1 bytes. */
function checkInputs(scores: ArrayLike<number>, labels: ArrayLike<Label>): Uint8Array {
  if (scores.length !== labels.length) {
    throw new ModelError("invalid_input", `${scores.length} scores but ${labels.length} labels`);
  }
  if (scores.length > metricsRowsMax) throw new ModelError("limit_exceeded", `at most ${metricsRowsMax} scores, got ${scores.length}`);
  const positive = new Uint8Array(scores.length);
  for (let i = 0; i < scores.length; i++) {
    const score = scores[i];
    if (typeof score !== "number" || !Number.isFinite(score)) {
      throw new ModelError("invalid_input", `score ${i}: ${String(score)} is not a finite number`);
    }
    const label = labels[i];
    if (label === 1 || label === true) positive[i] = 1;
    else if (label !== 0 && label !== false) throw new ModelError("invalid_input", `label ${i}: ${String(label)} is not 0 or 1`);
  }
  return positive;
}
