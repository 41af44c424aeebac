// What foreign clients get back from any QENEX server: deadlines of any length, the health
// protocol's Watch kept open, UNIMPLEMENTED in the caller's protocol, and NUL characters refused.
import * as http2 from "node:http2";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
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

  it("answers an unknown procedure with UNIMPLEMENTED: gRPC status in headers, Connect error JSON", async () => {
    const session = http2.connect(server.url);
    try {
      const headers = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
        const stream = session.request({
          ":method": "POST",
          ":path": "/no.such.Service/Method",
          "content-type": "application/grpc",
          te: "trailers",
        });
        stream.on("response", resolve);
        stream.on("error", reject);
        stream.end(Buffer.from([0, 0, 0, 0, 0]));
      });
      expect(headers[":status"]).toBe(200);
      expect(headers["grpc-status"]).toBe(String(Code.Unimplemented));
    } finally {
      session.close();
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
