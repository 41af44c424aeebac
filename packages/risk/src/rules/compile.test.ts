import { describe, expect, it } from "vitest";
import { type CompiledRule, compileRule, createRuleCompiler } from "./compile.js";
import { type Rule, RuleCompileError, ruleLimits } from "./rule.js";

const rule = (expression: string, changes: Partial<Rule> = {}): Rule => ({
  id: "test.rule",
  name: "Test rule",
  expression,
  severity: "low",
  reasonCode: "TEST",
  enabled: true,
  version: 1,
  ...changes,
});

function compileError(expression: string): RuleCompileError {
  const result = compileRule(rule(expression));
  if (!(result instanceof RuleCompileError)) throw new Error(`expected ${JSON.stringify(expression)} not to compile`);
  return result;
}

describe("compileRule: syntax errors", () => {
  it("puts a missing operand at the end of the expression", () => {
    const error = compileError("amount_usd >");
    expect(error.field).toBe("expression");
    expect(error.position).toEqual({ line: 1, column: 13, offset: 12 });
    expect(error.message).toContain("expression ends after '>'");
  });

  it("gives line and column on a later line", () => {
    const error = compileError("amount_usd > 1.0 &&\n  (count_1h > 1 ||");
    expect(error.position).toEqual({ line: 2, column: 19, offset: 38 });
  });

  it("names a missing closing parenthesis at the end", () => {
    expect(compileError("size(currency").message).toContain("missing ')'");
    expect(compileError("size(currency").position?.column).toBe(14);
  });

  it("points at a single = and suggests ==", () => {
    const error = compileError("currency = 'USD'");
    expect(error.position?.column).toBe(10);
    expect(error.message).toContain("use ==");
  });

  it("points at an unexpected character", () => {
    expect(compileError("amount_usd > 1.0 $").position).toEqual({ line: 1, column: 18, offset: 17 });
  });
});

describe("compileRule: type errors", () => {
  it("names an unknown feature with its column and the closest feature", () => {
    const error = compileError("amount_usdd > 1");
    expect(error.position).toEqual({ line: 1, column: 1, offset: 0 });
    expect(error.message).toContain("unknown feature 'amount_usdd' (did you mean 'amount_usd'?)");
    expect(compileError("count_1h > 1 && amount_usdd > 1").position?.column).toBe(17);
  });

  it("rejects operands of the wrong types at the operator", () => {
    const error = compileError("amount_usd > 'high'");
    expect(error.message).toContain("no overload of '>' takes (double, string)");
    expect(error.position?.column).toBe(12);
    expect(compileError("amount_usd * 2 >= 1.0").message).toContain("(double, int)");
    expect(compileError("country_risk == 3").message).toContain("cannot compare string '==' int");
    expect(compileError("country_risk in ['high', 1]").message).toContain("one type");
    expect(compileError("count_1h && true").message).toContain("must be bool");
  });

  it("rejects an expression that is not bool", () => {
    const error = compileError("amount_usd * 2.0");
    expect(error.message).toContain("must evaluate to bool, this one is double");
    expect(error.position).toEqual({ line: 1, column: 1, offset: 0 });
    expect(compileError("country").message).toContain("this one is string");
  });

  it("rejects what rules do not support: selection, macros, maps, indexing, out-of-range literals", () => {
    expect(compileError("currency.code == 'USD'").message).toContain("field selection");
    expect(compileError("[1, 2].exists(x, x == count_1h)").message).toContain("macros");
    expect(compileError("{'a': 1}.size() > 0").message).toContain("map and message literals");
    expect(compileError("[1, 2][0] == count_1h").message).toContain("indexing");
    expect(compileError("count_1h > 99999999999999999999").message).toContain("int64 range");
  });

  it("accepts cross-type numeric comparisons, string methods and conversions", () => {
    for (const expression of [
      "amount_usd >= 10000",
      "count_1h > 1.5",
      "country_risk in ['high', 'prohibited']",
      "currency.startsWith('US') && double(count_24h) * 2.0 > amount_usd",
      "hour_of_day < 6 ? amount_usd > 1000.0 : amount_usd > 5000.0",
    ]) {
      expect(compileRule(rule(expression))).not.toBeInstanceOf(RuleCompileError);
    }
  });
});

