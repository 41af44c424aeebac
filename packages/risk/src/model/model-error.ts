/** Why a model call failed: the service maps invalid_input to InvalidArgument, invalid_model (a stored model that does not load) to FailedPrecondition, limit_exceeded to ResourceExhausted. */
export type ModelErrorCode = "invalid_input" | "limit_exceeded" | "invalid_model";

/** A failure the caller can act on, with a message that names the offending row, column or field. */
export class ModelError extends Error {
  override name = "ModelError";
  constructor(
    readonly code: ModelErrorCode,
    message: string,
  ) {
    super(message);
  }
}
