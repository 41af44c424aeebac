// RPC clients through the edge: Connect-Web (browser transport, fetch), gRPC-Web and gRPC
// reach the ledger at /qenex.ledger.v1.LedgerService/<Method>; CORS for browsers.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { createConnectTransport } from "@connectrpc/connect-web";
import * as grpc from "@grpc/grpc-js";
import { Health, HealthCheckResponse_ServingStatus } from "@qenex/gen/grpc/health/v1/health_pb.js";
import { AccountType, GetAccountRequestSchema, GetAccountResponseSchema, LedgerService } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { uniquePrefix } from "@qenex/ledger/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestEdge, type TestEdge } from "./testing/harness.js";

let edge: TestEdge;
let bearer: Interceptor;
const allowedOrigin = "https://app.example.com";

beforeAll(async () => {
  edge = await startTestEdge({ corsOrigins: [allowedOrigin] });
  const token = await edge.token(["admin"]);
  bearer = (next) => (req) => {
    req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
});
afterAll(async () => {
  await edge?.stop();
});

describe("RPC routing", () => {
  it("a Connect-Web client calls the ledger through the edge", async () => {
    const client = createClient(LedgerService, createConnectTransport({ baseUrl: edge.url, interceptors: [bearer] }));
    const id = `${uniquePrefix("web")}-A`;
    const created = await client.createAccount({
      accountId: id,
      accountType: AccountType.CHECKING,
      currency: "USD",
      initialBalance: "12.34",
    });
    expect(created.account?.accountId).toBe(id);
    const balance = await client.getBalance({ accountId: id });
    expect(JSON.stringify(balance, (_key, value) => (typeof value === "bigint" ? String(value) : value))).toContain("12.34");
  });

  it("gRPC (HTTP/2, trailers) and gRPC-Web reach the ledger through the edge, errors included", async () => {
    for (const transport of [
      createGrpcTransport({ baseUrl: edge.url, interceptors: [bearer] }),
      createGrpcWebTransport({ baseUrl: edge.url, httpVersion: "1.1", interceptors: [bearer] }),
    ]) {
      const client = createClient(LedgerService, transport);
      const id = `${uniquePrefix("rpc")}-A`;
      await client.createAccount({ accountId: id, accountType: AccountType.CHECKING, currency: "USD" });
      expect((await client.getAccount({ accountId: id })).account?.accountId).toBe(id);
      const error = await client.getAccount({ accountId: "nobody-here-x" }).catch((e: unknown) => ConnectError.from(e));
      expect(error).toBeInstanceOf(ConnectError);
      expect((error as ConnectError).code).toBe(Code.NotFound);
    }
  });

  it("a @grpc/grpc-js client (as banks' backends use) gets answers and status codes through the edge", async () => {
    const client = new grpc.Client(edge.url.replace("http://", ""), grpc.credentials.createInsecure());
    const getAccount = (accountId: string, token: string) =>
      new Promise<{ error: grpc.ServiceError | null; accountId?: string }>((resolve) => {
        const metadata = new grpc.Metadata();
        metadata.set("authorization", `Bearer ${token}`);
        client.makeUnaryRequest(
          "/qenex.ledger.v1.LedgerService/GetAccount",
          (m: ReturnType<typeof create<typeof GetAccountRequestSchema>>) => Buffer.from(toBinary(GetAccountRequestSchema, m)),
          (bytes: Buffer) => fromBinary(GetAccountResponseSchema, bytes),
          create(GetAccountRequestSchema, { accountId }),
          metadata,
          (error, response) => resolve({ error, ...(response?.account ? { accountId: response.account.accountId } : {}) }),
        );
      });
    try {
      const token = await edge.token(["admin"]);
      const id = `${uniquePrefix("grpcjs")}-A`;
      await createClient(LedgerService, createGrpcTransport({ baseUrl: edge.url, interceptors: [bearer] })).createAccount({
        accountId: id,
        accountType: AccountType.CHECKING,
        currency: "USD",
      });
      expect(await getAccount(id, token)).toEqual({ error: null, accountId: id });
      expect((await getAccount("nobody-here-y", token)).error?.code).toBe(grpc.status.NOT_FOUND);
      expect((await getAccount(id, "bad-token")).error?.code).toBe(grpc.status.UNAUTHENTICATED);
    } finally {
      client.close();
    }
  });

  it("server streaming passes through", async () => {
    const client = createClient(LedgerService, createGrpcTransport({ baseUrl: edge.url, interceptors: [bearer] }));
    const id = `${uniquePrefix("stream")}-A`;
    await client.createAccount({ accountId: id, accountType: AccountType.CHECKING, currency: "USD", initialBalance: "1.00" });
    const controller = new AbortController();
    const received: (string | undefined)[] = [];
    for await (const message of client.watchTransfers({ accountId: id }, { signal: controller.signal })) {
      received.push(message.transfer?.destinationAccount);
      controller.abort();
      break;
    }
    // A stream that ended without a message must fail here, not pass by skipping the loop.
    expect(received).toEqual([id]);
  });

  it("an RPC path of a service the edge does not front is not found", async () => {
    const response = await fetch(`${edge.url}/qenex.nothing.v1.NoService/Call`, {
      method: "POST",
      body: "{}",
      headers: { "content-type": "application/json" },
    });
    expect(response.status).toBe(404);
  });
});

describe("CORS", () => {
  it("answers a preflight from an allowed origin with what Connect-Web needs", async () => {
    const response = await fetch(`${edge.url}/qenex.ledger.v1.LedgerService/GetBalance`, {
      method: "OPTIONS",
      headers: {
        origin: allowedOrigin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type,connect-protocol-version,authorization",
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe(allowedOrigin);
    const allowHeaders = (response.headers.get("access-control-allow-headers") ?? "").toLowerCase();
    for (const name of ["content-type", "connect-protocol-version", "authorization", "x-grpc-web", "idempotency-key"]) {
      expect(allowHeaders).toContain(name);
    }
    expect(response.headers.get("access-control-allow-methods")).toContain("POST");
    expect(response.headers.get("access-control-max-age")).toBe("7200");
  });

  it("exposes grpc-status and friends on actual responses", async () => {
    const response = await fetch(`${edge.url}/health`, { headers: { origin: allowedOrigin } });
    expect(response.headers.get("access-control-allow-origin")).toBe(allowedOrigin);
    const exposed = (response.headers.get("access-control-expose-headers") ?? "").toLowerCase();
    for (const name of ["grpc-status", "grpc-message", "grpc-status-details-bin", "retry-after"]) expect(exposed).toContain(name);
  });

  it("refuses a preflight from another origin and sends no CORS headers to it", async () => {
    const preflight = await fetch(`${edge.url}/api/v1/accounts`, {
      method: "OPTIONS",
      headers: { origin: "https://evil.example.net", "access-control-request-method": "POST" },
    });
    expect(preflight.status).toBe(403);
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
    const plain = await fetch(`${edge.url}/health`, { headers: { origin: "https://evil.example.net" } });
    expect(plain.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("the edge's own RPC services", () => {
  it("lists every routed service by reflection (buf curl --list-services) and answers health for itself and each", async () => {
    const buf = fileURLToPath(new URL("../../../node_modules/.bin/buf", import.meta.url));
    const { stdout } = await promisify(execFile)(
      buf,
      ["curl", "--protocol", "grpc", "--http2-prior-knowledge", "--list-services", edge.url],
      {
        timeout: 30_000,
      },
    );
    const listed = stdout.trim().split("\n");
    for (const service of ["qenex.ledger.v1.LedgerService", "grpc.health.v1.Health"]) expect(listed).toContain(service);

    const health = createClient(Health, createGrpcTransport({ baseUrl: edge.url }));
    expect((await health.check({ service: "" })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    expect((await health.check({ service: "qenex.ledger.v1.LedgerService" })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    const unknown = await health.check({ service: "no.such.Service" }).catch((error: unknown) => ConnectError.from(error));
    expect(unknown).toMatchObject({ code: Code.NotFound });
  });
});
