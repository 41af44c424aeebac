import { describe, expect, it } from "vitest";
import { FeatureSetError } from "../features/feature-set.js";
import { type CompiledRule, createRuleCompiler } from "./compile.js";
import { enabledRulesMax, evaluateRules, RuleLimitError } from "./evaluate.js";
import { type Rule, RuleCompileError } from "./rule.js";
import { featuresWith, neutralFeatures } from "./test-features.js";

const rule = (id: string, expression: string, changes: Partial<Rule> = {}): Rule => ({
  id,
  name: `Rule ${id}`,
  expression,
  severity: "medium",
  reasonCode: "TEST",
  enabled: true,
  version: 1,
  ...changes,
});

function compileAll(rules: readonly Rule[], compiler = createRuleCompiler()): CompiledRule[] {
  const { compiled, errors } = compiler.compileRules(rules);
  if (errors.length > 0) throw errors[0];
  return compiled;
}

describe("evaluateRules", () => {
  it("reports a rule that fails to evaluate and still evaluates the others", () => {
    const rules = compileAll([
      rule("t.before", "count_1h >= 1"),
      rule("t.divides_by_zero", "count_24h / (count_1h - 1) > 0"),
      rule("t.after", "amount_usd > 100.0"),
      rule("t.false", "amount_usd > 1000000.0"),
    ]);
    const result = evaluateRules(rules, featuresWith({ count_1h: 1 }));
    expect(result.hits.map((h) => h.ruleId)).toEqual(["t.before", "t.after"]);
    expect(result.errors).toEqual([{ ruleId: "t.divides_by_zero", version: 1, message: expect.stringContaining("divide by zero") }]);
    expect(result.evaluatedCount).toBe(4);
  });

  it("applies an edited rule (new version, new expression) on the next evaluation", () => {
    const compiler = createRuleCompiler();
    const features = featuresWith({ amount_usd: 2_000 });
    const v1 = rule("t.large", "amount_usd >= 5000.0");
    expect(evaluateRules(compileAll([v1], compiler), features).hits).toEqual([]);
    const v2 = { ...v1, version: 2, expression: "amount_usd >= 1000.0" };
    expect(evaluateRules(compileAll([v2], compiler), features).hits).toEqual([
      { ruleId: "t.large", version: 2, name: "Rule t.large", severity: "medium", reasonCode: "TEST" },
    ]);
  });

  it("does not evaluate disabled rules", () => {
    const rules = compileAll([
      rule("t.on", "true"),
      rule("t.off", "true", { enabled: false }),
      rule("t.off_and_failing", "count_1h / 0 > 1", { enabled: false }),
    ]);
    const result = evaluateRules(rules, featuresWith());
    expect(result).toEqual({ hits: [expect.objectContaining({ ruleId: "t.on" })], errors: [], evaluatedCount: 1 });
  });

  it(`evaluates ${enabledRulesMax} enabled rules and rejects one more`, () => {
    const compiler = createRuleCompiler();
    const rules = Array.from({ length: enabledRulesMax }, (_, i) => rule(`t.r${i}`, `count_24h > ${i}`));
    const atLimit = compileAll(rules, compiler);
    expect(evaluateRules(atLimit, featuresWith({ count_24h: 3 })).hits).toHaveLength(3);
    const disabledExtra = compileAll([rule("t.disabled", "true", { enabled: false })], compiler);
    expect(evaluateRules([...atLimit, ...disabledExtra], featuresWith()).evaluatedCount).toBe(enabledRulesMax);
    const extra = compileAll([rule("t.extra", "true")], compiler);
    expect(() => evaluateRules([...atLimit, ...extra], featuresWith())).toThrow(RuleLimitError);
  });

  it("rejects the same rule id given twice", () => {
    const compiler = createRuleCompiler();
    const v1 = compileAll([rule("t.twice", "true")], compiler);
    const v2 = compileAll([rule("t.twice", "false", { version: 2 })], compiler);
    expect(() => evaluateRules([...v1, ...v2], featuresWith())).toThrow(/given twice/);
  });

  it("validates features that did not come from createFeatureSet", () => {
    const rules = compileAll([rule("t.count", "count_1h + 1 == 2")]);
    const plain = { ...neutralFeatures, amount_minor: 12050n, count_1h: 1 };
    expect(evaluateRules(rules, plain as never).hits).toHaveLength(1);
    expect(() => evaluateRules(rules, { ...plain, hour_of_day: 99 } as never)).toThrow(FeatureSetError);
  });

  it("never returns a compile error as a hit", () => {
    const compiler = createRuleCompiler();
    expect(compiler.compileRule(rule("t.bad", "amount_usd >"))).toBeInstanceOf(RuleCompileError);
  });
});
