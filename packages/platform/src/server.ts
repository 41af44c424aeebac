// Serves a set of Connect services on one port: gRPC over HTTP/2 (cleartext or TLS) and
// Connect / gRPC-Web over HTTP/1.1 for browsers, plus health, reflection, /metrics and
// GET /health (each dependency's state as JSON).
import * as fs from "node:fs";
import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import type { DescFile, DescService } from "@bufbuild/protobuf";
import { createValidator } from "@bufbuild/protovalidate";
import {
  Code,
  ConnectError,
  type ConnectRouter,
  createContextValues,
  createServiceImplSpec,
  type Interceptor,
  type MethodImpl,
  type ServiceImpl,
} from "@connectrpc/connect";
import { createValidateInterceptor } from "@connectrpc/validate";
import { Health } from "@qenex/gen/grpc/health/v1/health_pb.js";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { type Auth, createAuthInterceptor } from "./auth.js";
import { peerAddressKey } from "./client-address.js";
import { type DependencyProbe, healthReport, probeAll, probesMax, type Readiness, registerHealth } from "./health.js";
import { createDeadlineInterceptor, createErrorInterceptor, createLoggingInterceptor, createNulInterceptor } from "./interceptors.js";
import { jsonDecoderFor } from "./json-integers.js";
import { createMetrics } from "./metrics.js";
import { registerReflection } from "./reflection.js";
import { callerProtocolOf, sendRpcError } from "./rpc-error.js";
import { strictJsonDecoder } from "./strict-json.js";
import { createRpcHandler, drainBytesMax } from "./wire.js";

/** Largest message read or written, as gRPC's default; a batch of 8,190 transfers fits. */
export const messageBytesMax = 4 * 1024 * 1024;
/**
 * Longest deadline a REST caller may ask the edge for (X-Timeout-Ms). RPC clients may ask for
 * any deadline, as gRPC servers allow: a long-lived stream must be possible.
 */
export const timeoutMsMax = 60_000;

/**
 * `string.pattern` rules run on V8's RegExp, compiled once per pattern, instead of the
 * library's JavaScript RE2 (several times slower on batches). The patterns come only from
 * our own contracts — ASCII classes and bounded repeats, which mean the same in both
 * engines — and every matched field is length-capped, so there is no backtracking risk.
 */
const compiledPatterns = new Map<string, RegExp>();
function regexMatch(pattern: string, against: string): boolean {
  let compiled = compiledPatterns.get(pattern);
  if (!compiled) {
    compiled = new RegExp(pattern);
    compiledPatterns.set(pattern, compiled);
  }
  return compiled.test(against);
}

/**
 * connect-es reads a JSON request body with `jsonOptions.textDecoder` (protocol/serialization.ts),
 * though its option type does not name it.
 */
// Unknown fields stay ignored, as connect-es does by default.
const strictJsonOptions = { ignoreUnknownFields: true, textDecoder: strictJsonDecoder };

export type ServiceBinding = {
  service: DescService;
  // biome-ignore lint/suspicious/noExplicitAny: binding() pairs each service with its own typed impl
  impl: Partial<ServiceImpl<any>>;
  /** Methods (by name) callable without a bearer token, such as signing in. */
  publicMethods?: readonly string[];
};

/** Pairs a service with its handlers, type-checked against that service. */
/** The procedure paths ("/pkg.Service/Method") of a service's methods named by local name ("issueToken"). */
export function procedurePaths(service: DescService, methods: readonly string[]): string[] {
  return methods.map((m) => `/${service.typeName}/${service.method[m]?.name ?? m}`);
}

export function binding<S extends DescService>(
  service: S,
  impl: Partial<ServiceImpl<S>>,
  options: { publicMethods?: readonly (keyof S["method"] & string)[] } = {},
): ServiceBinding {
  return { service, impl, publicMethods: options.publicMethods ?? [] };
}

export type ServeOptions = {
  services: readonly ServiceBinding[];
  host: string;
  port: number;
  tls?: { certFile: string; keyFile: string } | undefined;
  auth: Auth;
  logger: Logger;
  /** Readiness for health checks: typically "the database answers". */
  ready: () => Promise<boolean>;
  /** The dependencies GET /health lists (storageProbes(db, kv) gives the usual two). */
  probes?: readonly DependencyProbe[];
  interceptors?: readonly Interceptor[];
  /** Where /metrics reads from; services add their own metrics to it. */
  registry?: Registry;
};

export type Server = {
  /** The bound port (useful with port 0). */
  port: number;
  url: string;
  /** Stops accepting, drains in-flight calls for up to graceMs, then closes every socket. */
  close(graceMs: number): Promise<void>;
};

