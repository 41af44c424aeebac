/** Why screening failed: the service maps malformed_list to FailedPrecondition, invalid_input to InvalidArgument, limit_exceeded to ResourceExhausted. */
export type ScreeningErrorCode = "malformed_list" | "invalid_input" | "limit_exceeded";

/** A failure the caller can act on; a list error names the file and line ("sdn.csv line 12: …"). */
export class ScreeningError extends Error {
  override name = "ScreeningError";
  constructor(
    readonly code: ScreeningErrorCode,
    message: string,
  ) {
    super(message);
  }
}
