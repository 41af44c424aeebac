// Errors the edge answers itself on RPC routes reach each kind of client in its own protocol:
// gRPC (grpc-js and connect-es), gRPC-Web, Connect unary and Connect streaming; REST keeps
// google.rpc.Status JSON.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { ConformanceService } from "@qenex/gen/qenex/conformance/v1/conformance_pb.js";
import { GetAccountRequestSchema, GetAccountResponseSchema, LedgerService } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { RiskService } from "@qenex/gen/qenex/risk/v1/risk_pb.js";
import { createMemoryRateLimiter, messageBytesMax } from "@qenex/platform";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestEdge, type TestEdge } from "./testing/harness.js";

let edge: TestEdge;

beforeAll(async () => {
  edge = await startTestEdge({
    // A stopped clock: a principal's one token never comes back during the test.
    rateLimiter: createMemoryRateLimiter({ nowMs: () => 0 }),
    rateLimits: { perIp: { capacity: 1_000_000, refillPerSecond: 1 }, perPrincipal: { capacity: 1, refillPerSecond: 1 } },
  });
});
afterAll(async () => {
  await edge?.stop();
});

const bearer =
  (token: string): Interceptor =>
  (next) =>
  (req) => {
    req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };

const transports: Record<string, (token: string) => Transport> = {
  "gRPC (HTTP/2)": (token) => createGrpcTransport({ baseUrl: edge.url, interceptors: [bearer(token)] }),
  "gRPC-Web (HTTP/1.1)": (token) => createGrpcWebTransport({ baseUrl: edge.url, httpVersion: "1.1", interceptors: [bearer(token)] }),
  "Connect (HTTP/1.1)": (token) => createConnectTransport({ baseUrl: edge.url, httpVersion: "1.1", interceptors: [bearer(token)] }),
};

let subjects = 0;
/** A token of its own principal, with its one request still to spend. */
const freshToken = () => edge.token(["admin"], `fresh-${++subjects}`);

/** A token whose principal has spent its one request: the next one is rate-limited. */
async function spentToken(subject: string): Promise<string> {
  const token = await edge.token(["admin"], subject);
  const response = await fetch(`${edge.url}/v1/echo/spend`, { headers: { authorization: `Bearer ${token}` } });
  expect(response.status).toBe(200);
  return token;
}

describe("connect-es clients read the edge's own errors", () => {
  for (const [name, transport] of Object.entries(transports)) {
    it(`${name}: a bad token is UNAUTHENTICATED with its message, unary and streaming`, async () => {
      const client = createClient(LedgerService, transport("not-a-token"));
      const unary = await client.getAccount({ accountId: "a" }).catch((e: unknown) => ConnectError.from(e));
      expect(unary).toMatchObject({ code: Code.Unauthenticated, rawMessage: "invalid or expired bearer token" });
      const stream = await (async () => {
        for await (const _ of client.watchTransfers({ accountId: "a" })) return undefined;
        return undefined;
      })().catch((e: unknown) => ConnectError.from(e));
      expect(stream).toMatchObject({ code: Code.Unauthenticated, rawMessage: "invalid or expired bearer token" });
    });

    it(`${name}: over the rate limit is RESOURCE_EXHAUSTED naming the principal`, async () => {
      const subject = `limited-${name.replace(/\W+/g, "-")}`;
      const client = createClient(LedgerService, transport(await spentToken(subject)));
      const error = await client.getAccount({ accountId: "a" }).catch((e: unknown) => ConnectError.from(e));
      expect(error).toMatchObject({ code: Code.ResourceExhausted, rawMessage: `rate limit exceeded for ${subject}; retry later` });
    });

    it(`${name}: a service the edge does not route is UNIMPLEMENTED`, async () => {
      // The test edge fronts the ledger, auth and the conformance service, not risk.
      const client = createClient(RiskService, transport(await freshToken()));
      const error = await client.screenParty({}).catch((e: unknown) => ConnectError.from(e));
      expect(error).toMatchObject({ code: Code.Unimplemented });
      expect((error as ConnectError).rawMessage).toBe("/qenex.risk.v1.RiskService/ScreenParty is not a procedure this edge routes");
    });
  }
});

