// The fuzz test's sender must not itself break connections: what it reports as a transport
// error has to be the server's doing.
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { FuzzRequest } from "./fuzz-requests.js";
import { createSender } from "./fuzz-send.js";

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
