// The fuzz test's own sender and judge: the sender must not itself break connections (what it
// reports as a transport error has to be the server's doing), and the judge reads an answer as
// the protocol the server chose, which follows the request's content type rather than the
// generator's label.
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { FuzzRequest } from "./fuzz-requests.js";
import { type Answer, createSender, judge } from "./fuzz-send.js";

const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

function request(http2: boolean): FuzzRequest {
  return { protocol: "raw", http2, method: "POST", path: "/", headers: {}, body: Buffer.from("0123456789"), deadline: false };
}

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("fuzz sender", () => {
  it("over HTTP/1.1, a kept-alive socket the server closed as the request went out is retried on a new one", async () => {
    // Each socket answers its first request and drops the second before answering: the race
    // with a server's keep-alive timeout, made certain.
    const served = new WeakMap<object, number>();
    const server = http.createServer((req, res) => {
      const count = (served.get(req.socket) ?? 0) + 1;
      served.set(req.socket, count);
      if (count > 1) {
        req.socket.destroy();
        return;
      }
      req.resume();
      req.on("end", () => res.end("ok"));
    });
    const url = await listen(server);
    const sender = createSender(url, 1);
    closers.push(
      () => sender.close(),
      () => server.close(),
    );
    expect(await sender.send(request(false))).toMatchObject({ kind: "response", httpStatus: 200 });
    expect(await sender.send(request(false))).toMatchObject({ kind: "response", httpStatus: 200 });
  });
});

function labelled(protocol: FuzzRequest["protocol"], contentType: string): FuzzRequest {
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
    expect(judge(labelled("grpc", "application/proto"), unimplementedJson)).toEqual({ outcome: "unimplemented" });
    expect(judge(labelled("grpc-web", "application/json; charset=utf-8"), unimplementedJson)).toEqual({ outcome: "unimplemented" });
  });

  it("a REST route answering 501 is still a violation", () => {
    expect(judge({ ...labelled("rest", "application/json"), path: "/api/v1/accounts" }, unimplementedJson).violation).toMatch(/^HTTP 501/);
  });

  it("a gRPC answer must carry grpc-status: a JSON 501 to application/grpc is still a violation", () => {
    const answer: Answer = { ...unimplementedJson, headers: { "content-type": "application/grpc" } };
    expect(judge(labelled("grpc", "application/grpc"), answer).violation).toMatch(/no grpc-status/);
  });
});
