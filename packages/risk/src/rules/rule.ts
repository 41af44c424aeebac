// A rule as stored: a CEL expression over the feature set, and what a hit means.
import type { SourcePosition } from "./syntax.js";

export const severities = ["low", "medium", "high", "critical"] as const;
export type Severity = (typeof severities)[number];

export type Rule = {
  /** Stable id, dotted lower case, e.g. "aml.ctr". */
  readonly id: string;
  readonly name: string;
  /** CEL expression over the features (see features/feature-set.ts) that must evaluate to bool. */
  readonly expression: string;
  readonly severity: Severity;
  /** Upper-case code an analyst or a report filters on, e.g. "CTR_THRESHOLD". */
  readonly reasonCode: string;
  readonly enabled: boolean;
  /** Bumped on every edit: compiled rules are cached by (id, version). */
  readonly version: number;
};

/** Limits on a rule's fields; the expression limit is in UTF-8 bytes. */
export const ruleLimits = {
  expressionBytesMax: 4096,
  idLengthMax: 128,
  nameLengthMax: 200,
  reasonCodeLengthMax: 64,
} as const;

const idPattern = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const reasonCodePattern = /^[A-Z][A-Z0-9_]*$/;

export type RuleField = keyof Rule;

/**
 * Why a rule cannot be compiled. For problems in the expression, `position` locates the
 * first error (syntax or type); for other fields it is undefined.
 */
export class RuleCompileError extends Error {
  override readonly name = "RuleCompileError";
  readonly ruleId: string;
  readonly field: RuleField;
  readonly position: SourcePosition | undefined;
  constructor(ruleId: string, field: RuleField, message: string, position?: SourcePosition) {
    const where = position === undefined ? field : `${field} ${position.line}:${position.column}`;
    super(`rule ${JSON.stringify(ruleId.slice(0, ruleLimits.idLengthMax))}: ${where}: ${message}`);
    this.ruleId = ruleId;
    this.field = field;
    this.position = position;
  }
}

/** The first problem with a rule's fields other than the expression's content, or undefined. */
export function checkRuleFields(rule: Rule): RuleCompileError | undefined {
  const fail = (field: RuleField, message: string) => new RuleCompileError(String(rule.id), field, message);
  if (typeof rule.id !== "string" || rule.id.length > ruleLimits.idLengthMax || !idPattern.test(rule.id)) {
    return fail("id", `must be dotted lower-case words of at most ${ruleLimits.idLengthMax} characters`);
  }
  if (!Number.isSafeInteger(rule.version) || rule.version < 1) return fail("version", "must be a positive integer");
  if (typeof rule.name !== "string" || rule.name.trim() === "" || rule.name.length > ruleLimits.nameLengthMax) {
    return fail("name", `must be non-empty and at most ${ruleLimits.nameLengthMax} characters`);
  }
  if (!(severities as readonly unknown[]).includes(rule.severity)) return fail("severity", `must be one of ${severities.join(", ")}`);
  if (
    typeof rule.reasonCode !== "string" ||
    rule.reasonCode.length > ruleLimits.reasonCodeLengthMax ||
    !reasonCodePattern.test(rule.reasonCode)
  ) {
    return fail("reasonCode", `must be UPPER_SNAKE_CASE of at most ${ruleLimits.reasonCodeLengthMax} characters`);
  }
  if (typeof rule.enabled !== "boolean") return fail("enabled", "must be a boolean");
  if (typeof rule.expression !== "string" || rule.expression.trim() === "") return fail("expression", "must be a non-empty string");
  // Every UTF-16 code unit is at least one UTF-8 byte, so a long string fails before being encoded.
  if (
    rule.expression.length > ruleLimits.expressionBytesMax ||
    new TextEncoder().encode(rule.expression).length > ruleLimits.expressionBytesMax
  ) {
    return fail("expression", `is longer than ${ruleLimits.expressionBytesMax} bytes (UTF-8)`);
  }
  return undefined;
}
