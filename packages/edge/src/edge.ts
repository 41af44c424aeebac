// The edge: one front door on one port. REST/JSON routes come from the contracts'
// google.api.http rules; RPC requests (Connect, gRPC-Web, gRPC) to /pkg.Service/Method are
// passed to the service that owns them; /health, /api/v1/system/status, /openapi.json and
// /docs are its own. Every request is rate-limited (per client IP, and per principal when
// it carries a valid token) and answered with CORS headers for the configured origins.
import { randomUUID } from "node:crypto";
import type * as http from "node:http";
import type { DescMethod, JsonValue, Message } from "@bufbuild/protobuf";
import { type Client, Code, ConnectError, cors, createClient } from "@connectrpc/connect";
import { Health, type HealthCheckResponse, HealthCheckResponse_ServingStatus } from "@qenex/gen/grpc/health/v1/health_pb.js";
import type { Auth, ClientAddresses, Logger, RateLimiter as PlatformRateLimiter, Principal, RateLimitRule } from "@qenex/platform";
import {
  callerProtocolOf,
  createMeshTransport,
  messageBytesMax,
  procedurePaths,
  rpcServiceOf,
  sendRpcError,
  stopUnreadUpload,
  timeoutMsMax,
  upstreamWentAway,
} from "@qenex/platform";
import { type IdempotencyStore, idempotencyKeyBytesMax, type StoredResponse } from "./idempotency.js";
import { openApiDocument } from "./openapi.js";
import { createOwnRpcHandler, ownRpcPrefixes } from "./own-rpc.js";
import { referencePage, referencePageContentSecurityPolicy } from "./reference-page.js";
import { findRoute, type Route, type RouteMatch, routesOf } from "./routes.js";
import { asConnectError, httpStatusOf, statusJson } from "./status.js";
import { buildRequest, renderResponse } from "./transcode.js";
import { BodyTooLarge, callMethod, createRpcProxy, createUpstreamClients, type Upstream } from "./upstream.js";

// Node's HTTP/2 compatibility API has the same shape where the edge uses it.
type Request = http.IncomingMessage;
type Response = http.ServerResponse;

/** The edge only takes from buckets; a test may hand it a limiter with just that. */
export type RateLimiter = Pick<PlatformRateLimiter, "take">;

export type Probe = { name: string; check(): Promise<void> };

export type EdgeOptions = {
  upstreams: readonly Upstream[];
  auth: Auth;
  /** Signs the client address the edge saw into every call it makes (the auth service throttles sign-ins by it). */
  clientAddresses: ClientAddresses;
  logger: Logger;
  corsOrigins: readonly string[];
  rateLimiter: RateLimiter;
  rateLimits: { perPrincipal: RateLimitRule; perIp: RateLimitRule };
  idempotency: IdempotencyStore;
  /** Storage the mesh depends on, reported by /api/v1/system/status. */
  probes: readonly Probe[];
  version: string;
};

/** Deadline of a REST call when the client asks for none (X-Timeout-Ms to change it). */
const restTimeoutMsDefault = 30_000;
/** Streams (NDJSON, SSE) are long-lived: no deadline unless the client asks. */
const corsMaxAgeSeconds = 7200;
/** Longest a status probe may take before it counts as down. */
const probeTimeoutMs = 2000;

const allowedHeaders = [...cors.allowedHeaders, "Authorization", "Idempotency-Key", "X-Timeout-Ms"];
const exposedHeaders = [...cors.exposedHeaders, "Retry-After", "Idempotent-Replayed"];

