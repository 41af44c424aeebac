// Sends a generated request over HTTP/1.1 or cleartext HTTP/2 and reads back what a client
// of that protocol would see: the HTTP status, the RPC code and its message.
import * as http from "node:http";
import * as http2 from "node:http2";
import type { FuzzRequest } from "./fuzz-requests.js";

/** A response later than this is a hang: every answer here needs no more than a few database round trips. */
export const responseTimeoutMs = 10_000;
/** Bytes of a response body kept: enough for any error message. */
const responseBytesMax = 64 * 1024;

export type Answer =
  | { kind: "response"; httpStatus: number; headers: Record<string, string>; trailers: Record<string, string>; body: Buffer }
  | { kind: "hang" }
  | { kind: "transport"; error: string };

export type Verdict = {
  /** What a caller of this protocol reads: "ok", an RPC code name, or "http 404". */
  outcome: string;
  /** Why the answer breaks the rules, if it does. */
  violation?: string | undefined;
};

export function createSender(baseUrl: string, concurrency: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  let session: http2.ClientHttp2Session | undefined;
  const sessionNow = () => {
    if (!session || session.closed || session.destroyed) {
      // 32 uploads of up to a few MiB in flight on one session exceed Node's default 10 MB of
      // session memory, and the client then resets its own streams (ENHANCE_YOUR_CALM).
      session = http2.connect(baseUrl, { maxSessionMemory: 256 });
      session.on("error", () => {});
    }
    return session;
  };
  const url = new URL(baseUrl);

  const viaHttp1 = (request: FuzzRequest, retry = true): Promise<Answer> =>
    new Promise((resolve) => {
      let req: http.ClientRequest;
      try {
        req = http.request({
          agent,
          host: url.hostname,
          port: url.port,
          method: request.method,
          path: request.path,
          headers: { ...request.headers, "content-length": String(request.body.length) },
          timeout: responseTimeoutMs,
        });
      } catch (error) {
        resolve({ kind: "transport", error: `client refused to send: ${(error as Error).message}` });
        return;
      }
      req.on("timeout", () => {
        req.destroy();
        resolve({ kind: "hang" });
      });
      req.on("error", (error) => {
        // A kept-alive socket the server closed for idleness (keepAliveTimeout) just as this
        // request went out on it: the request is unanswered, not refused, and Node's docs
        // (request.reusedSocket) say to send it once more on a new socket, as browsers do.
        if (retry && req.reusedSocket && (error as NodeJS.ErrnoException).code === "ECONNRESET") resolve(viaHttp1(request, false));
        else resolve({ kind: "transport", error: error.message });
      });
      req.on("response", (res) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        res.on("data", (chunk: Buffer) => {
          if (kept < responseBytesMax) chunks.push(chunk);
          kept += chunk.length;
        });
        res.on("end", () =>
          resolve({
            kind: "response",
            httpStatus: res.statusCode ?? 0,
            headers: flat(res.headers),
            trailers: flat(res.trailers),
            body: Buffer.concat(chunks),
          }),
        );
        res.on("error", (error) => resolve({ kind: "transport", error: error.message }));
      });
      req.end(request.body);
    });

  const viaHttp2 = (request: FuzzRequest): Promise<Answer> =>
    new Promise((resolve) => {
      let stream: http2.ClientHttp2Stream;
      try {
        // endStream: false, or Node ends a GET's stream itself and drops the response on our end().
        stream = sessionNow().request({ ":method": request.method, ":path": request.path, ...request.headers }, { endStream: false });
      } catch (error) {
        resolve({ kind: "transport", error: `client refused to send: ${(error as Error).message}` });
        return;
      }
      const timer = setTimeout(() => {
        stream.close(http2.constants.NGHTTP2_CANCEL);
        resolve({ kind: "hang" });
      }, responseTimeoutMs);
      let headers: Record<string, string> = {};
      let trailers: Record<string, string> = {};
      let status = 0;
      const chunks: Buffer[] = [];
      let kept = 0;
      stream.on("response", (h) => {
        status = Number(h[":status"]);
        headers = flat(h);
      });
      stream.on("trailers", (t) => {
        trailers = flat(t);
      });
      stream.on("data", (chunk: Buffer) => {
        if (kept < responseBytesMax) chunks.push(chunk);
        kept += chunk.length;
      });
      const done = () => {
        clearTimeout(timer);
        if (status === 0) {
          resolve({ kind: "transport", error: `stream closed without a response (RST_STREAM code ${stream.rstCode})` });
        } else {
          resolve({ kind: "response", httpStatus: status, headers, trailers, body: Buffer.concat(chunks) });
        }
      };
      // The answer is complete when the server ends its side, even while our request body is
      // still unsent: a server may answer early and stop reading (RFC 9113 §8.1); the client
      // then cancels the rest, as gRPC clients do once they have the status. A stream whose
      // request was all sent is closed by both ends already: resetting it too would make the
      // client a rapid-reset attacker (CVE-2023-44487), whose connection Node rightly drops
      // after about a thousand resets (its burst), killing every call still in flight.
      stream.on("end", () => {
        done();
        if (!stream.writableFinished) stream.close(http2.constants.NGHTTP2_CANCEL);
      });
      stream.on("close", done);
      stream.on("error", () => {});
      stream.end(request.body);
    });

  return {
    send: (request: FuzzRequest) => (request.http2 ? viaHttp2(request) : viaHttp1(request)),
    close() {
      agent.destroy();
      session?.close();
    },
  };
}

