// Errors that handlers throw on purpose, and the one place they become Connect codes.

import type { DescField, DescMessage } from "@bufbuild/protobuf";
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

/**
 * fieldViolation for the field at `path` in `schema`, each step named by its proto or local
 * name (["page", "page_token"] or ["page", "pageToken"]). A path the schema lacks is a bug.
 */
export function fieldViolationAt(schema: DescMessage, path: readonly string[], message: string, ruleId: string): ValidationError {
  const fields: DescField[] = [];
  let current: DescMessage | undefined = schema;
  for (const name of path) {
    const field: DescField | undefined = current?.field[name] ?? current?.fields.find((f) => f.name === name);
    if (!field) throw new Error(`${schema.typeName} has no field ${path.join(".")}`);
    fields.push(field);
    current = field.message;
  }
  return fieldViolation(fields, message, ruleId);
}

/** Turns a ValidationError into the InvalidArgument error protovalidate's interceptor sends. */
export function validationToConnectError(error: ValidationError): ConnectError {
  const [violations, schema] = violationsToProto(error.violations);
  return new ConnectError(error.message, Code.InvalidArgument, undefined, [{ desc: schema, value: violations }]);
}
