import { Category, Decision, Severity } from "@qenex/gen/qenex/risk/v1/risk_pb.js";
import { describe, expect, it } from "vitest";
import { decide, type Finding } from "./decide.js";

const rule = (severity: Severity, category = Category.AML): Finding => ({ category, code: `aml.x${severity}`, message: "m", severity });

describe("decide", () => {
  it("allows when nothing is found, with every category at zero", () => {
    const d = decide({ model: undefined, ruleFindings: [], sanctions: undefined });
    expect(d.decision).toBe(Decision.ALLOW);
    expect(d.score).toBe(0);
    expect(d.categoryScores.map((c) => c.category).sort()).toEqual(
      [Category.FRAUD, Category.AML, Category.SANCTIONS, Category.VELOCITY].sort(),
    );
  });

  it("reports low findings but allows", () => {
    const d = decide({ model: undefined, ruleFindings: [rule(Severity.LOW)], sanctions: undefined });
    expect(d.decision).toBe(Decision.ALLOW);
    expect(d.reasons).toHaveLength(1);
    expect(d.score).toBe(0.25);
  });

  it("holds medium and high findings for review, in their category", () => {
    const d = decide({ model: undefined, ruleFindings: [rule(Severity.HIGH, Category.VELOCITY)], sanctions: undefined });
    expect(d.decision).toBe(Decision.REVIEW);
    expect(d.categoryScores.find((c) => c.category === Category.VELOCITY)?.score).toBe(0.75);
  });

  it("blocks on a critical rule or a sanctions match", () => {
    expect(decide({ model: undefined, ruleFindings: [rule(Severity.CRITICAL)], sanctions: undefined }).decision).toBe(Decision.BLOCK);
    const d = decide({ model: undefined, ruleFindings: [], sanctions: { score: 0.97, entryId: "1", matchedName: "X", list: "SDN" } });
    expect(d.decision).toBe(Decision.BLOCK);
    expect(d.reasons[0]?.code).toBe("sanctions.match");
    expect(d.score).toBe(0.97);
  });

  it("turns an anomaly at or above the threshold into a fraud reason", () => {
    const below = decide({ model: { score: 0.55, threshold: 0.6 }, ruleFindings: [], sanctions: undefined });
    expect(below.decision).toBe(Decision.ALLOW);
    expect(below.score).toBe(0.55);
    const at = decide({ model: { score: 0.6, threshold: 0.6 }, ruleFindings: [], sanctions: undefined });
    expect(at.decision).toBe(Decision.REVIEW);
    expect(at.reasons[0]).toMatchObject({ code: "fraud.model", severity: Severity.MEDIUM });
    expect(decide({ model: { score: 0.9, threshold: 0.6 }, ruleFindings: [], sanctions: undefined }).reasons[0]?.severity).toBe(
      Severity.HIGH,
    );
  });
});
