// gRPC server reflection (v1 and v1alpha) so grpcurl, buf curl and Postman can discover our APIs.
import { type DescExtension, type DescFile, toBinary } from "@bufbuild/protobuf";
import { nestedTypes } from "@bufbuild/protobuf/reflect";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import * as v1 from "@qenex/gen/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "@qenex/gen/grpc/reflection/v1alpha/reflection_pb.js";

type ReflectionRequest = v1.ServerReflectionRequest | v1alpha.ServerReflectionRequest;

/** The response oneof; plain init objects fit both versions because they are wire-identical. */
type ResponseBody =
  | { case: "fileDescriptorResponse"; value: { fileDescriptorProto: Uint8Array[] } }
  | {
      case: "allExtensionNumbersResponse";
      value: { baseTypeName: string; extensionNumber: number[] };
    }
  | { case: "listServicesResponse"; value: { service: { name: string }[] } }
  | { case: "errorResponse"; value: { errorCode: number; errorMessage: string } };

interface ReflectionIndex {
  readonly services: readonly string[];
  readonly files: ReadonlyMap<string, DescFile>;
  readonly symbols: ReadonlyMap<string, DescFile>;
  /** Extendee type name -> extension number -> declaring file. */
  readonly extensions: ReadonlyMap<string, ReadonlyMap<number, DescFile>>;
}

/**
 * Serves reflection for the given service files (and everything they import) under both
 * grpc.reflection.v1 and grpc.reflection.v1alpha, since older clients only speak v1alpha.
 */
export function registerReflection(router: ConnectRouter, files: readonly DescFile[]): void {
  const reflectionFiles = [v1.ServerReflection.file, v1alpha.ServerReflection.file];
  const index = buildIndex([...files, ...reflectionFiles]);
  router.service(v1.ServerReflection, {
    serverReflectionInfo: reflectionInfo<v1.ServerReflectionRequest>(index),
  });
  router.service(v1alpha.ServerReflection, {
    serverReflectionInfo: reflectionInfo<v1alpha.ServerReflectionRequest>(index),
  });
}

function reflectionInfo<Req extends ReflectionRequest>(index: ReflectionIndex) {
  return async function* (requests: AsyncIterable<Req>) {
    // Clients keep what they received, so a stream never resends an import (as grpcreflect-go).
    const sent = new Set<string>();
    for await (const request of requests) {
      const messageResponse = answer(index, request, sent);
      yield { validHost: request.host, originalRequest: request, messageResponse };
    }
  };
}

function answer(index: ReflectionIndex, request: ReflectionRequest, sent: Set<string>): ResponseBody {
  const { messageRequest: req } = request;
  switch (req.case) {
    case "listServices":
      return {
        case: "listServicesResponse",
        value: { service: index.services.map((name) => ({ name })) },
      };
    case "fileByFilename":
      return filesResponse(index.files.get(req.value), sent, `file "${req.value}"`);
    case "fileContainingSymbol":
      return filesResponse(index.symbols.get(req.value), sent, `symbol "${req.value}"`);
    case "fileContainingExtension": {
      const { containingType, extensionNumber } = req.value;
      const file = index.extensions.get(containingType)?.get(extensionNumber);
      return filesResponse(file, sent, `extension ${extensionNumber} of "${containingType}"`);
    }
    case "allExtensionNumbersOfType":
      return extensionNumbers(index, req.value);
    default:
      // A stream error, not an error_response: the request itself is malformed (as grpcreflect-go).
      throw new ConnectError("reflection request sets no message_request", Code.InvalidArgument);
  }
}

function filesResponse(file: DescFile | undefined, sent: Set<string>, what: string): ResponseBody {
  if (file === undefined) return notFound(what);
  return {
    case: "fileDescriptorResponse",
    value: { fileDescriptorProto: withDependencies(file, sent) },
  };
}

/** The requested file always goes out (the client asked for it); its imports only when new. */
function withDependencies(file: DescFile, sent: Set<string>): Uint8Array[] {
  const out: Uint8Array[] = [];
  const queue = [file];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    const name = next.proto.name;
    if (out.length > 0 && sent.has(name)) continue;
    sent.add(name);
    out.push(toBinary(FileDescriptorProtoSchema, next.proto));
    queue.push(...next.dependencies);
  }
  return out;
}

function extensionNumbers(index: ReflectionIndex, typeName: string): ResponseBody {
  if (!index.symbols.has(typeName)) return notFound(`type "${typeName}"`);
  const numbers = [...(index.extensions.get(typeName)?.keys() ?? [])].sort((a, b) => a - b);
  return {
    case: "allExtensionNumbersResponse",
    value: { baseTypeName: typeName, extensionNumber: numbers },
  };
}

function notFound(what: string): ResponseBody {
  return {
    case: "errorResponse",
    value: { errorCode: Code.NotFound, errorMessage: `${what} not found` },
  };
}

function buildIndex(roots: readonly DescFile[]): ReflectionIndex {
  const files = transitiveFiles(roots);
  const symbols = new Map<string, DescFile>();
  const extensions = new Map<string, Map<number, DescFile>>();
  for (const file of files.values()) {
    for (const symbol of symbolsOf(file)) symbols.set(symbol, file);
    for (const ext of extensionsOf(file)) {
      const byNumber = extensions.get(ext.extendee.typeName) ?? new Map<number, DescFile>();
      extensions.set(ext.extendee.typeName, byNumber.set(ext.number, file));
    }
  }
  const services = new Set(roots.flatMap((file) => file.services.map((s) => s.typeName)));
  return { services: [...services], files, symbols, extensions };
}

function transitiveFiles(roots: readonly DescFile[]): Map<string, DescFile> {
  const files = new Map<string, DescFile>();
  const visit = (file: DescFile): void => {
    if (files.has(file.proto.name)) return;
    files.set(file.proto.name, file);
    file.dependencies.forEach(visit);
  };
  roots.forEach(visit);
  return files;
}

/** Every fully-qualified name a client may ask about, as protoregistry.FindDescriptorByName knows them. */
function* symbolsOf(file: DescFile): Generator<string> {
  for (const type of nestedTypes(file)) {
    yield type.typeName;
    if (type.kind === "service") yield* type.methods.map((m) => `${type.typeName}.${m.name}`);
    if (type.kind === "message") yield* type.fields.map((f) => `${type.typeName}.${f.name}`);
    if (type.kind === "message") yield* type.oneofs.map((o) => `${type.typeName}.${o.name}`);
    // Enum values live in the enum's enclosing scope, not inside the enum (C++ scoping rules).
    if (type.kind === "enum") yield* type.values.map((v) => `${parentScope(type.typeName)}${v.name}`);
  }
}

function extensionsOf(file: DescFile): DescExtension[] {
  return [...nestedTypes(file)].filter((type): type is DescExtension => type.kind === "extension");
}

function parentScope(typeName: string): string {
  const dot = typeName.lastIndexOf(".");
  return dot < 0 ? "" : typeName.slice(0, dot + 1);
}
