// Errors a server answers itself, outside any handler (the edge: a bad token, a rate limit, a
// body too large, an unknown service, a service that is down; every server: an unknown
// procedure), in the protocol the caller speaks, so every client reads a
// status code and its message: gRPC as a trailers-only response (HTTP 200, grpc-status in the
// headers), gRPC-Web as a trailer frame in the body, Connect unary as Connect's error JSON with
// the HTTP status Connect maps the code to, Connect streaming as an end-of-stream message.
// Each shape is written by connect-es' own protocol helpers, the code its servers use.
import type * as http from "node:http";
import type { ConnectError } from "@connectrpc/connect";
import { encodeEnvelope } from "@connectrpc/connect/protocol";
import { codeToHttpStatus, endStreamFlag, endStreamToJson, errorToJson } from "@connectrpc/connect/protocol-connect";
import { setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { trailerFlag, trailerSerialize } from "@connectrpc/connect/protocol-grpc-web";

/** Who is calling, read from the request: REST keeps the edge's google.rpc.Status JSON. */
export type CallerProtocol = "rest" | "grpc" | "grpc-web" | "connect-unary" | "connect-stream";

const rpcPathPattern = /^\/([a-z0-9_.]+\.[A-Za-z0-9_]+)\/[A-Za-z0-9_]+$/;

/** The service an RPC path (`/pkg.Service/Method`) names, or undefined for any other path. */
export function rpcServiceOf(pathname: string): string | undefined {
  return rpcPathPattern.exec(pathname)?.[1];
}

/**
 * gRPC, gRPC-Web and Connect streaming exist only over POST, and are known by their content
 * type on any path; Connect's unary content types are REST's too, so an RPC-shaped path
 * decides, for POST or GET (a Connect GET has no content type). Any other method (HEAD, PUT,
 * DELETE...) is a REST caller whatever its content type says: a HEAD response has no body and
 * no trailers, so it could not carry an RPC status anyway.
 */
export function callerProtocolOf(method: string | undefined, pathname: string, contentType: string | undefined): CallerProtocol {
  if (method !== "POST" && method !== "GET") return "rest";
  const type = (contentType ?? "").trim().toLowerCase();
  if (method === "POST") {
    if (type.startsWith("application/grpc-web")) return "grpc-web";
    if (type.startsWith("application/grpc")) return "grpc";
    if (type.startsWith("application/connect+")) return "connect-stream";
  }
  return rpcServiceOf(pathname) === undefined ? "rest" : "connect-unary";
}

/**
 * Answers `error` in the caller's RPC protocol. Headers already set on `res` (Retry-After,
 * CORS) go out with it; for gRPC they reach the client as response metadata. Connect unary
 * takes the HTTP status Connect maps the code to unless told otherwise (an unknown procedure
 * is a 404, as the services' own fallback answers it).
 */
export function sendRpcError(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  protocol: Exclude<CallerProtocol, "rest">,
  error: ConnectError,
  connectHttpStatus = codeToHttpStatus(error.code),
): void {
  const type = (header(req, "content-type") ?? "").trim().toLowerCase();
  // Where a protocol has trailers, Retry-After goes there only: clients merge headers and
  // trailers into one set of metadata, and one value must not read as "1, 1".
  const trailing = retryAfterOf(res);
  if (protocol !== "connect-unary") res.removeHeader("retry-after");
  switch (protocol) {
    case "grpc": {
      const status = Object.fromEntries(grpcStatus(error, trailing));
      const contentType = type.includes("+json") ? "application/grpc+json" : "application/grpc";
      // Over HTTP/2 the status goes in trailers after the headers, as connect-node's own gRPC
      // handler sends it: Node's compatibility API cannot end the stream on the headers frame,
      // and grpc-js reads a status from headers only when that frame ends the stream.
      if (req.httpVersionMajor === 2) {
        res.writeHead(200, { "content-type": contentType });
        res.addTrailers(status);
      } else {
        res.writeHead(200, { ...status, "content-type": contentType });
      }
      res.end();
      return;
    }
    case "grpc-web": {
      const trailer = encodeEnvelope(trailerFlag, trailerSerialize(grpcStatus(error, trailing)));
      const text = type.startsWith("application/grpc-web-text");
      const json = type.includes("+json");
      const body = text ? Buffer.from(Buffer.from(trailer).toString("base64")) : trailer;
      res.writeHead(200, { "content-type": `application/grpc-web${text ? "-text" : ""}${json ? "+json" : "+proto"}`, ...lengthOf(body) });
      res.end(body);
      return;
    }
    case "connect-stream": {
      const endStream = new TextEncoder().encode(JSON.stringify(endStreamToJson(trailing, error, undefined)));
      const body = encodeEnvelope(endStreamFlag, endStream);
      res.writeHead(200, {
        "content-type": type.includes("+proto") ? "application/connect+proto" : "application/connect+json",
        ...lengthOf(body),
      });
      res.end(body);
      return;
    }
    case "connect-unary": {
      const body = Buffer.from(JSON.stringify(errorToJson(error, undefined)));
      res.writeHead(connectHttpStatus, { "content-type": "application/json", ...lengthOf(body) });
      res.end(body);
      return;
    }
  }
}

/**
 * The length of a body sent whole, stated: a response whose earlier writeHead threw (Node's
 * HTTP/1.1 refused a header value) otherwise keeps that attempt's content-length.
 */
function lengthOf(body: Uint8Array): { "content-length": string } {
  return { "content-length": String(body.byteLength) };
}

/**
 * grpc-status, grpc-message and grpc-status-details-bin as connect-es writes them, with the
 * message percent-encoded as the gRPC spec says (only `%` and bytes outside printable ASCII)
 * rather than by encodeURIComponent: grpc-js decodes with decodeURI, which would leave `;` or
 * `,` in a message as `%3B` and `%2C`.
 */
function grpcStatus(error: ConnectError, trailing: Headers): Headers {
  const status = setTrailerStatus(trailing, error);
  status.set("grpc-message", grpcPercentEncode(error.rawMessage));
  return status;
}

/** Retry-After as trailer metadata: grpc-js gives an error the trailers' metadata only. */
function retryAfterOf(res: http.ServerResponse): Headers {
  const value = res.getHeader("retry-after");
  return new Headers(value === undefined ? {} : { "retry-after": String(value) });
}

function grpcPercentEncode(text: string): string {
  let out = "";
  for (const byte of Buffer.from(text, "utf8")) {
    out +=
      byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
