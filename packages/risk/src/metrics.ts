// SEED.md's fraud metric and the scoring latency.
import { Counter, Histogram, type Registry } from "prom-client";

export type RiskMetrics = {
  /** One count per decision and reason code (a decision without reasons counts as "none"). */
  detected(decision: string, reasonCodes: readonly string[]): void;
  /** Starts a scoring timer; call the result when the score is decided. */
  startScoring(): () => void;
};

export function createRiskMetrics(registry: Registry): RiskMetrics {
  const detections = new Counter({
    name: "qenex_fraud_detections_total",
    help: "Scored transactions, by decision (allow, review, block) and contributing reason code.",
    labelNames: ["decision", "reason"],
    registers: [registry],
  });
  const latency = new Histogram({
    name: "qenex_risk_scoring_latency_seconds",
    help: "Time to score one transaction: features, model, rules, screening, and storing the result.",
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
    registers: [registry],
  });
  return {
    detected(decision, reasonCodes) {
      if (reasonCodes.length === 0) detections.inc({ decision, reason: "none" });
      // Reason codes come from rules an operator writes: bounded by the rule count (≤ 500).
      for (const reason of new Set(reasonCodes)) detections.inc({ decision, reason });
    },
    startScoring: () => latency.startTimer(),
  };
}
