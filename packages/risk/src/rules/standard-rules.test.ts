import { describe, expect, it } from "vitest";
import type { FeatureSetInput } from "../features/feature-set.js";
import { type CompiledRule, compileRule } from "./compile.js";
import { evaluateRules } from "./evaluate.js";
import { RuleCompileError } from "./rule.js";
import { standardRules } from "./standard-rules.js";
import { featuresWith } from "./test-features.js";

type Case = { fires: Partial<FeatureSetInput>; quiet: Partial<FeatureSetInput> };

/** For each rule: features just over its threshold, and features just under it. */
const cases: Record<string, Case> = {
  "aml.ctr": { fires: { amount_usd: 10_000 }, quiet: { amount_usd: 9_999.99 } },
  "aml.structuring": {
    fires: { amount_usd: 9_500, count_just_below_ctr_24h: 3, sum_usd_just_below_ctr_24h: 27_000 },
    quiet: { amount_usd: 9_500, count_just_below_ctr_24h: 2, sum_usd_just_below_ctr_24h: 18_000 },
  },
  "aml.velocity_count_1h": { fires: { count_1h: 10, count_24h: 10 }, quiet: { count_1h: 9, count_24h: 9 } },
  "aml.velocity_sum_24h": { fires: { sum_usd_24h: 50_000 }, quiet: { sum_usd_24h: 49_999 } },
  "aml.new_account_high_value": {
    fires: { account_age_days: 29, amount_usd: 5_000 },
    quiet: { account_age_days: 30, amount_usd: 5_000 },
  },
  "aml.high_risk_jurisdiction": { fires: { country: "VG", country_risk: "high" }, quiet: { country: "GB", country_risk: "medium" } },
  "aml.prohibited_jurisdiction": { fires: { country: "KP", country_risk: "prohibited" }, quiet: { country: "BG", country_risk: "high" } },
  "aml.round_amount": {
    fires: { is_round_amount: true, amount_usd: 5_000 },
    quiet: { is_round_amount: true, amount_usd: 4_000 },
  },
  "aml.rapid_in_out": {
    fires: { inbound_usd_24h: 6_000, amount_usd: 4_800 },
    quiet: { inbound_usd_24h: 6_000, amount_usd: 4_799 },
  },
};

function compileStandard(): CompiledRule[] {
  return standardRules.map((rule) => {
    const compiled = compileRule(rule);
    if (compiled instanceof RuleCompileError) throw compiled;
    return compiled;
  });
}

const hitIds = (overrides: Partial<FeatureSetInput>) => evaluateRules(compileStandard(), featuresWith(overrides)).hits.map((h) => h.ruleId);

describe("standard rules", () => {
  it("all compile, have unique ids and a test case each", () => {
    const ids = compileStandard().map((c) => c.rule.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.toSorted()).toEqual(Object.keys(cases).toSorted());
  });

  it("fire on nothing in the neutral baseline", () => {
    expect(evaluateRules(compileStandard(), featuresWith())).toEqual({ hits: [], errors: [], evaluatedCount: standardRules.length });
  });

  for (const [id, { fires, quiet }] of Object.entries(cases)) {
    it(`${id} fires over its threshold`, () => {
      expect(hitIds(fires)).toContain(id);
    });
    it(`${id} stays quiet under its threshold`, () => {
      expect(hitIds(quiet)).not.toContain(id);
    });
  }

  it("report the rule's severity and reason code with a hit", () => {
    const [hit] = evaluateRules(compileStandard(), featuresWith({ country: "IR", country_risk: "prohibited" })).hits;
    expect(hit).toEqual({
      ruleId: "aml.prohibited_jurisdiction",
      version: 1,
      name: "Counterparty in a prohibited jurisdiction",
      severity: "critical",
      reasonCode: "PROHIBITED_JURISDICTION",
    });
  });
});