describe("compileRule: limits and fields", () => {
  it("accepts an expression of exactly 4 KiB and rejects one byte more", () => {
    const atLimit = `amount_usd > 1.0${" ".repeat(ruleLimits.expressionBytesMax - 16)}`;
    expect(new TextEncoder().encode(atLimit).length).toBe(4096);
    expect(compileRule(rule(atLimit))).not.toBeInstanceOf(RuleCompileError);
    const error = compileError(`${atLimit} `);
    expect(error.message).toContain("longer than 4096 bytes");
    expect(error.position).toBeUndefined();
  });

  it("counts the limit in UTF-8 bytes", () => {
    const text = `currency == '${"€".repeat(1400)}'`;
    expect(text.length).toBeLessThan(4096);
    expect(compileError(text).message).toContain("longer than 4096 bytes");
  });

  it("rejects deep nesting with an error, not a crash", () => {
    expect(compileError(`${"(".repeat(1500)}count_1h > 1${")".repeat(1500)}`).message).toMatch(/nests/);
    expect(compileError(`count_1h${" + 1".repeat(100)} > 0`).message).toMatch(/nests deeper/);
  });

  it("accepts a long chain of conditions", () => {
    const chain = Array.from({ length: 200 }, (_, i) => `count_24h != ${i}`).join(" && ");
    expect(chain.length).toBeLessThan(4096);
    expect(compileRule(rule(chain))).not.toBeInstanceOf(RuleCompileError);
  });

  it("names the bad field of a malformed rule", () => {
    expect(compileRule(rule("true", { id: "Bad Id" }))).toMatchObject({ field: "id" });
    expect(compileRule(rule("true", { version: 0 }))).toMatchObject({ field: "version" });
    expect(compileRule(rule("true", { reasonCode: "lower" }))).toMatchObject({ field: "reasonCode" });
    expect(compileRule(rule("true", { severity: "severe" as Rule["severity"] }))).toMatchObject({ field: "severity" });
    expect(compileRule(rule("  "))).toMatchObject({ field: "expression" });
  });
});

describe("compile cache", () => {
  const compiled = (result: CompiledRule | RuleCompileError): CompiledRule => {
    if (result instanceof RuleCompileError) throw result;
    return result;
  };

  it("returns the cached compilation for the same (id, version)", () => {
    const compiler = createRuleCompiler();
    const first = compiled(compiler.compileRule(rule("count_1h > 1")));
    expect(compiler.compileRule(rule("count_1h > 1"))).toBe(first);
    expect(compiler.cacheSize).toBe(1);
  });

  it("recompiles a new version and drops the old one", () => {
    const compiler = createRuleCompiler();
    const first = compiled(compiler.compileRule(rule("count_1h > 1")));
    const second = compiled(compiler.compileRule(rule("count_1h > 5", { version: 2 })));
    expect(second).not.toBe(first);
    expect(second.rule.expression).toBe("count_1h > 5");
    expect(compiler.cacheSize).toBe(1);
  });

  it("recompiles when the content changed but the version was not bumped", () => {
    const compiler = createRuleCompiler();
    compiled(compiler.compileRule(rule("count_1h > 1")));
    expect(compiled(compiler.compileRule(rule("count_1h > 7"))).rule.expression).toBe("count_1h > 7");
  });

  it("caches compile errors too and stays within its size", () => {
    const compiler = createRuleCompiler({ cacheEntriesMax: 3 });
    const error = compiler.compileRule(rule("amount_usd >"));
    expect(compiler.compileRule(rule("amount_usd >"))).toBe(error);
    for (let i = 0; i < 10; i++) compiler.compileRule(rule("count_1h > 1", { id: `test.rule${i}` }));
    expect(compiler.cacheSize).toBe(3);
  });

  it("keeps a frozen copy, so mutating the caller's object changes nothing", () => {
    const compiler = createRuleCompiler();
    const mutable = { ...rule("count_1h > 1") };
    const result = compiled(compiler.compileRule(mutable));
    mutable.expression = "count_1h > 100";
    expect(result.rule.expression).toBe("count_1h > 1");
    expect(Object.isFrozen(result.rule)).toBe(true);
  });
});
