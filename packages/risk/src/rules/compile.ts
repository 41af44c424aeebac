// Compiling rules: parse, type-check against the feature set, plan. Results are cached by
// (id, version), so the lead can compile every stored rule on every evaluation and pay only
// for the ones that changed.
import { type CelResult, CelScalar, celEnv, plan } from "@bufbuild/cel";
import { type FeatureSet, featureNames, featureTable } from "../features/feature-set.js";
import { checkRuleFields, type Rule, RuleCompileError } from "./rule.js";
import { parseExpression, positionAt, skipWhitespace } from "./syntax.js";
import { checkExpr, TypeCheckError } from "./type-check.js";

const celTypes = { double: CelScalar.DOUBLE, int: CelScalar.INT, string: CelScalar.STRING, bool: CelScalar.BOOL } as const;

/** The CEL environment rules run in: one variable per feature, with the feature's type. */
export const featureEnv = celEnv({
  variables: Object.fromEntries(featureNames.map((name) => [name, celTypes[featureTable[name].type]])),
});

export type CompiledRule = {
  /** A frozen copy of the rule as compiled. */
  readonly rule: Rule;
  /** Evaluates the expression; a CelError for an evaluation error (e.g. division by zero). */
  readonly program: (features: FeatureSet) => CelResult;
};

export type RuleCompiler = {
  /** The compiled rule, or why it does not compile. Never throws for a bad rule. */
  compileRule(rule: Rule): CompiledRule | RuleCompileError;
  /** Compiles each rule; the order of `compiled` follows `rules`. */
  compileRules(rules: readonly Rule[]): { compiled: CompiledRule[]; errors: RuleCompileError[] };
  /** Entries in the cache (compiled rules and compile errors). */
  readonly cacheSize: number;
};

export type RuleCompilerOptions = {
  /** Cached (id, version) entries kept; the oldest go first. Default 2,000 (4× the rules evaluated per call). */
  readonly cacheEntriesMax?: number;
};

type CacheEntry = { readonly rule: Rule; readonly result: CompiledRule | RuleCompileError };

export function createRuleCompiler(options: RuleCompilerOptions = {}): RuleCompiler {
  const cacheEntriesMax = options.cacheEntriesMax ?? 2000;
  if (!Number.isSafeInteger(cacheEntriesMax) || cacheEntriesMax < 1) throw new RangeError("cacheEntriesMax must be a positive integer");
  const cache = new Map<string, CacheEntry>();
  const cacheKeyById = new Map<string, string>();

  function compileRule(rule: Rule): CompiledRule | RuleCompileError {
    const key = `${rule.id}@${rule.version}`;
    const cached = cache.get(key);
    // Only valid rules are cached, so an identical rule needs no second field check. Same (id,
    // version) with different content means the version was not bumped: recompile, never serve stale code.
    if (cached !== undefined && sameRule(cached.rule, rule)) return cached.result;
    const fieldError = checkRuleFields(rule);
    if (fieldError !== undefined) return fieldError;
    const frozen = Object.freeze({ ...rule });
    const result = compileUncached(frozen);
    const previousKey = cacheKeyById.get(rule.id);
    if (previousKey !== undefined) cache.delete(previousKey);
    cache.delete(key);
    cache.set(key, { rule: frozen, result });
    cacheKeyById.set(rule.id, key);
    for (const [oldestKey, entry] of cache) {
      if (cache.size <= cacheEntriesMax) break;
      cache.delete(oldestKey);
      if (cacheKeyById.get(entry.rule.id) === oldestKey) cacheKeyById.delete(entry.rule.id);
    }
    return result;
  }

  function compileRules(rules: readonly Rule[]) {
    const compiled: CompiledRule[] = [];
    const errors: RuleCompileError[] = [];
    for (const rule of rules) {
      const result = compileRule(rule);
      if (result instanceof RuleCompileError) errors.push(result);
      else compiled.push(result);
    }
    return { compiled, errors };
  }

  return {
    compileRule,
    compileRules,
    get cacheSize() {
      return cache.size;
    },
  };
}

const defaultCompiler = createRuleCompiler();

/** Compiles with the process-wide cache. */
export const compileRule = (rule: Rule): CompiledRule | RuleCompileError => defaultCompiler.compileRule(rule);
export const compileRules = (rules: readonly Rule[]) => defaultCompiler.compileRules(rules);

function compileUncached(rule: Rule): CompiledRule | RuleCompileError {
  const source = rule.expression;
  const parsed = parseExpression(source);
  if (!("$typeName" in parsed)) return new RuleCompileError(rule.id, "expression", parsed.message, positionAt(source, parsed.offset));
  let type: ReturnType<typeof checkExpr>;
  try {
    type = checkExpr(featureEnv, parsed.expr);
  } catch (error) {
    if (!(error instanceof TypeCheckError)) throw error;
    const offset = parsed.sourceInfo?.positions[String(error.exprId)] ?? 0;
    return new RuleCompileError(rule.id, "expression", error.message, positionAt(source, skipWhitespace(source, offset)));
  }
  if (type.name !== "bool") {
    return new RuleCompileError(
      rule.id,
      "expression",
      `a rule must evaluate to bool, this one is ${type}`,
      positionAt(source, skipWhitespace(source, 0)),
    );
  }
  const program = plan(featureEnv, parsed) as (features: FeatureSet) => CelResult;
  return { rule, program };
}

function sameRule(a: Rule, b: Rule): boolean {
  return (
    a.id === b.id &&
    a.version === b.version &&
    a.expression === b.expression &&
    a.name === b.name &&
    a.severity === b.severity &&
    a.reasonCode === b.reasonCode &&
    a.enabled === b.enabled
  );
}