describe("a service that is down", () => {
  it("is UNAVAILABLE naming the service, with Retry-After, in every RPC protocol", async () => {
    const down = await startTestEdge();
    try {
      await down.conformance.close(0);
      const token = await down.token();
      const clients: [string, Transport][] = [
        ["gRPC", createGrpcTransport({ baseUrl: down.url, interceptors: [bearer(token)] })],
        ["gRPC-Web", createGrpcWebTransport({ baseUrl: down.url, httpVersion: "1.1", interceptors: [bearer(token)] })],
        ["Connect", createConnectTransport({ baseUrl: down.url, httpVersion: "1.1", interceptors: [bearer(token)] })],
      ];
      for (const [name, transport] of clients) {
        const error = await createClient(ConformanceService, transport)
          .echo({ id: "x" })
          .catch((e: unknown) => ConnectError.from(e));
        expect(error, name).toMatchObject({ code: Code.Unavailable });
        expect((error as ConnectError).rawMessage, name).toMatch(/^qenex\.conformance\.v1\.ConformanceService is unavailable: /);
        expect((error as ConnectError).metadata.get("retry-after"), name).toBe("1");
      }
    } finally {
      await down.stop();
    }
  });
});

describe("a @grpc/grpc-js client reads the edge's own errors", () => {
  const getAccount = (client: grpc.Client, path: string, token: string, accountId = "a") =>
    new Promise<grpc.ServiceError | null>((resolve) => {
      const metadata = new grpc.Metadata();
      metadata.set("authorization", `Bearer ${token}`);
      client.makeUnaryRequest(
        path,
        (m: ReturnType<typeof create<typeof GetAccountRequestSchema>>) => Buffer.from(toBinary(GetAccountRequestSchema, m)),
        (bytes: Buffer) => fromBinary(GetAccountResponseSchema, bytes),
        create(GetAccountRequestSchema, { accountId }),
        metadata,
        (error) => resolve(error),
      );
    });

  it("bad token: UNAUTHENTICATED; rate-limited: RESOURCE_EXHAUSTED with Retry-After; unknown method or service: UNIMPLEMENTED", async () => {
    const client = new grpc.Client(edge.url.replace("http://", ""), grpc.credentials.createInsecure());
    try {
      const path = "/qenex.ledger.v1.LedgerService/GetAccount";
      const unauthenticated = await getAccount(client, path, "bad-token");
      expect(unauthenticated).toMatchObject({ code: grpc.status.UNAUTHENTICATED, details: "invalid or expired bearer token" });

      const limited = await getAccount(client, path, await spentToken("grpcjs-limited"));
      // grpc-js shows grpc-message as sent: the edge encodes only what the gRPC spec asks.
      expect(limited).toMatchObject({
        code: grpc.status.RESOURCE_EXHAUSTED,
        details: "rate limit exceeded for grpcjs-limited; retry later",
      });
      expect(Number(limited?.metadata.get("retry-after")[0])).toBeGreaterThanOrEqual(1);

      const unknownMethod = await getAccount(client, "/qenex.ledger.v1.LedgerService/NoSuchMethod", await freshToken());
      expect(unknownMethod).toMatchObject({
        code: grpc.status.UNIMPLEMENTED,
        details: "/qenex.ledger.v1.LedgerService/NoSuchMethod is not a procedure this edge routes",
      });
      const unknown = await getAccount(client, "/qenex.nothing.v1.NoService/Call", await freshToken());
      expect(unknown).toMatchObject({
        code: grpc.status.UNIMPLEMENTED,
        details: "/qenex.nothing.v1.NoService/Call is not a procedure this edge routes",
      });
    } finally {
      client.close();
    }
  });

  it("a body over one message's limit is RESOURCE_EXHAUSTED, however the client sends it", async () => {
    const client = new grpc.Client(edge.url.replace("http://", ""), grpc.credentials.createInsecure());
    try {
      const error = await getAccount(
        client,
        "/qenex.ledger.v1.LedgerService/GetAccount",
        await freshToken(),
        "x".repeat(messageBytesMax + 1),
      );
      expect(error?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    } finally {
      client.close();
    }
  });
});

describe("the wire shapes", () => {
  const path = "/qenex.ledger.v1.LedgerService/GetAccount";

  it("Connect unary: Connect's error JSON with the HTTP status Connect maps the code to", async () => {
    const bad = await fetch(`${edge.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer nope" },
      body: "{}",
    });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toEqual({ code: "unauthenticated", message: "invalid or expired bearer token" });

    const limited = await fetch(`${edge.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${await spentToken("wire-limited")}` },
      body: "{}",
    });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await limited.json()).toEqual({ code: "resource_exhausted", message: "rate limit exceeded for wire-limited; retry later" });

    const tooLarge = await fetch(`${edge.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/proto", authorization: `Bearer ${await freshToken()}` },
      body: new Uint8Array(messageBytesMax + 6),
    });
    expect(tooLarge.status).toBe(429);
    // Refused on its declared length, before any byte goes to the ledger.
    expect(await tooLarge.json()).toEqual({
      code: "resource_exhausted",
      message: `request body exceeds ${messageBytesMax + 5} bytes (one message)`,
    });
  });

  it("gRPC-Web: HTTP 200 and the status in a trailer frame of the body", async () => {
    const response = await fetch(`${edge.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/grpc-web+proto", "x-grpc-web": "1", authorization: "Bearer nope" },
      body: new Uint8Array([0, 0, 0, 0, 0]),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/grpc-web+proto");
    const body = new Uint8Array(await response.arrayBuffer());
    expect(body[0]).toBe(0x80); // the trailer flag
    expect(new DataView(body.buffer).getUint32(1)).toBe(body.length - 5);
    const trailer = new TextDecoder()
      .decode(body.subarray(5))
      .split("\r\n")
      .filter((line) => line !== "");
    expect(trailer.sort()).toEqual(["grpc-message: invalid or expired bearer token", "grpc-status: 16"]);
  });

  it("gRPC-Web text: the same trailer frame, base64-encoded", async () => {
    const response = await fetch(`${edge.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/grpc-web-text", authorization: "Bearer nope" },
      body: "AAAAAAA=",
    });
    expect(response.headers.get("content-type")).toBe("application/grpc-web-text+proto");
    const frame = Buffer.from(await response.text(), "base64");
    expect(frame[0]).toBe(0x80);
    expect(frame.subarray(5).toString("utf8")).toContain("grpc-status: 16\r\n");
  });

  it("Connect streaming: HTTP 200 and an end-of-stream message with the error", async () => {
    const response = await fetch(`${edge.url}/qenex.ledger.v1.LedgerService/WatchTransfers`, {
      method: "POST",
      headers: { "content-type": "application/connect+json", authorization: "Bearer nope" },
      body: new Uint8Array([0, 0, 0, 0, 2, 0x7b, 0x7d]),
    });
    expect(response.status).toBe(200);
    const body = new Uint8Array(await response.arrayBuffer());
    expect(body[0]).toBe(0x02); // the end-stream flag
    expect(JSON.parse(new TextDecoder().decode(body.subarray(5)))).toEqual({
      error: { code: "unauthenticated", message: "invalid or expired bearer token" },
    });
  });

  it("REST keeps google.rpc.Status JSON with the numeric code", async () => {
    const response = await fetch(`${edge.url}/v1/echo/x`, { headers: { authorization: "Bearer nope" } });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ code: Code.Unauthenticated, message: "invalid or expired bearer token", details: [] });
  });
});
