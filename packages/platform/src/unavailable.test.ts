import { Code } from "@connectrpc/connect";
import { Redis } from "ioredis";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { DomainError } from "./errors.js";
import { freePort } from "./testing/private-servers.js";
import { asUnavailable, isUnavailable, UnavailableError, unavailableReason } from "./unavailable.js";

/** A PostgreSQL error as pg gives it: an Error with the SQLSTATE in `code`. */
const sqlError = (code: string, message = "error") => Object.assign(new Error(message), { code });

describe("isUnavailable", () => {
  it("recognises a refused connection from pg", async () => {
    const client = new pg.Client({
      connectionString: `postgres://postgres@127.0.0.1:${await freePort()}/x`,
      connectionTimeoutMillis: 1_000,
    });
    client.on("error", () => {});
    const error = await client.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(unavailableReason(error)).toBe("connection refused");
  });

  it("recognises a command refused by ioredis while it is not connected", async () => {
    const redis = new Redis(`redis://127.0.0.1:${await freePort()}`, {
      enableOfflineQueue: false,
      lazyConnect: true,
      retryStrategy: () => null,
    });
    redis.on("error", () => {});
    const error = await redis.get("x").then(
      () => undefined,
      (e: unknown) => e,
    );
    redis.disconnect();
    expect(isUnavailable(error)).toBe(true);
  });

  it.each([
    ["57P01", "server shutting down"],
    ["57P02", "server crashed"],
    ["57P03", "server not accepting connections"],
    ["53300", "too many connections"],
    ["08006", "connection failure"],
    ["ECONNRESET", "connection reset"],
    ["EPIPE", "connection lost"],
    ["ETIMEDOUT", "connection timed out"],
  ])("recognises code %s", (code, reason) => {
    expect(unavailableReason(sqlError(code))).toBe(reason);
  });

  it.each([
    "Connection terminated unexpectedly",
    "Connection terminated due to connection timeout",
    "timeout exceeded when trying to connect",
    "Query read timeout",
    "Connection is closed.",
    "Command timed out",
    "Stream isn't writeable and enableOfflineQueue options is false",
    'Reached the max retries per request limit (which is 1). Refer to "maxRetriesPerRequest" option for details.',
  ])("recognises %j", (message) => {
    expect(isUnavailable(new Error(message))).toBe(true);
  });

  it("looks inside AggregateError and cause", () => {
    expect(isUnavailable(new AggregateError([sqlError("ECONNREFUSED")], "connect failed"))).toBe(true);
    expect(isUnavailable(new Error("wrapped", { cause: sqlError("57P01") }))).toBe(true);
  });

  it("does not take bugs or refusals for unavailability", () => {
    expect(isUnavailable(sqlError("23505", "duplicate key value violates unique constraint"))).toBe(false);
    expect(isUnavailable(sqlError("42P01", 'relation "x" does not exist'))).toBe(false);
    expect(isUnavailable(new DomainError(Code.NotFound, "no such account"))).toBe(false);
    expect(isUnavailable(new TypeError("x is undefined"))).toBe(false);
    expect(isUnavailable(undefined)).toBe(false);
  });

  it("names the dependency in a message safe for a client", () => {
    const error = asUnavailable(sqlError("ECONNREFUSED", "connect ECONNREFUSED 10.0.0.7:5432"), "postgresql");
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as Error).message).toBe("database unavailable: connection refused");
    expect((asUnavailable(new Error("Connection is closed."), "redis") as Error).message).toBe("redis unavailable: connection closed");
    const bug = new TypeError("x");
    expect(asUnavailable(bug, "postgresql")).toBe(bug);
  });
});
