// From what the model, the rules and the screening found to one decision, with every reason
// that contributed. Pure: the service gathers the inputs.
import { Category, Decision, Severity } from "@qenex/gen/qenex/risk/v1/risk_pb.js";

export type Finding = { category: Category; code: string; message: string; severity: Severity };

export type Decided = {
  decision: Decision;
  /** The highest category score, 0 to 1. */
  score: number;
  categoryScores: { category: Category; score: number }[];
  reasons: Finding[];
};

/** A severity's weight as a category score. */
const severityScore: Record<Severity, number> = {
  [Severity.UNSPECIFIED]: 0,
  [Severity.LOW]: 0.25,
  [Severity.MEDIUM]: 0.5,
  [Severity.HIGH]: 0.75,
  [Severity.CRITICAL]: 1,
};

export type DecisionInputs = {
  /** The active model's anomaly score (0 to 1) and its threshold; undefined without a model. */
  model: { score: number; threshold: number } | undefined;
  /** Rule hits, already in their category (AML or velocity). */
  ruleFindings: readonly Finding[];
  /** The best sanctions match at or above the screening threshold, if any. */
  sanctions: { score: number; entryId: string; matchedName: string; list: string } | undefined;
};

/**
 * The rule: anything critical (a sanctions match, a critical rule) blocks; anything medium or
 * high (an anomaly at or above the model's threshold, such a rule) holds for review; low
 * findings are reported and allowed.
 */
export function decide(inputs: DecisionInputs): Decided {
  const reasons: Finding[] = [...inputs.ruleFindings];
  const scores = new Map<Category, number>([
    [Category.FRAUD, 0],
    [Category.AML, 0],
    [Category.SANCTIONS, 0],
    [Category.VELOCITY, 0],
  ]);
  const raise = (category: Category, score: number) => scores.set(category, Math.max(scores.get(category) ?? 0, score));
  for (const finding of inputs.ruleFindings) raise(finding.category, severityScore[finding.severity]);
  if (inputs.model) {
    raise(Category.FRAUD, inputs.model.score);
    if (inputs.model.score >= inputs.model.threshold) {
      // Halfway from the threshold to 1 an anomaly is "high" rather than "medium".
      const high = inputs.model.score >= (inputs.model.threshold + 1) / 2;
      reasons.push({
        category: Category.FRAUD,
        code: "fraud.model",
        message: `anomaly score ${inputs.model.score.toFixed(3)} is at or above the model's threshold ${inputs.model.threshold.toFixed(3)}`,
        severity: high ? Severity.HIGH : Severity.MEDIUM,
      });
    }
  }
  if (inputs.sanctions) {
    raise(Category.SANCTIONS, inputs.sanctions.score);
    reasons.push({
      category: Category.SANCTIONS,
      code: "sanctions.match",
      message: `counterparty matches ${inputs.sanctions.list} entry ${inputs.sanctions.entryId} ("${inputs.sanctions.matchedName}") with score ${inputs.sanctions.score.toFixed(3)}`,
      severity: Severity.CRITICAL,
    });
  }
  const worst = reasons.reduce((max, r) => Math.max(max, r.severity), Severity.UNSPECIFIED);
  const decision = worst >= Severity.CRITICAL ? Decision.BLOCK : worst >= Severity.MEDIUM ? Decision.REVIEW : Decision.ALLOW;
  const categoryScores = [...scores].map(([category, score]) => ({ category, score }));
  return { decision, score: Math.max(...categoryScores.map((c) => c.score)), categoryScores, reasons };
}