export async function serve(options: ServeOptions): Promise<Server> {
  const probes = options.probes ?? [];
  if (probes.length > probesMax) throw new RangeError(`at most ${probesMax} probes, not ${probes.length}`);
  const readiness: Readiness = { check: options.ready, dependencies: () => probeAll(probes), draining: false };
  const metrics = createMetrics(options.registry);
  const shutdown = new AbortController();
  const handler = createRpcHandler({
    routes: (router: ConnectRouter) => {
      for (const { service, impl } of options.services) routeService(router, service, impl);
      registerHealth(
        router,
        options.services.map((s) => s.service.typeName),
        readiness,
      );
      registerReflection(router, uniqueFiles([...options.services.map((s) => s.service.file), Health.file]));
    },
    interceptors: [
      createDeadlineInterceptor(),
      createLoggingInterceptor(options.logger),
      createErrorInterceptor(options.logger),
      metrics.interceptor,
      createAuthInterceptor(
        options.auth,
        new Set(options.services.flatMap(({ service, publicMethods }) => procedurePaths(service, publicMethods ?? []))),
      ),
      createNulInterceptor(),
      createValidateInterceptor({ validator: createValidator({ regexMatch }) }),
      ...(options.interceptors ?? []),
    ],
    // Handlers that throttle per client (signing in) need the peer; Connect's context lacks it.
    contextValues: (req) => createContextValues().set(peerAddressKey, req.socket?.remoteAddress),
    readMaxBytes: messageBytesMax,
    writeMaxBytes: messageBytesMax,
    jsonOptions: strictJsonOptions,
    shutdownSignal: shutdown.signal,
    onUnanswered: (reason, errorId) => options.logger.error({ err: reason, errorId }, "internal error: the answer could not be written"),
    fallback: (req, res) => {
      if (req.method === "GET" && req.url === "/metrics") {
        metrics.registry.metrics().then((body) => {
          res.writeHead(200, { "content-type": metrics.registry.contentType });
          res.end(body);
        });
        return;
      }
      if (req.method === "GET" && (req.url === "/health" || req.url?.startsWith("/health?"))) {
        healthReport(readiness).then(({ httpStatus, report }) => {
          res.writeHead(httpStatus, { "content-type": "application/json", "cache-control": "no-store" });
          res.end(JSON.stringify(report));
        });
        return;
      }
      // connect-node hands both HTTP versions' responses in this one shape.
      unimplemented(req, res as http.ServerResponse);
    },
  });

  let inFlight = 0;
  let drained: (() => void) | undefined;
  const counted = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse) => {
    inFlight++;
    res.once("close", () => {
      inFlight--;
      if (inFlight === 0) drained?.();
    });
    (handler as (a: typeof req, b: typeof res) => void)(req, res);
  };

  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.Http2Session>();
  const track = (server: http2.Http2Server | http2.Http2SecureServer) =>
    server.on("session", (session) => {
      sessions.add(session);
      session.once("close", () => sessions.delete(session));
    });

  let listener: net.Server;
  let http1: http.Server | undefined;
  if (options.tls) {
    const secure = http2.createSecureServer(
      { cert: fs.readFileSync(options.tls.certFile), key: fs.readFileSync(options.tls.keyFile), allowHTTP1: true },
      counted,
    );
    track(secure);
    listener = secure;
  } else {
    const h2 = http2.createServer({}, counted);
    track(h2);
    http1 = http.createServer(counted);
    listener = sniffingServer(h2, http1);
  }
  listener.on("connection", (socket: net.Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    listener.once("error", reject);
    listener.listen(options.port, options.host, () => resolve());
  });
  const address = listener.address() as net.AddressInfo;
  const scheme = options.tls ? "https" : "http";
  const shownHost = options.host === "0.0.0.0" || options.host === "::" ? "127.0.0.1" : options.host;

  return {
    port: address.port,
    url: `${scheme}://${shownHost}:${address.port}`,
    async close(graceMs) {
      readiness.draining = true;
      listener.close();
      for (const session of sessions) session.close();
      http1?.closeIdleConnections();
      if (inFlight > 0) {
        await new Promise<void>((resolve) => {
          drained = resolve;
          setTimeout(resolve, graceMs).unref();
        });
      }
      shutdown.abort();
      for (const socket of sockets) socket.destroy();
    },
  };
}

/**
 * Node's HTTP/2 server cannot also speak cleartext HTTP/1.1, so one plain TCP listener
 * reads the first bytes of each connection and hands it to the HTTP/2 server when they
 * are the HTTP/2 preface ("PRI * HTTP/2.0"), else to the HTTP/1.1 server.
 */
export function sniffingServer(h2: http2.Http2Server, h1: http.Server): net.Server {
  const preface = Buffer.from("PRI * HTTP/2.0");
  // noDelay: small RPC frames go out at once instead of waiting for Nagle.
  const listener = net.createServer({ noDelay: true }, (socket) => {
    socket.once("data", (head: Buffer) => {
      socket.pause();
      socket.unshift(head);
      const length = Math.min(head.length, preface.length);
      const isHttp2 = head.subarray(0, length).equals(preface.subarray(0, length));
      // The HTTP/2 session reads the unshifted bytes itself and then consumes the native
      // handle; resuming the JS stream as well would race it for data.
      if (isHttp2) {
        h2.emit("connection", socket);
      } else {
        h1.emit("connection", socket);
        socket.resume();
      }
    });
    socket.on("error", () => socket.destroy());
  });
  h1.on("clientError", answerUnreadableRequest);
  return listener;
}

