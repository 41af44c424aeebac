// Errors that handlers throw on purpose, and the one place they become Connect codes.

import type { Path } from "@bufbuild/protobuf/reflect";
import { ValidationError, Violation, violationsToProto } from "@bufbuild/protovalidate";
import { Code, ConnectError } from "@connectrpc/connect";

/** A failure the caller can act on: its code and message reach the client unchanged. */
export class DomainError extends Error {
  override name = "DomainError";
  constructor(
    readonly code: Code,
    message: string,
    /** The request field at fault, when there is one ("source_account"). */
    readonly field?: string,
  ) {
    super(message);
  }
}

/**
 * A bad-input error for one field, in the same shape protovalidate gives: InvalidArgument
 * with buf.validate.Violations details, so clients read every field error the same way.
 */
export function fieldViolation(field: Path, message: string, ruleId: string): ValidationError {
  return new ValidationError([new Violation(message, ruleId, field, [], false)]);
}

/** Turns a ValidationError into the InvalidArgument error protovalidate's interceptor sends. */
export function validationToConnectError(error: ValidationError): ConnectError {
  const [violations, schema] = violationsToProto(error.violations);
  return new ConnectError(error.message, Code.InvalidArgument, undefined, [{ desc: schema, value: violations }]);
}