function flat(headers: http.IncomingHttpHeaders | http2.IncomingHttpHeaders | NodeJS.Dict<string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers))
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(", ") : String(value);
  return out;
}

// ---------- judging an answer ----------

/** Codes that say "your request was wrong or not allowed": the answers hostile input should get. */
const callerCodes = new Set([
  "invalid_argument",
  "not_found",
  "already_exists",
  "failed_precondition",
  "out_of_range",
  "unauthenticated",
  "permission_denied",
  "resource_exhausted",
  "unimplemented",
]);

const grpcCodeNames = [
  "ok",
  "canceled",
  "unknown",
  "invalid_argument",
  "deadline_exceeded",
  "not_found",
  "already_exists",
  "permission_denied",
  "resource_exhausted",
  "failed_precondition",
  "aborted",
  "out_of_range",
  "unimplemented",
  "internal",
  "unavailable",
  "data_loss",
  "unauthenticated",
];

/** A message that names the problem: not empty, not a bare "internal error", no stack trace. */
function badMessage(message: string): string | undefined {
  if (message.trim() === "") return "empty message";
  if (/internal error/i.test(message)) return `says only "internal error"`;
  if (/\n\s+at \S|\.ts:\d+:\d+|node:internal/.test(message)) return "carries a stack trace";
  return undefined;
}

function judgeCode(code: string, message: string, request: FuzzRequest): string | undefined {
  if (code === "ok") return undefined;
  // A deadline the caller asked for may pass: that is the caller's choice, not a failure.
  if ((code === "deadline_exceeded" || code === "canceled") && request.deadline) return badMessage(message);
  if (!callerCodes.has(code)) return `code ${code}`;
  return badMessage(message);
}

export function judge(request: FuzzRequest, answer: Answer): Verdict {
  if (answer.kind === "hang") return { outcome: "hang", violation: `no response within ${responseTimeoutMs} ms` };
  if (answer.kind === "transport") return { outcome: "transport error", violation: answer.error };
  // A response to HEAD has no body and no trailers (RFC 9110 §9.3.2), so it can carry no gRPC
  // status, Connect end-of-stream or error JSON: only its status line is there to judge.
  if (request.method === "HEAD") {
    const status = answer.httpStatus;
    return { outcome: `http ${status}`, violation: status >= 500 ? `HTTP ${status}` : undefined };
  }
  // The answer's protocol is the one the server chose from the request's content type.
  const contentType = answer.headers["content-type"] ?? "";
  if (contentType.startsWith("application/grpc")) return judgeGrpc(request, answer, contentType);
  if (contentType.startsWith("application/connect+")) return judgeConnectStream(request, answer);
  if (answer.body.length === 0 && contentType === "") return judgeHttpLayer(answer);
  return judgeJsonError(request, answer, speaksConnectUnary(request) ? "connect" : "rest");
}

/**
 * The server picks the protocol from the content type, not from what the generator meant: a
 * "gRPC" request whose headers ended up saying application/proto or application/json is a
 * Connect unary call, and its errors follow Connect's rules (UNIMPLEMENTED is HTTP 501).
 */
function speaksConnectUnary(request: FuzzRequest): boolean {
  if (request.protocol.startsWith("connect")) return true;
  if (!request.protocol.startsWith("grpc")) return false;
  const contentType = (request.headers["content-type"] ?? "").toLowerCase();
  return /^application\/(json|proto)(;|$)/.test(contentType);
}

/**
 * A refusal with no body, sent before any RPC protocol applies: Connect's and gRPC's 415 for a
 * content type they do not speak, Connect's 405 for GET on a procedure with side effects, and
 * Node's HTTP parser's 400/431 for a request line or headers it cannot read. The status line
 * names the problem there; any other bodiless answer does not.
 */
function judgeHttpLayer(answer: Response): Verdict {
  const status = answer.httpStatus;
  if (status < 400) return { outcome: `http ${status}` };
  if ([400, 405, 413, 415, 431].includes(status)) return { outcome: `http ${status}` };
  return { outcome: `http ${status}`, violation: `HTTP ${status} with no message` };
}

