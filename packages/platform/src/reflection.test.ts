// Checks reflection against a real HTTP/2 server, both with buf curl and with a raw reflection client.
import { execFile } from "node:child_process";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { create, equals, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { ViolationsSchema } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { createClient } from "@connectrpc/connect";
import { connectNodeAdapter, createGrpcTransport } from "@connectrpc/connect-node";
import {
  ExtensionRequestSchema,
  ServerReflection,
  type ServerReflectionRequest,
  type ServerReflectionResponse,
} from "@qenex/gen/grpc/reflection/v1/reflection_pb.js";
import { LedgerService } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerReflection } from "./reflection.js";

const run = promisify(execFile);
const buf = fileURLToPath(new URL("../../../node_modules/.bin/buf", import.meta.url));
const grpc = ["curl", "--protocol", "grpc", "--http2-prior-knowledge"];

let server: http2.Http2Server;
let baseUrl: string;

beforeAll(async () => {
  server = http2.createServer(
    connectNodeAdapter({
      routes: (router) => {
        router.service(LedgerService, {});
        registerReflection(router, [LedgerService.file]);
      },
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

async function bufCurl(...args: string[]): Promise<string> {
  const { stdout } = await run(buf, [...grpc, ...args], { timeout: 20_000 });
  return stdout;
}

describe("reflection via buf curl", () => {
  it("lists the served services and the reflection service", async () => {
    const services = (await bufCurl("--list-services", baseUrl)).split("\n");
    expect(services).toContain("qenex.ledger.v1.LedgerService");
    expect(services).toContain("grpc.reflection.v1.ServerReflection");
  });

  it("lists methods", async () => {
    const methods = (await bufCurl("--list-methods", baseUrl)).split("\n");
    expect(methods).toContain("qenex.ledger.v1.LedgerService/GetAccount");
  });

  it("speaks v1alpha for older clients", async () => {
    const services = await bufCurl("--reflect-protocol", "grpc-v1alpha", "--list-services", baseUrl);
    expect(services.split("\n")).toContain("qenex.ledger.v1.LedgerService");
  });

  it("resolves a request schema so the call reaches the (unimplemented) handler", async () => {
    const url = `${baseUrl}/qenex.ledger.v1.LedgerService/GetAccount`;
    const call = bufCurl("-d", '{"accountId":"ACC001"}', url);
    // buf curl exits with the gRPC code << 3; Unimplemented (12) means the schema was found.
    await expect(call).rejects.toMatchObject({
      code: 12 << 3,
      stderr: expect.stringMatching(/unimplemented/i),
    });
  });

  it("checks request JSON against the reflected schema before sending", async () => {
    const call = bufCurl("-d", '{"nope":1}', `${baseUrl}/qenex.ledger.v1.LedgerService/GetAccount`);
    await expect(call).rejects.toMatchObject({
      stderr: expect.stringContaining('unknown field "nope"'),
    });
  });
});

describe("reflection protocol", () => {
  const client = () => createClient(ServerReflection, createGrpcTransport({ baseUrl }));

  async function exchange(...messageRequests: ServerReflectionRequest["messageRequest"][]) {
    async function* requests() {
      for (const messageRequest of messageRequests) yield { host: "qenex", messageRequest };
    }
    const responses: ServerReflectionResponse[] = [];
    for await (const response of client().serverReflectionInfo(requests())) responses.push(response);
    return responses;
  }

  function fileNames(response: ServerReflectionResponse | undefined): string[] {
    if (response?.messageResponse.case !== "fileDescriptorResponse") return [];
    const protos = response.messageResponse.value.fileDescriptorProto;
    return protos.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes).name);
  }

  it("returns the file of a symbol with its imports, and each import only once per stream", async () => {
    const [first, second] = await exchange(
      { case: "fileContainingSymbol", value: "qenex.ledger.v1.LedgerService" },
      { case: "fileContainingSymbol", value: "qenex.ledger.v1.LedgerService.GetAccount" },
    );
    expect(fileNames(first)[0]).toBe("qenex/ledger/v1/ledger.proto");
    expect(fileNames(first)).toContain("google/protobuf/timestamp.proto");
    expect(fileNames(second)).toEqual(["qenex/ledger/v1/ledger.proto"]);
    expect(first?.validHost).toBe("qenex");
    expect(first?.originalRequest?.messageRequest).toEqual({
      case: "fileContainingSymbol",
      value: "qenex.ledger.v1.LedgerService",
    });
  });

  it("answers unknown symbols, files and types with NOT_FOUND instead of failing the stream", async () => {
    const responses = await exchange(
      { case: "fileContainingSymbol", value: "qenex.nope.v1.Missing" },
      { case: "fileByFilename", value: "nope.proto" },
      { case: "allExtensionNumbersOfType", value: "qenex.nope.v1.Missing" },
      { case: "fileByFilename", value: "qenex/ledger/v1/ledger.proto" },
    );
    const codes = responses.map((r) => (r.messageResponse.case === "errorResponse" ? r.messageResponse.value.errorCode : 0));
    expect(codes).toEqual([5, 5, 5, 0]);
  });

  it("finds extensions by extendee and number", async () => {
    const [byNumber, numbers] = await exchange(
      {
        case: "fileContainingExtension",
        value: create(ExtensionRequestSchema, {
          containingType: "google.protobuf.MethodOptions",
          extensionNumber: 72295728,
        }),
      },
      { case: "allExtensionNumbersOfType", value: "google.protobuf.FieldOptions" },
    );
    expect(fileNames(byNumber)[0]).toBe("google/api/annotations.proto");
    expect(numbers?.messageResponse).toMatchObject({
      case: "allExtensionNumbersResponse",
      value: {
        baseTypeName: "google.protobuf.FieldOptions",
        extensionNumber: expect.arrayContaining([1159]),
      },
    });
  });

  it("lists services including both reflection versions", async () => {
    const [list] = await exchange({ case: "listServices", value: "*" });
    const names = list?.messageResponse.case === "listServicesResponse" ? list.messageResponse.value.service : [];
    expect(names.map((s) => s.name)).toEqual([
      "qenex.ledger.v1.LedgerService",
      "grpc.reflection.v1.ServerReflection",
      "grpc.reflection.v1alpha.ServerReflection",
    ]);
  });

  it("resolves buf.validate.Violations, the error detail, as the same file the runtime encodes it with", async () => {
    const [response] = await exchange({ case: "fileContainingSymbol", value: "buf.validate.Violations" });
    if (response?.messageResponse.case !== "fileDescriptorResponse") throw new Error(`no file: ${JSON.stringify(response)}`);
    const [served] = response.messageResponse.value.fileDescriptorProto.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes));
    expect(served?.name).toBe("buf/validate/validate.proto");
    // A trimmed copy would still parse; only the whole upstream file equals the runtime's descriptor.
    expect(served && equals(FileDescriptorProtoSchema, served, ViolationsSchema.file.proto)).toBe(true);
  });
});