export function createEdgeHandler(options: EdgeOptions) {
  const routes = routesOf(options.upstreams.map((u) => u.service));
  const clients = createUpstreamClients(options.upstreams);
  const health = new Map(options.upstreams.map((u) => [u.service.typeName, createClient(Health, createMeshTransport({ baseUrl: u.url }))]));
  const urlByService = new Map(options.upstreams.map((u) => [u.service.typeName, u.url]));
  const proxy = createRpcProxy();
  const methodKinds = new Map<string, DescMethod["methodKind"]>(
    options.upstreams.flatMap((u) => u.service.methods.map((m) => [`/${u.service.typeName}/${m.name}`, m.methodKind] as const)),
  );
  const ownRpc = createOwnRpcHandler(
    options.upstreams.map((u) => u.service),
    health,
  );
  const origins = new Set(options.corsOrigins);
  const { logger } = options;
  const pages = describe(options);

  const internal = (error: unknown, req: Request, res: Response) => {
    const id = randomUUID();
    logger.error({ err: error, errorId: id }, "edge request failed");
    sendError(req, res, new ConnectError(`internal error (id ${id})`, Code.Internal));
  };

  const handle = async (req: Request, res: Response): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://edge");
    const origin = req.headers.origin;
    if (origin !== undefined) {
      if (!origins.has(origin)) {
        if (req.method === "OPTIONS")
          return sendError(req, res, new ConnectError(`origin ${origin} is not allowed`, Code.PermissionDenied));
      } else {
        res.setHeader("Access-Control-Allow-Origin", origin);
        res.setHeader("Vary", "Origin");
        res.setHeader("Access-Control-Expose-Headers", exposedHeaders.join(", "));
        if (req.method === "OPTIONS") {
          res.writeHead(204, {
            "Access-Control-Allow-Methods": [...new Set([...cors.allowedMethods, "GET", "POST", "PUT", "PATCH", "DELETE"])].join(", "),
            "Access-Control-Allow-Headers": allowedHeaders.join(", "),
            "Access-Control-Max-Age": String(corsMaxAgeSeconds),
          });
          res.end();
          return;
        }
      }
    }
    // Liveness: 200 while the edge runs; "degraded" names an own dependency that is down
    // (the services behind it are on /api/v1/system/status).
    if (req.method === "GET" && url.pathname === "/health") {
      const dependencies = await ownDependencies(options);
      return sendJson(res, 200, { status: dependencies.every((d) => d.reachable) ? "ok" : "degraded", dependencies });
    }
    // Not rate-limited: it must stay reachable to report an outage, the rate limiter's store included.
    if (req.method === "GET" && url.pathname === "/api/v1/system/status") return sendJson(res, 200, await systemStatus(options, health));

    const principal = await principalOf(req, options.auth);
    if (principal === "invalid") return sendError(req, res, new ConnectError("invalid or expired bearer token", Code.Unauthenticated));
    const limited = await rateLimit(req, principal, options);
    if (limited) {
      res.setHeader("Retry-After", String(Math.max(1, Math.ceil(limited.retryAfterMs / 1000))));
      return sendError(req, res, new ConnectError(limited.message, limited.code));
    }

    const page = req.method === "GET" ? pages.get(url.pathname) : undefined;
    if (page) {
      res.writeHead(200, page.headers);
      res.end(page.body);
      return;
    }

    if (ownRpcPrefixes.some((prefix) => url.pathname.startsWith(prefix))) {
      ownRpc(req, res);
      return;
    }
    // The path as sent decides, not URL's normalized one: `/a.B/x/../M` names no procedure.
    const rawPath = rawPathOf(req.url ?? "/");
    const protocol = callerProtocolOf(req.method, rawPath, header(req, "content-type"));
    const rpcService = protocol === "rest" ? undefined : rpcServiceOf(rawPath);
    // Only procedures in the routed services' descriptors go upstream.
    const rpcUrl = rpcService && methodKinds.has(rawPath) ? urlByService.get(rpcService) : undefined;
    if (rpcUrl) {
      const bodyBytesMax = methodKinds.get(rawPath) === "unary" ? unaryBodyBytesMax(header(req, "content-type")) : undefined;
      if (bodyBytesMax !== undefined && Number(req.headers["content-length"] ?? 0) > bodyBytesMax) {
        return sendError(req, res, new ConnectError(`request body exceeds ${bodyBytesMax} bytes (one message)`, Code.ResourceExhausted));
      }
      proxy.forward(rpcUrl, req, res, { extraHeaders: forwardedHeaders(req, options.clientAddresses), bodyBytesMax }, (error) => {
        if (res.writableEnded) return; // the upstream's answer is complete; nothing to correct
        if (res.headersSent) res.destroy(error);
        else if (error instanceof BodyTooLarge) sendError(req, res, new ConnectError(error.message, Code.ResourceExhausted));
        else sendError(req, res, new ConnectError(`${rpcService} is unavailable: ${error.message}`, Code.Unavailable));
      });
      return;
    }
    // An RPC to a service the edge does not route, or an RPC protocol on a REST path: what a
    // gRPC or Connect server answers for a procedure it does not have.
    if (protocol !== "rest") {
      const unimplemented = new ConnectError(`${rawPath} is not a procedure this edge routes`, Code.Unimplemented);
      return sendError(req, res, unimplemented, httpStatusOf(Code.Unimplemented), 404);
    }

    const found = findRoute(routes, req.method ?? "GET", rawPathOf(req.url ?? "/"));
    if (!found) return sendError(req, res, new ConnectError(`no route for ${req.method} ${rawPath}`, Code.NotFound));
    if ("allowed" in found) {
      res.setHeader("Allow", found.allowed.join(", "));
      res.statusCode = 405;
      return sendError(
        req,
        res,
        new ConnectError(`${req.method} is not allowed on ${rawPath}; use ${found.allowed.join(" or ")}`, Code.Unimplemented),
        405,
      );
    }
    const bodyText = await readBody(req);
    if (bodyText.trim() !== "") requireJsonContentType(header(req, "content-type"));
    const key = header(req, "idempotency-key");
    if (key !== undefined && req.method === "POST") {
      return idempotent(options.idempotency, { key, principal, route: found.match.route, bodyText }, res, () =>
        transcode(found.match, url, bodyText, req, res),
      );
    }
    const outcome = await transcode(found.match, url, bodyText, req, res);
    if (outcome) send(res, outcome);
  };

  /** Runs a REST call; a unary result is returned to be sent (or stored), a stream is written here. */
  const transcode = async (
    match: RouteMatch,
    url: URL,
    bodyText: string,
    req: Request,
    res: Response,
  ): Promise<StoredResponse | undefined> => {
    const client = clients.get(match.route.service.typeName);
    if (!client) throw new Error(`no upstream for ${match.route.service.typeName}`);
    const request = buildRequest(match, url.searchParams, bodyText);
    const abort = new AbortController();
    // A caller that goes away cancels the upstream call. Once a unary call has its answer there
    // is nothing to cancel, and aborting anyway cost every call a DOMException and connect's
    // listeners a ConnectError each (a few percent of the edge's CPU).
    let settled = false;
    res.on("close", () => {
      if (!settled) abort.abort();
    });
    const timeoutMs = requestedTimeoutMs(req, match.route.method.methodKind === "unary" ? restTimeoutMsDefault : undefined);
    const callOptions = {
      headers: forwardedHeaders(req, options.clientAddresses),
      signal: abort.signal,
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    };
    if (match.route.method.methodKind === "server_streaming") {
      await stream(
        match,
        callMethod(client.client, match.route.method.localName, request, callOptions) as AsyncIterable<Message>,
        req,
        res,
      );
      return undefined;
    }
    try {
      const response = (await callMethod(client.client, match.route.method.localName, request, callOptions)) as Message;
      settled = true;
      return { status: 200, body: JSON.stringify(renderResponse(match, response)) };
    } catch (error) {
      settled = true;
      throw namingUnavailable(error, match.route.service.typeName, abort.signal.aborted);
    }
  };

  return {
    routes,
    handler(req: Request, res: Response): void {
      handle(req, res)
        .catch((error: unknown) => {
          if (res.headersSent) {
            res.destroy();
            return;
          }
          if (error instanceof ConnectError) sendError(req, res, error);
          else if (error instanceof BodyTooLarge) sendError(req, res, new ConnectError(error.message, Code.ResourceExhausted), 413);
          else if (error instanceof UnsupportedMediaType) sendError(req, res, new ConnectError(error.message, Code.InvalidArgument), 415);
          else internal(error, req, res);
        })
        .catch((error: unknown) => lastResort(error, res, logger));
    },
    close(): void {
      proxy.close();
    },
  };
}

