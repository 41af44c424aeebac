// The interceptors every QENEX server runs, outermost first: the call's deadline, logging,
// error mapping, metrics, authentication, validation.
import { randomUUID } from "node:crypto";
import { ValidationError } from "@bufbuild/protovalidate";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";
import { principalKey } from "./auth.js";
import { requestTimeoutMs, runWithDeadline, runWithSignal } from "./deadline.js";
import { DomainError, validationToConnectError } from "./errors.js";
import { UnavailableError, unavailableReason } from "./unavailable.js";

/**
 * Makes the call's deadline (its grpc-timeout or connect-timeout-ms) the deadline of the
 * storage calls its handler makes, so none outlives the caller's patience, and the call's
 * abort signal theirs, so a canceled call commits nothing (Db.transaction checks both).
 */
export function createDeadlineInterceptor(): Interceptor {
  return (next) => async (req) => {
    const timeoutMs = requestTimeoutMs(req.header);
    const deadlineAtMs = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    // Connect aborts req.signal once the call is answered, too: work the handler left running
    // in the background must not then be taken for canceled, so the link ends with the call.
    const live = new AbortController();
    const forward = () => live.abort(req.signal.reason);
    if (req.signal.aborted) forward();
    else req.signal.addEventListener("abort", forward, { once: true });
    const unlink = () => req.signal.removeEventListener("abort", forward);
    const within = <T>(fn: () => T): T =>
      runWithSignal(live.signal, () => (deadlineAtMs === undefined ? fn() : runWithDeadline(deadlineAtMs, fn)));
    let res: Awaited<ReturnType<typeof next>>;
    try {
      res = await within(() => next(req));
    } catch (error) {
      unlink();
      throw error;
    }
    if (!res.stream) {
      unlink();
      return res;
    }
    // A server stream's handler runs as the stream is read, outside this call: carry it there.
    return { ...res, message: withinCall(res.message, within, unlink) };
  };
}

function withinCall<T>(messages: AsyncIterable<T>, within: <R>(fn: () => R) => R, end: () => void): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      const iterator = messages[Symbol.asyncIterator]();
      return {
        next: async () => {
          try {
            const result = await within(() => iterator.next());
            if (result.done) end();
            return result;
          } catch (error) {
            end();
            throw error;
          }
        },
        return: (value?: unknown) => {
          end();
          return within(() => iterator.return?.(value) ?? Promise.resolve({ done: true as const, value: undefined }));
        },
      };
    },
  };
}

export function createLoggingInterceptor(logger: Logger): Interceptor {
  return (next) => async (req) => {
    const startMs = performance.now();
    const fields = () => ({
      procedure: `${req.service.typeName}/${req.method.name}`,
      protocol: req.header.get("content-type") ?? undefined,
      durationMs: Math.round((performance.now() - startMs) * 100) / 100,
      subject: req.contextValues.get(principalKey)?.subject,
    });
    try {
      const res = await next(req);
      logger.info({ ...fields(), code: "ok" }, "rpc");
      return res;
    } catch (error) {
      const code = ConnectError.from(error).code;
      logger.info({ ...fields(), code: Code[code] }, "rpc");
      throw error;
    }
  };
}

/**
 * Domain and validation errors reach the caller as they are, an unavailable dependency as
 * UNAVAILABLE with a short reason; anything else is a bug:
 * logged with an id, and the caller gets only that id, never a stack or SQL text.
 */
export function createErrorInterceptor(logger: Logger): Interceptor {
  return (next) => async (req) => {
    const procedure = `${req.service.typeName}/${req.method.name}`;
    try {
      const res = await next(req);
      // A server stream fails while it is read, after this call returned: map those too.
      return res.stream ? { ...res, message: mapStreamErrors(res.message, logger, procedure) } : res;
    } catch (error) {
      throw toConnectError(error, logger, procedure);
    }
  };
}

