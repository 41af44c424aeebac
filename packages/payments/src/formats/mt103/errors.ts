/** What kind of rule a problem broke; callers switch on it. */
export type Mt103IssueCode = "charset" | "length" | "format" | "missing" | "unsupported" | "order" | "rule";

/** One problem, located as precisely as known: "block 4, field 70, line 9". */
export interface Mt103Issue {
  code: Mt103IssueCode;
  location: string;
  message: string;
}

/** Thrown by render, parse and wrap; carries every problem found, not just the first. */
export class Mt103Error extends Error {
  readonly issues: readonly Mt103Issue[];

  constructor(issues: readonly Mt103Issue[]) {
    super(issues.map((issue) => `${issue.location}: ${issue.message}`).join("; "));
    this.name = "Mt103Error";
    this.issues = issues;
  }
}