/**
 * When even the error answer failed: a status rather than a bare stream reset, while headers
 * can still be sent; headers and body are plain ASCII, so writing them cannot fail again.
 */
function lastResort(error: unknown, res: Response, logger: Logger): void {
  const id = randomUUID();
  logger.error({ err: error, errorId: id }, "edge could not answer a request");
  if (res.headersSent) {
    res.destroy();
    return;
  }
  for (const name of res.getHeaderNames()) res.removeHeader(name);
  res.writeHead(500, { "content-type": "application/json" });
  res.end(JSON.stringify({ code: Code.Internal, message: `the edge could not answer this request (id ${id})`, details: [] }));
}

/** /openapi.json and /docs, generated once from the routes the edge serves. */
function describe(options: EdgeOptions): Map<string, { headers: Record<string, string>; body: string }> {
  const publicOperations = new Set(options.upstreams.flatMap((u) => procedurePaths(u.service, u.publicMethods ?? [])));
  const document = openApiDocument(
    options.upstreams.map((u) => u.service),
    { title: "QENEX mesh", version: options.version },
    { publicOperations },
  );
  return new Map([
    ["/openapi.json", { headers: { "content-type": "application/json" }, body: JSON.stringify(document) }],
    [
      "/docs",
      {
        headers: { "content-type": "text/html; charset=utf-8", "content-security-policy": referencePageContentSecurityPolicy },
        body: referencePage(document),
      },
    ],
  ]);
}

