// Violations name the offending element by its XML path, so one list serves the
// schema-level checks (render/parse) and the scheme validators (SEPA, CBPR+, Fedwire).

export interface Violation {
  /** XML element path, e.g. `FIToFICstmrCdtTrf/CdtTrfTxInf[0]/PmtId/UETR`. */
  readonly path: string;
  readonly reason: string;
}

/** Thrown by render…() and parse…() when a message breaks the schema; lists every violation. */
export class Iso20022Error extends Error {
  override readonly name = "Iso20022Error";
  readonly violations: readonly Violation[];

  constructor(violations: readonly Violation[]) {
    super(violations.map((v) => `${v.path}: ${v.reason}`).join("; "));
    this.violations = violations;
  }

  static at(path: string, reason: string): Iso20022Error {
    return new Iso20022Error([{ path, reason }]);
  }
}

/** Collects violations while walking a model. */
export interface Checker {
  readonly violations: Violation[];
  add(path: string, reason: string): void;
}

export function createChecker(): Checker {
  const violations: Violation[] = [];
  return { violations, add: (path, reason) => violations.push({ path, reason }) };
}

export function throwIfAny(violations: readonly Violation[]): void {
  if (violations.length > 0) throw new Iso20022Error(violations);
}
