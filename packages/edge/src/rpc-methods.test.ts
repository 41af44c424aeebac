// gRPC, gRPC-Web and Connect streaming exist only over POST (Connect unary over POST and GET):
// a request with another method is a REST caller whatever its Content-Type claims, and the
// path as sent, not a normalized one, decides whether it names a procedure. Found by the fuzz
// test (packages/cli/src/fuzz.test.ts).
import * as http2 from "node:http2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestEdge, type TestEdge } from "./testing/harness.js";

let edge: TestEdge;
let session: http2.ClientHttp2Session;
let token: string;

beforeAll(async () => {
  edge = await startTestEdge();
  session = http2.connect(edge.url);
  token = await edge.token(["admin"], "methods");
});
afterAll(async () => {
  session?.close();
  await edge?.stop();
});

type Answer = { status: number; headers: http2.IncomingHttpHeaders; body: string };

function send(method: string, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const stream = session.request(
      { ":method": method, ":path": path, authorization: `Bearer ${token}`, ...headers },
      { endStream: false },
    );
    let answer: Omit<Answer, "body"> | undefined;
    const chunks: Buffer[] = [];
    stream.on("response", (h) => {
      answer = { status: Number(h[":status"]), headers: h };
    });
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("close", () => {
      if (answer) resolve({ ...answer, body: Buffer.concat(chunks).toString("utf8") });
      else reject(new Error(`stream closed without a response (RST_STREAM code ${stream.rstCode})`));
    });
    stream.on("error", () => {});
    stream.end();
  });
}

describe("only POST carries gRPC, gRPC-Web and Connect streaming", () => {
  for (const contentType of ["application/grpc", "application/grpc-web+proto", "application/connect+json"]) {
    it(`HEAD on a REST path with ${contentType} gets REST's status, not a 200 with no RPC status`, async () => {
      const answer = await send("HEAD", "/api/v1/accounts/a", { "content-type": contentType });
      expect(answer.status).toBe(405);
      expect(answer.headers["content-type"]).toBe("application/json");
      expect(answer.headers.allow).toBe("GET");
    });

    it(`PUT on a REST path with ${contentType} is REST's 404 with a message`, async () => {
      const answer = await send("PUT", "/api/v1/nowhere", { "content-type": contentType });
      expect(answer.status).toBe(404);
      expect(JSON.parse(answer.body)).toMatchObject({ code: 5, message: "no route for PUT /api/v1/nowhere" });
    });
  }

  it("a DELETE on a procedure's path is a REST 404, not a call forwarded to the service", async () => {
    const answer = await send("DELETE", "/qenex.ledger.v1.LedgerService/GetAccount", { "content-type": "application/grpc" });
    expect(answer.status).toBe(404);
    expect(JSON.parse(answer.body)).toMatchObject({ code: 5, message: "no route for DELETE /qenex.ledger.v1.LedgerService/GetAccount" });
  });
});

describe("the path as sent decides whether it names a procedure", () => {
  it("a path that becomes RPC-shaped only once `..` is resolved is no procedure: 404, not 501", async () => {
    const answer = await send("POST", "/2._k/ACC-1/../Method", { "content-type": "application/json" });
    expect(answer.status).toBe(404);
    expect(JSON.parse(answer.body)).toMatchObject({ code: 5, message: "no route for POST /2._k/ACC-1/../Method" });
  });

  it("an unknown procedure sent as is stays Connect's 404 unimplemented", async () => {
    const answer = await send("POST", "/2._k/Method", { "content-type": "application/json" });
    expect(answer.status).toBe(404);
    expect(JSON.parse(answer.body)).toEqual({ code: "unimplemented", message: "/2._k/Method is not a procedure this edge routes" });
  });
});