async function* mapStreamErrors<T>(messages: AsyncIterable<T>, logger: Logger, procedure: string): AsyncIterable<T> {
  try {
    yield* messages;
  } catch (error) {
    throw toConnectError(error, logger, procedure);
  }
}

export function toConnectError(error: unknown, logger: Logger, procedure: string): ConnectError {
  // A message quoting the caller's text may hold a lone surrogate, which no header can carry
  // (connect-es' percent-encoding throws, and the call would never end): U+FFFD in its place.
  if (error instanceof ConnectError) {
    return error.rawMessage.isWellFormed()
      ? error
      : new ConnectError(
          error.rawMessage.toWellFormed(),
          error.code,
          error.metadata,
          // A server's own errors hold outgoing details only (a message and its schema).
          error.details.flatMap((detail) => ("desc" in detail ? [detail] : [])),
          error.cause,
        );
  }
  if (error instanceof DomainError) {
    const metadata = error.field ? { "x-qenex-field": error.field } : undefined;
    return new ConnectError(error.message, error.code, metadata);
  }
  if (error instanceof ValidationError) return validationToConnectError(error);
  // A dependency that cannot answer is the caller's to retry later, not a bug: no error id.
  const reason = unavailableReason(error);
  if (reason !== undefined) {
    logger.warn({ err: error instanceof Error ? error.message : String(error), procedure }, "dependency unavailable");
    return new ConnectError(error instanceof UnavailableError ? error.message : `dependency unavailable: ${reason}`, Code.Unavailable);
  }
  const errorId = randomUUID();
  logger.error({ err: error, errorId, procedure }, "internal error");
  return new ConnectError(`internal error (id ${errorId})`, Code.Internal);
}

/** How deep the NUL check walks a request (our contracts nest a few levels). */
const nulCheckDepthMax = 32;

/**
 * Refuses a request with a NUL character (U+0000) in any text field: PostgreSQL cannot store
 * one, and no id, name or reference needs it. Checked on the whole message before any
 * handler runs, so it fails alone with the field named, never halfway through a write (or
 * inside a group commit shared with other callers).
 */
export function createNulInterceptor(): Interceptor {
  return (next) => async (req) => {
    if (!req.stream) {
      refuseNul(req.message);
      return next(req);
    }
    // A stream's messages (a server stream's one request too) are checked as the handler reads them.
    const messages = req.message;
    return next({
      ...req,
      message: (async function* () {
        for await (const message of messages) {
          refuseNul(message);
          yield message;
        }
      })(),
    });
  };
}

function refuseNul(message: unknown): void {
  const path = nulPath(message, 0);
  if (path !== undefined) {
    throw new ConnectError(`${fieldName(path)} contains a NUL character (\\u0000), which no text field accepts`, Code.InvalidArgument);
  }
}

/** The path to the first string holding a NUL (names and [index]es); undefined when none does. */
function nulPath(value: unknown, depth: number): string[] | undefined {
  if (typeof value === "string") return value.includes("\u0000") ? [] : undefined;
  if (typeof value !== "object" || value === null || depth > nulCheckDepthMax || value instanceof Uint8Array) return undefined;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const found = nulPath(value[index], depth + 1);
      if (found !== undefined) return [`[${index}]`, ...found];
    }
    return undefined;
  }
  for (const key in value) {
    if (key === "$typeName" || key === "$unknown" || key === "case") continue;
    const found = nulPath((value as Record<string, unknown>)[key], depth + 1);
    if (found === undefined) continue;
    // A oneof is { case, value }: the field is named by its case.
    const name = key === "value" && "case" in value ? String((value as { case: unknown }).case) : key;
    return [name, ...found];
  }
  return undefined;
}

/** A path as the contract names it (transfers[2].account_id), not as the generated code does (accountId). */
function fieldName(path: readonly string[]): string {
  const snake = path.map((part) => part.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`));
  return snake.map((part, i) => (i === 0 || part.startsWith("[") ? part : `.${part}`)).join("") || "request";
}