class UnsupportedMediaType extends Error {}

/** gRPC and gRPC-Web put a 5-byte envelope before each message. */
const envelopeBytes = 5;

/** The most a unary RPC's body can hold: one message, enveloped, base64 for gRPC-Web text. */
function unaryBodyBytesMax(contentType: string | undefined): number {
  const enveloped = messageBytesMax + envelopeBytes;
  return /^application\/grpc-web-text/i.test(contentType ?? "") ? Math.ceil(enveloped / 3) * 4 : enveloped;
}

/**
 * A REST body is JSON and says so: `application/json`, with `charset=utf-8` or no parameter.
 * Anything else is refused rather than guessed at (a form or text body read as JSON by chance).
 */
function requireJsonContentType(contentType: string | undefined): void {
  const [type = "", ...parameters] = (contentType ?? "").split(";").map((part) => part.trim().toLowerCase());
  const charsetOk = parameters.every((p) => /^charset="?utf-8"?$/.test(p));
  if (type === "application/json" && charsetOk) return;
  const got = contentType === undefined ? "none" : `"${contentType.slice(0, 100)}"`;
  throw new UnsupportedMediaType(`a request body must be sent as Content-Type: application/json (charset utf-8 if named); got ${got}`);
}

async function readBody(req: Request): Promise<string> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > messageBytesMax) throw new BodyTooLarge(`request body exceeds ${messageBytesMax} bytes`);
  const chunks: Buffer[] = [];
  let bytes = 0;
  // Not destroyed when reading stops early (a body too large): the answer goes out first, then
  // the rest is drained (sendError), so an HTTP/1.1 client still sending sees the 413, not a reset.
  for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes > messageBytesMax) throw new BodyTooLarge(`request body exceeds ${messageBytesMax} bytes`);
    chunks.push(chunk);
  }
  try {
    // Fatal: a body that is not UTF-8 is refused, not stored with U+FFFD in place of its bytes.
    return utf8.decode(Buffer.concat(chunks));
  } catch {
    throw new ConnectError("request body is not valid UTF-8", Code.InvalidArgument);
  }
}

async function idempotent(
  store: IdempotencyStore,
  call: { key: string; principal: Principal | undefined; route: Route; bodyText: string },
  res: Response,
  run: () => Promise<StoredResponse | undefined>,
): Promise<void> {
  if (call.key === "" || Buffer.byteLength(call.key) > idempotencyKeyBytesMax || !/^[\x21-\x7e]+$/.test(call.key)) {
    throw new ConnectError(`Idempotency-Key must be 1 to ${idempotencyKeyBytesMax} visible ASCII characters`, Code.InvalidArgument);
  }
  const scope = `${call.principal?.subject ?? "anonymous"}\n${call.route.httpMethod} ${call.route.template.text}\n${call.key}`;
  const claim = await store.claim(scope, call.bodyText);
  if (claim.kind === "replay") {
    res.setHeader("Idempotent-Replayed", "true");
    return send(res, claim.response);
  }
  if (claim.kind === "conflict") throw new ConnectError(claim.message, Code.AlreadyExists);
  let outcome: StoredResponse | undefined;
  try {
    outcome = await run();
  } catch (error) {
    // A failure the client can act on is remembered like a success: a retry sees the same answer.
    const connectError = asConnectError(error);
    if (error instanceof ConnectError && isFinal(connectError.code)) {
      outcome = { status: httpStatusOf(connectError.code), body: JSON.stringify(statusJson(connectError)) };
    } else {
      await claim.release();
      throw error;
    }
  }
  if (!outcome) {
    await claim.release();
    return;
  }
  await claim.complete(outcome);
  send(res, outcome);
}

/** Codes whose retry could not succeed: they are stored with the key. */
function isFinal(code: Code): boolean {
  return [
    Code.InvalidArgument,
    Code.NotFound,
    Code.AlreadyExists,
    Code.FailedPrecondition,
    Code.OutOfRange,
    Code.PermissionDenied,
  ].includes(code);
}

