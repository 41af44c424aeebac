// Errors over REST: google.rpc.Status JSON with the HTTP status of the standard mapping
// (https://github.com/googleapis/googleapis/blob/master/google/rpc/code.proto).
import { toJson } from "@bufbuild/protobuf";
import { violationsToProto } from "@bufbuild/protovalidate";
import { Code, ConnectError } from "@connectrpc/connect";
import { fieldOf } from "./transcode.js";

const httpStatusByCode: Record<Code, number> = {
  [Code.Canceled]: 499,
  [Code.Unknown]: 500,
  [Code.InvalidArgument]: 400,
  [Code.DeadlineExceeded]: 504,
  [Code.NotFound]: 404,
  [Code.AlreadyExists]: 409,
  [Code.PermissionDenied]: 403,
  [Code.ResourceExhausted]: 429,
  [Code.FailedPrecondition]: 400,
  [Code.Aborted]: 409,
  [Code.OutOfRange]: 400,
  [Code.Unimplemented]: 501,
  [Code.Internal]: 500,
  [Code.Unavailable]: 503,
  [Code.DataLoss]: 500,
  [Code.Unauthenticated]: 401,
};

export function httpStatusOf(code: Code): number {
  return httpStatusByCode[code] ?? 500;
}

// protovalidate's own generated schema for buf.validate.Violations, the detail services send.
const [, violationsSchema] = violationsToProto([]);

type StatusDetail = { "@type": string; [key: string]: unknown };
export type StatusJson = { code: number; message: string; details: StatusDetail[] };

/**
 * The error as google.rpc.Status JSON. Field violations from the service (or from the edge's
 * own parsing) appear twice: as the service's buf.validate.Violations and as the
 * google.rpc.BadRequest that generic REST clients know.
 */
export function statusJson(error: ConnectError): StatusJson {
  const details: StatusDetail[] = [];
  const fieldViolations: { field: string; description: string }[] = [];
  for (const violations of error.findDetails(violationsSchema)) {
    details.push({ "@type": `type.googleapis.com/${violationsSchema.typeName}`, ...(toJson(violationsSchema, violations) as object) });
    for (const v of violations.violations) {
      const field = (v.field?.elements ?? [])
        .map((e) => (e.subscript.case === "index" ? `${e.fieldName}[${e.subscript.value}]` : e.fieldName))
        .join(".");
      fieldViolations.push({ field, description: v.message });
    }
  }
  const edgeField = fieldOf.get(error);
  if (edgeField !== undefined) fieldViolations.push({ field: edgeField, description: error.rawMessage });
  if (fieldViolations.length > 0) details.push({ "@type": "type.googleapis.com/google.rpc.BadRequest", fieldViolations });
  return { code: error.code, message: error.rawMessage, details };
}

export function asConnectError(error: unknown): ConnectError {
  if (error instanceof ConnectError) return error;
  return new ConnectError("internal error", Code.Internal);
}
