// The services behind the edge: one client per service (Connect over HTTP/2), and a raw HTTP/2
// proxy for RPC requests that browsers and gRPC clients send to the edge itself.
import * as http2 from "node:http2";
import type { DescService } from "@bufbuild/protobuf";
import { type CallOptions, type Client, createClient, type Transport } from "@connectrpc/connect";
import { createMeshTransport, messageBytesMax } from "@qenex/platform";

export type Upstream = {
  service: DescService;
  url: string;
  /** Methods (local names) callable without a token, marked so in the OpenAPI document. */
  publicMethods?: readonly string[];
};

export type UpstreamClient = {
  upstream: Upstream;
  client: Client<DescService>;
};

export function createUpstreamClients(upstreams: readonly Upstream[]): Map<string, UpstreamClient> {
  const transports = new Map<string, Transport>();
  const clients = new Map<string, UpstreamClient>();
  for (const upstream of upstreams) {
    let transport = transports.get(upstream.url);
    if (!transport) {
      transport = createMeshTransport({ baseUrl: upstream.url, readMaxBytes: messageBytesMax, writeMaxBytes: messageBytesMax });
      transports.set(upstream.url, transport);
    }
    clients.set(upstream.service.typeName, { upstream, client: createClient(upstream.service, transport) });
  }
  return clients;
}

type AnyCall = (request: unknown, options: CallOptions) => unknown;

/** Calls a method by its descriptor: a promise for unary, an async iterable for streams. */
export function callMethod(client: Client<DescService>, localName: string, request: unknown, options: CallOptions): unknown {
  const call = (client as unknown as Record<string, AnyCall>)[localName];
  if (!call) throw new Error(`no method ${localName}`);
  return call(request, options);
}

/** A request body over its limit: the caller is told before (or instead of) the upstream. */
export class BodyTooLarge extends Error {}

// Headers that describe one hop, not the request: never forwarded.
const hopHeaders = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "host", "http2-settings"]);

/** One HTTP/2 session per upstream URL, opened again after it closes. */
export function createRpcProxy() {
  const sessions = new Map<string, http2.ClientHttp2Session>();
  const sessionFor = (url: string) => {
    const existing = sessions.get(url);
    if (existing && !existing.closed && !existing.destroyed) return existing;
    const session = http2.connect(url);
    session.on("error", () => {});
    session.once("close", () => {
      if (sessions.get(url) === session) sessions.delete(url);
    });
    sessions.set(url, session);
    return session;
  };
  return {
    /**
     * Streams the request to the upstream and its response (headers, body, trailers) back.
     * Trailers reach HTTP/2 clients (gRPC needs them); Connect and gRPC-Web carry theirs in
     * the body, so HTTP/1.1 browsers lose nothing.
     */
    forward(
      url: string,
      req: import("node:http").IncomingMessage,
      res: import("node:http").ServerResponse,
      options: { extraHeaders: Record<string, string>; bodyBytesMax: number | undefined },
      onError: (error: Error) => void,
    ): void {
      const { extraHeaders, bodyBytesMax } = options;
      // One failure is reported once, whichever of the stream's events tells of it first.
      let failed = false;
      const fail = (error: Error) => {
        if (failed) return;
        failed = true;
        onError(error);
      };
      const headers: http2.OutgoingHttpHeaders = { ":method": req.method ?? "POST", ":path": req.url ?? "/" };
      for (const [name, value] of Object.entries(req.headers)) {
        if (name.startsWith(":") || hopHeaders.has(name) || value === undefined) continue;
        headers[name] = value;
      }
      Object.assign(headers, extraHeaders);
      let upstream: http2.ClientHttp2Stream;
      try {
        upstream = sessionFor(url).request(headers);
      } catch (error) {
        fail(error as Error);
        return;
      }
      upstream.on("response", (responseHeaders) => {
        const out: Record<string, string | string[]> = {};
        for (const [name, value] of Object.entries(responseHeaders)) {
          if (name.startsWith(":") || hopHeaders.has(name) || value === undefined) continue;
          out[name] = value as string | string[];
        }
        res.writeHead(Number(responseHeaders[":status"] ?? 502), out);
      });
      upstream.on("trailers", (trailers) => {
        const out: Record<string, string> = {};
        for (const [name, value] of Object.entries(trailers)) if (!name.startsWith(":") && value !== undefined) out[name] = String(value);
        // gRPC's status lives in trailers: HTTP/2 sends them as such, HTTP/1.1 after the last
        // chunk, as the services do (Connect and gRPC-Web carry theirs in the body).
        res.addTrailers(out);
      });
      upstream.on("data", (chunk: Buffer) => res.write(chunk));
      upstream.on("end", () => res.end());
      upstream.on("error", (error) => fail(error));
      res.on("close", () => {
        if (!upstream.closed) upstream.close(http2.constants.NGHTTP2_CANCEL);
      });
      if (bodyBytesMax !== undefined) {
        // A body without Content-Length is counted as it streams: past one message's worth
        // the upstream is told to stop and the caller gets RESOURCE_EXHAUSTED.
        let bytes = 0;
        req.on("data", (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes <= bodyBytesMax || upstream.closed) return;
          req.unpipe(upstream);
          upstream.close(http2.constants.NGHTTP2_CANCEL);
          fail(new BodyTooLarge(`request body exceeds ${bodyBytesMax} bytes (one message)`));
        });
      }
      req.pipe(upstream);
    },
    close(): void {
      for (const session of sessions.values()) session.close();
      sessions.clear();
    },
  };
}
