// The gRPC code of each ModelError and ScreeningError code, so every handler that reaches the
// model or screening libraries answers a caller's mistake, a limit and a bad list the same way.
import { Code } from "@connectrpc/connect";
import { DomainError } from "@qenex/platform";
import { ModelError, type ModelErrorCode } from "./model/index.js";
import { ScreeningError, type ScreeningErrorCode } from "./screening/index.js";

const modelErrorCodes: Readonly<Record<ModelErrorCode, Code>> = {
  invalid_input: Code.InvalidArgument,
  // Only a stored model fails to load: the server's data is at fault, not the request.
  invalid_model: Code.FailedPrecondition,
  limit_exceeded: Code.ResourceExhausted,
};

const screeningErrorCodes: Readonly<Record<ScreeningErrorCode, Code>> = {
  invalid_input: Code.InvalidArgument,
  limit_exceeded: Code.ResourceExhausted,
  // The loaded sanctions list is at fault, not the request: fix the list, then retry.
  malformed_list: Code.FailedPrecondition,
};

/** A ModelError or ScreeningError as the DomainError a client sees; any other error unchanged. */
export function asDomainError(error: unknown, field?: string): unknown {
  if (error instanceof ModelError) return new DomainError(modelErrorCodes[error.code], error.message, field);
  if (error instanceof ScreeningError) return new DomainError(screeningErrorCodes[error.code], error.message, field);
  return error;
}

/** Runs a handler's work with asDomainError applied to what it throws. */
export async function withErrorCodes<T>(run: () => Promise<T>, field?: string): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw asDomainError(error, field);
  }
}
