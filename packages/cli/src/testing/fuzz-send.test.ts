// The fuzz judge reads an answer as the protocol the server chose, which follows the request's
// content type rather than the generator's label.
import { describe, expect, it } from "vitest";
import type { FuzzRequest } from "./fuzz-requests.js";
import { type Answer, judge } from "./fuzz-send.js";

function request(protocol: FuzzRequest["protocol"], contentType: string): FuzzRequest {
  return {
    protocol,
    http2: true,
    method: "POST",
    path: "/qenex.ledger.v1.LedgerService/GetBalance",
    headers: { "content-type": contentType, "content-encoding": "zstd" },
    body: Buffer.alloc(0),
    deadline: false,
  } as FuzzRequest;
}

const unimplementedJson: Answer = {
  kind: "response",
  httpStatus: 501,
  headers: { "content-type": "application/json" },
  trailers: {},
  body: Buffer.from(JSON.stringify({ code: "unimplemented", message: 'unknown compression "zstd": supported encodings are gzip,br' })),
};

describe("judging an unsupported compression", () => {
  it("a gRPC-labelled request sent as application/proto is a Connect call: its 501 unimplemented is Connect's rule", () => {
    expect(judge(request("grpc", "application/proto"), unimplementedJson)).toEqual({ outcome: "unimplemented" });
    expect(judge(request("grpc-web", "application/json; charset=utf-8"), unimplementedJson)).toEqual({ outcome: "unimplemented" });
  });

  it("a REST route answering 501 is still a violation", () => {
    expect(judge({ ...request("rest", "application/json"), path: "/api/v1/accounts" }, unimplementedJson).violation).toMatch(/^HTTP 501/);
  });

  it("a gRPC answer must carry grpc-status: a JSON 501 to application/grpc is still a violation", () => {
    const answer: Answer = { ...unimplementedJson, headers: { "content-type": "application/grpc" } };
    expect(judge(request("grpc", "application/grpc"), answer).violation).toMatch(/no grpc-status/);
  });
});
