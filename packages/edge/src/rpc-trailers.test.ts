// gRPC's status travels in trailers; the edge passes them on whichever HTTP version the caller used.
import * as http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestEdge, type TestEdge } from "./testing/harness.js";

let edge: TestEdge;

beforeAll(async () => {
  edge = await startTestEdge();
});
afterAll(async () => {
  await edge?.stop();
});

/** A gRPC request over HTTP/1.1 (as curl sends it without --http2): status, trailers, body. */
function grpcOverHttp1(path: string, token: string, frame: Buffer) {
  const url = new URL(edge.url);
  return new Promise<{ status: number; trailers: NodeJS.Dict<string> }>((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: "POST",
        path,
        headers: { "content-type": "application/grpc", authorization: `Bearer ${token}` },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode ?? 0, trailers: res.trailers }));
      },
    );
    req.on("error", reject);
    req.end(frame);
  });
}

describe("gRPC trailers through the edge", () => {
  it("passes grpc-status to a gRPC caller on HTTP/1.1, for a success and for an error", async () => {
    const token = await edge.token(["admin"]);
    const empty = Buffer.from([0, 0, 0, 0, 0]);
    const ok = await grpcOverHttp1("/qenex.ledger.v1.LedgerService/GetTrialBalance", token, empty);
    expect([ok.status, ok.trailers["grpc-status"]]).toEqual([200, "0"]);
    const missing = await grpcOverHttp1("/qenex.ledger.v1.LedgerService/GetAccount", token, empty);
    expect(missing.trailers["grpc-status"]).toBe("3");
    expect(missing.trailers["grpc-message"]).toMatch(/account_id/);
  });
});
