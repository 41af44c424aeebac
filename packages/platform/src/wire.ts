// connect-node's adapter, with two fixes to what foreign clients see on the wire: an answer
// sent before the request body was read ends the upload cleanly, and a request the server
// could not decode is the caller's fault (INVALID_ARGUMENT), not the server's (INTERNAL).
import { randomUUID } from "node:crypto";
import type * as http from "node:http";
import type * as http2 from "node:http2";
import { base64Decode } from "@bufbuild/protobuf/wire";
import { Code, ConnectError, createConnectRouter } from "@connectrpc/connect";
import type { Compression, UniversalServerResponse } from "@connectrpc/connect/protocol";
import {
  type ConnectNodeAdapterOptions,
  compressionBrotli,
  compressionGzip,
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from "@connectrpc/connect-node";
import { callerFaults } from "./caller-faults.js";
import { callerProtocolOf, sendRpcError } from "./rpc-error.js";

type NodeRequest = http.IncomingMessage | http2.Http2ServerRequest;
type NodeResponse = http.ServerResponse | http2.Http2ServerResponse;

export type RpcHandlerOptions = ConnectNodeAdapterOptions & {
  /** Hears of a call that failed before anything was written: its answer is INTERNAL naming errorId. */
  onUnanswered?: (reason: unknown, errorId: string) => void;
};

export function createRpcHandler(options: RpcHandlerOptions): (req: NodeRequest, res: NodeResponse) => void {
  const acceptCompression = [callerCompressed(compressionGzip), callerCompressed(compressionBrotli)];
  const router = createConnectRouter({ acceptCompression, ...options });
  const acceptEncoding = acceptCompression.map((c) => c.name).join(",");
  options.routes(router);
  const handlers = new Map(router.handlers.map((handler) => [handler.requestPath, handler]));
  return (req, res) => {
    const handler = handlers.get(req.url?.split("?", 2)[0] ?? "");
    if (!handler) {
      options.fallback?.(req, res);
      return;
    }
    const badQuery = req.method === "GET" ? badGetMessage(req.url ?? "") : undefined;
    if (badQuery !== undefined) {
      (res as http.ServerResponse).writeHead(400, { "content-type": "application/json" });
      res.end(JSON.stringify({ code: "invalid_argument", message: badQuery }));
      return;
    }
    // The core stream finishes once the answer has been written.
    if ("stream" in req) req.stream.once("finish", () => stopUnreadUpload(req));
    const universal = universalRequestFromNodeRequest(
      req as http.IncomingMessage,
      res as http.ServerResponse,
      undefined,
      options.contextValues?.(req),
    );
    // connect-node's own body iterator destroys the request when the handler stops reading
    // early, and Node then queues an RST_STREAM CANCEL it never sends: the client's upload hangs.
    const body = req.iterator({ destroyOnReturn: false }) as AsyncIterable<Uint8Array>;
    handler({ ...universal, body })
      .then(callerFaults)
      .then((response) => advertiseEncodings(response, acceptEncoding))
      .then((response) => universalResponseToNodeResponse(response, res as http.ServerResponse))
      .catch((reason: unknown) => {
        if (ConnectError.from(reason).code === Code.Aborted) return;
        if (!res.headersSent && !res.writableEnded) {
          // Nothing reached the client yet (Node's HTTP/1.1 refused a header value, say): a
          // status with an id the log carries beats a connection reset with none.
          const errorId = randomUUID();
          options.onUnanswered?.(reason, errorId);
          const protocol = callerProtocolOf(req.method, req.url?.split("?", 2)[0] ?? "/", req.headers["content-type"]);
          const error = new ConnectError(`internal error (id ${errorId}): the server failed to write its answer`, Code.Internal);
          try {
            for (const name of res.getHeaderNames()) res.removeHeader(name);
            sendRpcError(req as http.IncomingMessage, res as http.ServerResponse, protocol === "rest" ? "connect-unary" : protocol, error);
            return;
          } catch {
            // Then the stream can only be reset.
          }
        }
        // The response is already under way: all that is left is to end it.
        res.destroy();
      });
  };
}

/**
 * gRPC says a message in an encoding the server lacks is UNIMPLEMENTED and the answer carries
 * grpc-accept-encoding naming what it takes, so the client can retry; connect-es leaves it out.
 */
function advertiseEncodings(response: UniversalServerResponse, acceptEncoding: string): UniversalServerResponse {
  const contentType = response.header?.get("content-type") ?? "";
  if (contentType.startsWith("application/grpc") && !response.header?.has("grpc-accept-encoding")) {
    response.header?.set("grpc-accept-encoding", acceptEncoding);
  }
  return response;
}

/**
 * Bytes that do not decompress are the caller's: connect-node answers most zlib failures
 * (a truncated gzip stream, brotli's own error codes) INTERNAL "decompression failed".
 * Only "too large after decompression" keeps its own code and words.
 */
function callerCompressed(compression: Compression): Compression {
  return {
    ...compression,
    decompress: (bytes, readMaxBytes) =>
      compression.decompress(bytes, readMaxBytes).catch((reason: unknown) => {
        const error = ConnectError.from(reason);
        if (error.code === Code.ResourceExhausted) throw error;
        const cause = error.cause instanceof Error ? error.cause.message : error.rawMessage;
        throw new ConnectError(`request body could not be decompressed as ${compression.name}: ${cause}`, Code.InvalidArgument);
      }),
  };
}

/**
 * A Connect GET's message= that is not base64 (with base64=1): connect-es fails decoding it
 * with a TypeError, which it answers as a 500.
 */
function badGetMessage(url: string): string | undefined {
  const query = new URLSearchParams(url.split("?", 2)[1] ?? "");
  if (query.get("base64") !== "1") return undefined;
  // connect-es reads the first message= with this decoder, which also refuses a length no
  // base64 text can have ("r"): the regex alone let that through.
  const message = query.get("message") ?? "";
  const refusal = "query parameter message is not base64 (base64=1 was given)";
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(message)) return refusal;
  try {
    base64Decode(message);
    return undefined;
  } catch {
    return refusal;
  }
}

/** The most of an unread request body drained after the answer; past it the request is destroyed. */
export const drainBytesMax = 16 * 4 * 1024 * 1024;

/**
 * Once the answer is sent, the rest of a request body nobody will read (an over-large message,
 * say) is read and dropped, as Node's HTTP/1.1 server does, up to drainBytesMax. Without it the
 * client's upload stalls on flow control, and a client that finishes sending before it reads
 * (curl, nghttp, h2load, Node's http2) never sees the status; a Node client with several such
 * uploads queued resets them itself with ENHANCE_YOUR_CALM (its session memory is full).
 * Resetting the stream instead does not work on Node 24: the RST_STREAM is queued, not sent.
 */
export function stopUnreadUpload(req: NodeRequest): void {
  if (req.readableEnded) return;
  let drainedBytes = 0;
  req.on("data", (chunk: Buffer) => {
    drainedBytes += chunk.byteLength;
    if (drainedBytes > drainBytesMax) req.destroy();
  });
  req.resume();
}
