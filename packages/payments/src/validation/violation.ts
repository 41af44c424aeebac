// The one result shape every validator returns: a list of what is wrong, never a throw.

/** Rule identifiers, stable so callers and clients can switch on them. */
export type ViolationRule =
  | "required"
  | "too-long"
  | "charset"
  | "iban-country"
  | "iban-length"
  | "iban-format"
  | "iban-checksum"
  | "bic-format"
  | "bic-country"
  | "aba-format"
  | "aba-checksum"
  | "currency"
  | "amount-format"
  | "amount-positive"
  | "amount-limit"
  | "account-scheme"
  | "sepa-zone"
  | "reference-slash"
  | "rail";

export interface Violation {
  /** Dotted path into the instruction: "creditor.account.iban". */
  readonly field: string;
  readonly rule: ViolationRule;
  readonly message: string;
}

export function violation(field: string, rule: ViolationRule, message: string): Violation {
  return { field, rule, message };
}

/**
 * Longest string any validator will look at. Bounds the work on hostile input before a
 * regex or a loop runs; every real field is far shorter (the longest, an ISO name, is 140).
 */
export const textLengthMax = 1024;

/** Reads a required string field; a non-string, empty or oversized value is a violation. */
export function readText(value: unknown, field: string): { ok: true; text: string } | { ok: false; violation: Violation } {
  if (typeof value !== "string" || value.length === 0) {
    return { ok: false, violation: violation(field, "required", `${field} is required`) };
  }
  if (value.length > textLengthMax) {
    return { ok: false, violation: violation(field, "too-long", `${field} is longer than ${textLengthMax} characters`) };
  }
  return { ok: true, text: value };
}
