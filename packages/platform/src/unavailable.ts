// Which failures mean "a dependency (PostgreSQL, Redis) cannot be reached right now": the
// caller should retry later (UNAVAILABLE), it is not a bug in the request or the service.

export type Dependency = "postgresql" | "redis";

/** A dependency could not answer; the message is safe to show a client (no SQL, no host). */
export class UnavailableError extends Error {
  override name = "UnavailableError";
  constructor(
    readonly dependency: Dependency,
    /** Why, in a few words: "connection refused", "no answer within 500 ms". */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${dependency === "postgresql" ? "database" : "redis"} unavailable: ${reason}`, options);
  }
}

/** Socket errors: nothing listens, the peer went away, or the network does not answer. */
const socketReasons: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ECONNABORTED: "connection aborted",
  EPIPE: "connection lost",
  ETIMEDOUT: "connection timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host not found",
};

/** SQLSTATEs of a server that cannot serve now (https://www.postgresql.org/docs/current/errcodes-appendix.html). */
const sqlStateReasons: Record<string, string> = {
  "57P01": "server shutting down", // admin_shutdown (also pg_terminate_backend)
  "57P02": "server crashed", // crash_shutdown
  "57P03": "server not accepting connections", // cannot_connect_now (starting up, recovering)
  "53300": "too many connections", // too_many_connections
};

/** Why a statement that outlasted its client-side limit (pg's query_timeout) failed. */
export const queryTimeoutReason = "no answer in time";

/** Messages node-postgres (pg, pg-pool) and ioredis give to lost connections and timeouts. */
const messageReasons: [RegExp, string][] = [
  [/^Connection terminated/, "connection lost"],
  [/^timeout exceeded when trying to connect$/, "no connection available in time"],
  [/^Query read timeout$/, queryTimeoutReason],
  [/is not queryable$/, "connection lost"],
  [/^Connection is closed\.?$/, "connection closed"],
  [/^Command timed out$/, "no answer in time"],
  [/^Stream isn't writeable/, "not connected"],
  [/^Reached the max retries per request limit/, "not connected"],
];

/** Why error means a dependency is unavailable, or undefined when it does not. */
export function unavailableReason(error: unknown, depth = 0): string | undefined {
  if (error instanceof UnavailableError) return error.reason;
  if (typeof error !== "object" || error === null || depth > 3) return undefined;
  const { code, message, name, errors, cause } = error as {
    code?: unknown;
    message?: unknown;
    name?: unknown;
    errors?: unknown;
    cause?: unknown;
  };
  if (typeof code === "string") {
    const reason = socketReasons[code] ?? sqlStateReasons[code] ?? (code.startsWith("08") ? "connection failure" : undefined);
    if (reason) return reason;
  }
  if (name === "MaxRetriesPerRequestError") return "not connected";
  if (typeof message === "string") {
    for (const [pattern, reason] of messageReasons) if (pattern.test(message)) return reason;
  }
  // Happy-eyeballs connects fail with an AggregateError of one error per address.
  if (Array.isArray(errors)) {
    for (const inner of errors) {
      const reason = unavailableReason(inner, depth + 1);
      if (reason) return reason;
    }
  }
  return cause === undefined ? undefined : unavailableReason(cause, depth + 1);
}

export function isUnavailable(error: unknown): boolean {
  return unavailableReason(error) !== undefined;
}

/** error as an UnavailableError of dependency when it is one, else error unchanged. */
export function asUnavailable(error: unknown, dependency: Dependency): unknown {
  if (error instanceof UnavailableError) return error;
  const reason = unavailableReason(error);
  return reason === undefined ? error : new UnavailableError(dependency, reason, { cause: error });
}