async function stream(match: RouteMatch, messages: AsyncIterable<Message>, req: Request, res: Response): Promise<void> {
  const sse = /\btext\/event-stream\b/.test(header(req, "accept") ?? "");
  const iterator = messages[Symbol.asyncIterator]();
  // The first message (or error) decides the HTTP status: an error before any data is a
  // normal error response.
  let next = await iterator.next();
  res.writeHead(200, {
    "content-type": sse ? "text/event-stream" : "application/x-ndjson",
    "cache-control": "no-cache",
    "x-accel-buffering": "no",
  });
  try {
    while (!next.done) {
      const json = JSON.stringify(renderResponse(match, next.value));
      res.write(sse ? `data: ${json}\n\n` : `${json}\n`);
      next = await iterator.next();
    }
  } catch (error) {
    const status = statusJson(asConnectError(error));
    res.write(sse ? `event: error\ndata: ${JSON.stringify(status)}\n\n` : `${JSON.stringify({ error: status })}\n`);
  }
  res.end();
}

async function principalOf(req: Request, auth: Auth): Promise<Principal | undefined | "invalid"> {
  const value = header(req, "authorization");
  if (value === undefined) return undefined;
  const token = /^Bearer\s+(\S+)$/i.exec(value)?.[1];
  if (!token) return "invalid";
  try {
    return await auth.verify(token);
  } catch {
    return "invalid";
  }
}

async function rateLimit(req: Request, principal: Principal | undefined, options: EdgeOptions) {
  const ip = req.socket?.remoteAddress ?? "unknown";
  const checks: [string, RateLimitRule][] = [[`ip:${ip}`, options.rateLimits.perIp]];
  if (principal) checks.push([`principal:${principal.subject}`, options.rateLimits.perPrincipal]);
  for (const [key, rule] of checks) {
    const decision = await options.rateLimiter.take(key, rule);
    if (!decision.decided && !decision.allowed) {
      return { code: Code.Unavailable, message: "rate limits cannot be checked right now; retry later", retryAfterMs: 1000 };
    }
    if (!decision.allowed) {
      const who = key.startsWith("ip:") ? "this client address" : principal?.subject;
      return { code: Code.ResourceExhausted, message: `rate limit exceeded for ${who}; retry later`, retryAfterMs: decision.retryAfterMs };
    }
  }
  return undefined;
}

/** Runs a probe with probeTimeoutMs: up or down, and how long it took. */
async function timed(check: () => Promise<unknown>) {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const result = await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error("timeout")), probeTimeoutMs);
      }),
    ]);
    return { ok: true, latencyMs: Math.round(performance.now() - started), result };
  } catch {
    return { ok: false, latencyMs: Math.round(performance.now() - started), result: undefined };
  } finally {
    clearTimeout(timer);
  }
}

/** The edge's own dependencies (its Redis), for GET /health: up or down, nothing more. */
async function ownDependencies(options: EdgeOptions) {
  return Promise.all(
    options.probes.map(async (p) => {
      const probe = await timed(() => p.check());
      return { name: p.name, reachable: probe.ok, latencyMs: probe.latencyMs };
    }),
  );
}

/**
 * What /api/v1/system/status reports. It needs no token (SEED.md calls it without one), so it
 * names no internal address and no error text: only up or down, and how long the probe took.
 */
async function systemStatus(options: EdgeOptions, health: ReadonlyMap<string, Client<typeof Health>>) {
  const urlOf = (service: string) => options.upstreams.find((u) => u.service.typeName === service)?.url ?? "";
  const services = await Promise.all(
    [...health].map(async ([service, client]) => {
      const [probe, own] = await Promise.all([timed(() => client.check({ service })), timed(() => dependenciesOf(urlOf(service)))]);
      const serving = probe.ok && (probe.result as HealthCheckResponse).status === HealthCheckResponse_ServingStatus.SERVING;
      const dependencies = (own.result as ServiceDependency[] | undefined) ?? [];
      return { service, status: serving ? "SERVING" : "NOT_SERVING", latencyMs: probe.latencyMs, dependencies };
    }),
  );
  const dependencies = await ownDependencies(options);
  const healthy =
    services.every((s) => s.status === "SERVING" && s.dependencies.every((d) => d.reachable)) && dependencies.every((d) => d.reachable);
  return { status: healthy ? "ok" : "degraded", version: options.version, services, dependencies };
}

type ServiceDependency = { name: string; reachable: boolean };

