/** What kind of rule a problem broke; callers switch on it. */
export type FedwireIssueCode = "charset" | "length" | "format" | "missing" | "unsupported" | "checksum" | "rule";

/** One problem, located by tag (and element): "tag {3100} routing number". */
export interface FedwireIssue {
  code: FedwireIssueCode;
  location: string;
  message: string;
}

/** Thrown by render and parse; carries every problem found, not just the first. */
export class FedwireError extends Error {
  readonly issues: readonly FedwireIssue[];

  constructor(issues: readonly FedwireIssue[]) {
    super(issues.map((issue) => `${issue.location}: ${issue.message}`).join("; "));
    this.name = "FedwireError";
    this.issues = issues;
  }
}