type Response = Extract<Answer, { kind: "response" }>;

function judgeGrpc(request: FuzzRequest, answer: Response, contentType: string): Verdict {
  let status = answer.trailers["grpc-status"] ?? answer.headers["grpc-status"];
  let message = answer.trailers["grpc-message"] ?? answer.headers["grpc-message"] ?? "";
  if (status === undefined && contentType.startsWith("application/grpc-web")) {
    // gRPC-Web carries its trailers in a last frame flagged 0x80.
    const body = contentType.startsWith("application/grpc-web-text") ? Buffer.from(answer.body.toString("latin1"), "base64") : answer.body;
    const trailer = lastTrailerFrame(body);
    status = /grpc-status:\s*(\d+)/i.exec(trailer)?.[1];
    message = /grpc-message:\s*(.*?)\r?\n/i.exec(`${trailer}\n`)?.[1] ?? "";
  }
  if (status === undefined) {
    return { outcome: `http ${answer.httpStatus} without grpc-status`, violation: `HTTP ${answer.httpStatus} and no grpc-status` };
  }
  const code = grpcCodeNames[Number(status)] ?? `grpc-status ${status}`;
  const decoded = safeDecode(message);
  const violation = judgeCode(code, decoded, request);
  return violation === undefined ? { outcome: code } : { outcome: code, violation: `${violation}: ${decoded.slice(0, 200)}` };
}

function lastTrailerFrame(body: Buffer): string {
  let at = 0;
  let trailer = "";
  while (at + 5 <= body.length) {
    const length = body.readUInt32BE(at + 1);
    if ((body[at] as number) & 0x80) trailer = body.subarray(at + 5, at + 5 + length).toString("latin1");
    at += 5 + length;
  }
  return trailer;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Connect's end-of-stream frame (flag 0x02) carries `{"error": {code, message}}` when the call failed. */
function judgeConnectStream(request: FuzzRequest, answer: Response): Verdict {
  let at = 0;
  let end: string | undefined;
  while (at + 5 <= answer.body.length) {
    const length = answer.body.readUInt32BE(at + 1);
    if ((answer.body[at] as number) & 0x02) end = answer.body.subarray(at + 5, at + 5 + length).toString("utf8");
    at += 5 + length;
  }
  if (end === undefined) return { outcome: "connect stream without end", violation: "no end-of-stream frame" };
  const error = (parseJson(end) as { error?: { code?: string; message?: string } } | undefined)?.error;
  if (!error) return { outcome: "ok" };
  const code = error.code ?? "(none)";
  const violation = judgeCode(code, error.message ?? "", request);
  return violation === undefined ? { outcome: code } : { outcome: code, violation: `${violation}: ${(error.message ?? "").slice(0, 200)}` };
}

/** REST (google.rpc.Status JSON, numeric code) and Connect unary (string code) errors. */
function judgeJsonError(request: FuzzRequest, answer: Response, shape: "rest" | "connect"): Verdict {
  const status = answer.httpStatus;
  if (status < 400) {
    // A REST stream reports a failure after its 200 in an NDJSON line or an SSE event.
    const streamed = /"error":\{"code":(\d+),"message":"((?:[^"\\]|\\.)*)"/.exec(answer.body.toString("utf8"));
    if (!streamed) return { outcome: "ok" };
    const code = grpcCodeNames[Number(streamed[1])] ?? "?";
    const violation = judgeCode(code, JSON.parse(`"${streamed[2]}"`) as string, request);
    return violation === undefined ? { outcome: `stream ${code}` } : { outcome: `stream ${code}`, violation };
  }
  const body = parseJson(answer.body.toString("utf8")) as { code?: unknown; message?: unknown } | undefined;
  if (body === undefined || typeof body !== "object" || body === null) {
    return {
      outcome: `http ${status}`,
      violation: status >= 500 ? `HTTP ${status}, body not JSON` : answer.body.length === 0 ? `HTTP ${status} with no message` : undefined,
    };
  }
  const code = typeof body.code === "number" ? (grpcCodeNames[body.code] ?? `code ${body.code}`) : String(body.code ?? `http ${status}`);
  const message = typeof body.message === "string" ? body.message : "";
  const deadlinePassed = (code === "deadline_exceeded" || code === "canceled") && request.deadline;
  // Connect's HTTP status follows its code (UNIMPLEMENTED is 501 by the spec): the code is judged.
  // REST has only the status to go by: no 5xx unless the caller's own deadline passed.
  let violation = shape === "rest" && status >= 500 && !deadlinePassed ? `HTTP ${status}` : undefined;
  violation ??= judgeCode(code, message, request);
  return violation === undefined
    ? { outcome: `${shape === "rest" ? `${status} ` : ""}${code}` }
    : { outcome: `${status} ${code}`, violation: `${violation}: ${message.slice(0, 200)}` };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
