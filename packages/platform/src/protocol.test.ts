// What foreign clients get back from any QENEX server: deadlines of any length, the health
// protocol's Watch kept open, UNIMPLEMENTED in the caller's protocol, and NUL characters refused.
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { Health, HealthCheckResponse_ServingStatus as Status } from "@qenex/gen/grpc/health/v1/health_pb.js";
import { LedgerService } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuth } from "./auth.js";
import { createLogger } from "./logger.js";
import { binding, type Server, serve } from "./server.js";

let server: Server;
beforeAll(async () => {
  server = await serve({
    services: [binding(LedgerService, { getAccount: async (req) => ({ account: { accountId: req.accountId } }) })],
    host: "127.0.0.1",
    port: 0,
    auth: createAuth("protocol-test-secret-protocol-test-se01"),
    logger: createLogger("test", "silent"),
    ready: async () => true,
  });
});
afterAll(() => server.close(0));

const health = () => createClient(Health, createGrpcTransport({ baseUrl: server.url }));

async function rpcError(call: Promise<unknown>): Promise<ConnectError> {
  try {
    await call;
  } catch (error) {
    return ConnectError.from(error);
  }
  throw new Error("expected the call to fail");
}

describe("a QENEX server, to any gRPC or Connect client", () => {
  it("accepts a deadline longer than a minute, as gRPC servers do", async () => {
    expect((await health().check({ service: "" }, { timeoutMs: 300_000 })).status).toBe(Status.SERVING);
  });

  it("keeps Health.Watch open on an unknown service after saying SERVICE_UNKNOWN", async () => {
    const statuses: Status[] = [];
    // The call may only end by its own deadline: the health protocol never ends it.
    const error = await rpcError(
      (async () => {
        for await (const res of health().watch({ service: "no.such.Service" }, { timeoutMs: 1_000 })) statuses.push(res.status);
      })(),
    );
    expect(statuses).toEqual([Status.SERVICE_UNKNOWN]);
    expect(error.code).toBe(Code.DeadlineExceeded);
  });

  it("answers an unknown procedure with UNIMPLEMENTED: a grpc-js client reads the status, Connect gets error JSON", async () => {
    // grpc-js reads a status from headers only when that frame ends the stream, which Node's
    // HTTP/2 compatibility API never does: the status must come in trailers.
    const client = new grpc.Client(new URL(server.url).host, grpc.credentials.createInsecure());
    try {
      const error = await new Promise<grpc.ServiceError | null>((resolve) =>
        client.makeUnaryRequest(
          "/qenex.ledger.v1.LedgerService/NoSuchMethod",
          (bytes: Buffer) => bytes,
          (bytes: Buffer) => bytes,
          Buffer.alloc(0),
          (callError) => resolve(callError),
        ),
      );
      expect(error?.code).toBe(grpc.status.UNIMPLEMENTED);
      expect(error?.details).toBe("/qenex.ledger.v1.LedgerService/NoSuchMethod is not a procedure of this server");
    } finally {
      client.close();
    }
    const connect = await fetch(`${server.url}/qenex.ledger.v1.LedgerService/NoSuchMethod`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(connect.status).toBe(404);
    expect(await connect.json()).toMatchObject({ code: "unimplemented" });
  });

  it("refuses a NUL character in a text field as INVALID_ARGUMENT naming the field", async () => {
    const error = await rpcError(health().check({ service: "a\u0000b" }));
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toMatch(/^service contains a NUL character/);
  });
});