/** How long a connection whose request could not be read stays open to drain what its client still sends. */
export const lingerMs = 5_000;

/** Error codes of Node's HTTP/1.1 parser and server that have an answer of their own. */
const unreadableAnswers: Record<string, { status: number; code: Code; message: string }> = {
  HPE_HEADER_OVERFLOW: { status: 431, code: Code.ResourceExhausted, message: `request headers exceed ${http.maxHeaderSize} bytes` },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, code: Code.DeadlineExceeded, message: "request not received in time" },
};
const unreadable = { status: 400, code: Code.InvalidArgument, message: "request could not be read as HTTP/1.1" };
/** Sockets answered and draining, with their bytesRead at the answer. */
const lingering = new WeakMap<net.Socket, number>();

/**
 * A request Node's HTTP/1.1 parser cannot read (headers too large, a broken request line) is
 * answered and the connection closed, but not at once: Node's own handler destroys the socket
 * while the client may still be sending its body, and closing a socket with unread data makes
 * the kernel send RST, so the client reads ECONNRESET instead of the 431 or 400. As nginx's
 * lingering_close does, the answer goes out with a FIN and what the client still sends is
 * dropped, for at most lingerMs and drainBytesMax, before the socket is destroyed.
 */
function answerUnreadableRequest(error: NodeJS.ErrnoException, socket: net.Socket): void {
  // The parser reports every later chunk of this connection as the same error: it is answered
  // already, and counting the chunks' bytes bounds the drain.
  const drainingSince = lingering.get(socket);
  if (drainingSince !== undefined) {
    if (socket.bytesRead - drainingSince > drainBytesMax) socket.destroy();
    return;
  }
  lingering.set(socket, socket.bytesRead);
  const pending = (socket as net.Socket & { _httpMessage?: http.ServerResponse })._httpMessage;
  if (!socket.writable || pending?.headersSent) {
    socket.destroy();
    return;
  }
  const answer = unreadableAnswers[error.code ?? ""] ?? unreadable;
  const statusLine = `HTTP/1.1 ${answer.status} ${http.STATUS_CODES[answer.status]}\r\nConnection: close\r\n`;
  // An answer to HEAD has no body, and a client reads one as a broken response: the message
  // goes out only when the bytes the parser choked on show a request line of another method.
  const rawPacket = (error as NodeJS.ErrnoException & { rawPacket?: Buffer }).rawPacket;
  const method = rawPacket
    ?.subarray(0, 8)
    .toString("latin1")
    .match(/^([A-Z]+) /)?.[1];
  if (method === undefined || method === "HEAD") {
    socket.end(`${statusLine}Content-Length: 0\r\n\r\n`);
  } else {
    // google.rpc.Status JSON, as REST errors are: a request that cannot be read names no protocol.
    const body = JSON.stringify({ code: answer.code, message: answer.message });
    socket.end(`${statusLine}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  }
  const stop = () => socket.destroy();
  const timer = setTimeout(stop, lingerMs);
  timer.unref();
  socket.once("close", () => clearTimeout(timer));
  // The client closing its side ends the linger.
  socket.once("end", stop);
}

/**
 * A procedure this server does not have, answered in the caller's protocol as UNIMPLEMENTED
 * (what grpc-go and connect-go send), so foreign clients read a status, not an HTML-less 404.
 */
function unimplemented(req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse): void {
  const path = (req.url ?? "/").split("?")[0] ?? "/";
  const error = new ConnectError(`${path} is not a procedure of this server`, Code.Unimplemented);
  // The request body is not read; drain it so the connection stays usable.
  req.resume();
  const protocol = callerProtocolOf(req.method, path, req.headers["content-type"]);
  // Connect (unary JSON or proto, GET) and anything else: Connect's error JSON, HTTP 404.
  sendRpcError(req as http.IncomingMessage, res, protocol === "rest" ? "connect-unary" : protocol, error, 404);
}

/**
 * router.service(service, impl), method by method, so each reads JSON with the decoder of its
 * own request message (jsonDecoderFor: exact 64-bit integers). A method without a handler is
 * UNIMPLEMENTED, as router.service has it.
 */
// biome-ignore lint/suspicious/noExplicitAny: as ServiceBinding, one impl per service
function routeService(router: ConnectRouter, service: DescService, impl: Partial<ServiceImpl<any>>): void {
  const spec = createServiceImplSpec(service, impl);
  for (const method of service.methods) {
    const jsonOptions = { ...strictJsonOptions, textDecoder: jsonDecoderFor(method.input) };
    router.rpc(method, spec.methods[method.localName]?.impl as MethodImpl<typeof method>, { jsonOptions });
  }
}

function uniqueFiles(files: readonly DescFile[]): DescFile[] {
  return [...new Map(files.map((file) => [file.name, file])).values()];
}
