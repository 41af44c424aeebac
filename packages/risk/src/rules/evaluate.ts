// Evaluating compiled rules on one transfer's features. A rule that fails to evaluate is
// reported, never counted as a hit, and never stops the others.
import { celError, isCelError } from "@bufbuild/cel";
import { createFeatureSet, type FeatureSet, isValidatedFeatureSet } from "../features/feature-set.js";
import type { CompiledRule } from "./compile.js";
import type { Severity } from "./rule.js";

/** Enabled rules one call may evaluate; more is a configuration error, not something to truncate silently. */
export const enabledRulesMax = 500;

export type RuleHit = {
  readonly ruleId: string;
  readonly version: number;
  readonly name: string;
  readonly severity: Severity;
  readonly reasonCode: string;
};

export type RuleEvaluationError = {
  readonly ruleId: string;
  readonly version: number;
  readonly message: string;
};

export type RuleEvaluation = {
  /** Rules whose expression was true, in the order given. */
  readonly hits: readonly RuleHit[];
  /** Rules that could not be evaluated (e.g. division by zero), in the order given. */
  readonly errors: readonly RuleEvaluationError[];
  /** Enabled rules evaluated: hits + errors + rules that were false. */
  readonly evaluatedCount: number;
};

export class RuleLimitError extends Error {
  override readonly name = "RuleLimitError";
}

/**
 * Evaluates every enabled rule on `features`. Throws RuleLimitError for more than
 * `enabledRulesMax` enabled rules or a rule id given twice, FeatureSetError for features
 * that did not come from `createFeatureSet` and do not validate.
 */
export function evaluateRules(rules: readonly CompiledRule[], features: FeatureSet): RuleEvaluation {
  const enabled = rules.filter((r) => r.rule.enabled);
  if (enabled.length > enabledRulesMax) {
    throw new RuleLimitError(`${enabled.length} enabled rules given, at most ${enabledRulesMax} are evaluated per call`);
  }
  const ids = new Set<string>();
  for (const { rule } of enabled) {
    if (ids.has(rule.id)) throw new RuleLimitError(`rule ${rule.id} is given twice (versions must not be mixed)`);
    ids.add(rule.id);
  }
  const checked = isValidatedFeatureSet(features) ? features : createFeatureSet(features);
  const hits: RuleHit[] = [];
  const errors: RuleEvaluationError[] = [];
  for (const { rule, program } of enabled) {
    const result = runProgram(program, checked);
    if (result === true) {
      hits.push({ ruleId: rule.id, version: rule.version, name: rule.name, severity: rule.severity, reasonCode: rule.reasonCode });
    } else if (isCelError(result)) {
      errors.push({ ruleId: rule.id, version: rule.version, message: result.message });
    } else if (result !== false) {
      errors.push({ ruleId: rule.id, version: rule.version, message: "did not evaluate to a bool" });
    }
  }
  return { hits, errors, evaluatedCount: enabled.length };
}

/** The planner already turns exceptions into CelErrors; this also covers a bug in a function implementation that escapes it. */
function runProgram(program: CompiledRule["program"], features: FeatureSet): unknown {
  try {
    return program(features);
  } catch (error) {
    return celError(error);
  }
}
