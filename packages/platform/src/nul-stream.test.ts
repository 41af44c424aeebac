// A NUL character in a streaming call's request is refused like a unary one's, before any
// handler passes it to PostgreSQL (found by the fuzz test: WatchTransfers answered INTERNAL).
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Health } from "@qenex/gen/grpc/health/v1/health_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuth } from "./auth.js";
import { createLogger } from "./logger.js";
import { type Server, serve } from "./server.js";

let server: Server;
beforeAll(async () => {
  server = await serve({
    services: [],
    host: "127.0.0.1",
    port: 0,
    auth: createAuth("nul-stream-test-secret-nul-stream-te01"),
    logger: createLogger("test", "silent"),
    ready: async () => true,
  });
});
afterAll(() => server.close(0));

describe("NUL characters in streams", () => {
  it("refuses a server stream's request holding a NUL as INVALID_ARGUMENT naming the field", async () => {
    const health = createClient(Health, createGrpcTransport({ baseUrl: server.url }));
    // Without the check, Watch answers SERVICE_UNKNOWN and stays open until this deadline.
    const error = await (async () => {
      try {
        for await (const _ of health.watch({ service: "a\u0000b" }, { timeoutMs: 5_000 })) {
        }
      } catch (e) {
        return ConnectError.from(e);
      }
      return undefined;
    })();
    expect(error?.code).toBe(Code.InvalidArgument);
    expect(error?.rawMessage).toMatch(/^service contains a NUL character/);
  });
});