/** What a service's own GET /health says of its database and Redis: names and up or down only. */
async function dependenciesOf(url: string): Promise<ServiceDependency[]> {
  const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(probeTimeoutMs) });
  const body = (await res.json()) as { dependencies?: { name?: unknown; ok?: unknown }[] };
  return (body.dependencies ?? []).slice(0, 16).map((d) => ({ name: String(d.name).slice(0, 64), reachable: d.ok === true }));
}

function forwardedHeaders(req: Request, clientAddresses: ClientAddresses): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ["authorization", "traceparent", "tracestate", "x-request-id"]) {
    const value = header(req, name);
    if (value !== undefined) out[name] = value;
  }
  const previous = header(req, "x-forwarded-for");
  const ip = req.socket?.remoteAddress ?? "";
  out["x-forwarded-for"] = previous ? `${previous}, ${ip}` : ip;
  // Always set, so a client's own copy of these headers never reaches a service.
  return { ...out, ...clientAddresses.sign(ip || "unknown") };
}

function requestedTimeoutMs(req: Request, fallback: number | undefined): number | undefined {
  const text = header(req, "x-timeout-ms");
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^[0-9]{1,9}$/.test(text) || value < 1 || value > timeoutMsMax) {
    throw new ConnectError(`X-Timeout-Ms must be a whole number from 1 to ${timeoutMsMax}`, Code.InvalidArgument);
  }
  return value;
}

function header(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The path as sent, still percent-encoded, without the query. */
function rawPathOf(url: string): string {
  const q = url.indexOf("?");
  return q < 0 ? url : url.slice(0, q);
}

function send(res: Response, outcome: StoredResponse): void {
  res.writeHead(outcome.status, { "content-type": "application/json" });
  // A HEAD response has no body: HTTP/1.1 drops one, but HTTP/2's compatibility API fails the
  // stream with "write after end" and resets it.
  res.end(res.req.method === "HEAD" ? undefined : outcome.body);
}

function sendJson(res: Response, status: number, body: JsonValue | object): void {
  send(res, { status, body: JSON.stringify(body) });
}

/** How long a client is told to wait before retrying a service that is down or restarting. */
const unavailableRetryAfterSeconds = 1;

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Every error the edge answers itself goes out here: google.rpc.Status JSON with `restHttpStatus`
 * to REST callers, the caller's own protocol to gRPC, gRPC-Web and Connect clients.
 */
function sendError(
  req: Request,
  res: Response,
  error: ConnectError,
  restHttpStatus = httpStatusOf(error.code),
  connectHttpStatus: number | undefined = undefined,
): void {
  // A service that says when to come back (the auth service's sign-in throttle) is passed on.
  const retryAfter = error.metadata.get("retry-after");
  if (retryAfter !== null && /^[0-9]{1,9}$/.test(retryAfter) && !res.hasHeader("Retry-After")) res.setHeader("Retry-After", retryAfter);
  if (error.code === Code.Unavailable && !res.hasHeader("Retry-After")) res.setHeader("Retry-After", String(unavailableRetryAfterSeconds));
  // The edge may answer before it read the body (a bad token, a body too large): what is left
  // is read and dropped (bounded), so the client's upload ends and its stream or connection
  // stays usable; unread, it sits in the HTTP/2 session's memory until the client resets it.
  stopUnreadUpload(req);
  const protocol = callerProtocolOf(req.method, rawPathOf(req.url ?? "/"), header(req, "content-type"));
  if (protocol === "rest") {
    sendJson(res, restHttpStatus, statusJson(error));
    return;
  }
  sendRpcError(req, res, protocol, error, connectHttpStatus);
}

/**
 * An upstream that cannot be reached is named, so the caller knows which service is down. A
 * connection lost mid-call (the service died) is UNAVAILABLE too, not connect-node's ABORTED:
 * the caller should retry, with the same id or Idempotency-Key, which cannot apply it twice.
 * An error the service itself sent (no transport cause) passes unchanged.
 */
function namingUnavailable(error: unknown, service: string, callerCanceled: boolean): unknown {
  if (upstreamWentAway(error, callerCanceled)) {
    return new ConnectError(`${service} went away during the call; its outcome is unknown: retry with the same id`, Code.Unavailable);
  }
  // Only a transport failure (it has a cause) is renamed; a service's own answer passes as sent.
  if (!(error instanceof ConnectError) || error.cause === undefined || error.code !== Code.Unavailable) return error;
  return new ConnectError(`${service} is unavailable: ${error.rawMessage}`, Code.Unavailable);
}
