// One small SQL interface over PostgreSQL (pg pool) and embedded PGlite: same SQL, same
// migrations. Both return BIGINT as a string, so money never passes through a JS number.
import * as fs from "node:fs";
import * as path from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import pg from "pg";
import { callEnded, remainingMs, runInCall, runWithTimeout } from "./deadline.js";
import { asUnavailable, isUnavailable, queryTimeoutReason, UnavailableError, unavailableReason } from "./unavailable.js";

export type Row = Record<string, unknown>;
export type QueryResult<R extends Row> = { rows: R[]; rowCount: number };

export interface Queryable {
  query<R extends Row = Row>(sql: string, params?: unknown[]): Promise<QueryResult<R>>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Db extends Queryable {
  readonly kind: "postgres" | "pglite";
  /** The PostgreSQL schema this service's tables live in (its search_path); undefined: public. */
  readonly schema?: string | undefined;
  /**
   * Runs fn in one READ COMMITTED transaction. Deadlocks and serialization failures are
   * retried (at most `transactionAttemptsMax` times) so they never reach a client. Once the
   * call it runs for has ended (deadline passed, canceled) no statement starts and COMMIT
   * is not sent: the transaction rolls back and fails DEADLINE_EXCEEDED or CANCELED.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  /** Connections open and waiting callers, for the qenex_active_connections gauge. */
  poolStats(): { total: number; idle: number; waiting: number };
  /**
   * Calls onNotify for every NOTIFY on `channel` (delivered at the sender's commit).
   * Returns a function that stops listening.
   */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export const transactionAttemptsMax = 8;
const retryableSqlStates = new Set(["40001", "40P01"]);

export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

async function withRetry<T>(attempt: () => Promise<T>): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      const state = sqlState(error);
      if (n >= transactionAttemptsMax || state === undefined || !retryableSqlStates.has(state)) {
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * n));
    }
  }
}

/** A schema name a service may own: lower-case letters, digits and underscores. */
const schemaPattern = /^[a-z_][a-z0-9_]{0,62}$/;

/** Longest a statement may take when no RPC deadline is in effect (startup, background work). */
export const statementTimeoutMsDefault = 10_000;
/**
 * Server-side backstop (statement_timeout): a statement whose client gave up and dropped the
 * connection still stops. A call may last longer (a stream); one statement never needs to.
 */
export const statementTimeoutMsServer = 60_000;
/** Longest wait for a new connection: a frozen server otherwise holds the TCP handshake. */
export const connectTimeoutMs = 5_000;
/** A ping (readiness) answers within this or the database counts as down. */
export const pingTimeoutMs = 1_000;
/** Budget of one start's migrations: a migration may rewrite a large table. */
export const migrationTimeoutMs = 15 * 60_000;

/** Time left for the next statement: the call's remaining deadline, else the default; `byDeadline` says which. */
function statementLimit(): { timeoutMs: number; byDeadline: boolean } {
  refuseIfCallEnded("before the statement ran");
  const remaining = remainingMs();
  return { timeoutMs: Math.ceil(remaining ?? statementTimeoutMsDefault), byDeadline: remaining !== undefined };
}

function refuseIfCallEnded(when: string): void {
  const ended = callEnded(when);
  if (ended) throw ended;
}

/**
 * The last look before COMMIT: a call that ended (its deadline passed, it was canceled)
 * gets nothing committed, since its client has stopped waiting and will retry or give up.
 * The call may still end once COMMIT has been sent; then the write stands, the only
 * outcome possible from there on (and the one a retry with the same ids will find).
 */
function refuseCommitIfCallEnded(): void {
  refuseIfCallEnded("before its changes were committed; nothing was written");
}

/**
 * A database that did not answer in time because the call's own deadline left it no time is
 * the caller's DEADLINE_EXCEEDED (or CANCELED), not the database being unavailable; the
 * database's error stays as the cause, so the connection is still discarded. A timer set from
 * the deadline that ran out (`deadlineTimerFired`) is the deadline passing even if Date.now()
 * is not quite there yet: Node reads its timers' clock once per turn of the event loop, so a
 * timer set late in a busy turn fires that much early by Date.now() (and the wall clock may step).
 */
function deadlineOrUnavailable(error: unknown, when: string, deadlineTimerFired = false): unknown {
  if (!isUnavailable(error)) return error;
  const ended =
    callEnded(when) ?? (deadlineTimerFired ? new ConnectError(`the call's deadline passed ${when}`, Code.DeadlineExceeded) : undefined);
  return ended ? new ConnectError(ended.rawMessage, ended.code, undefined, undefined, error) : error;
}

/** The connection is in an unknown state (a timeout, a lost socket): discard it, never reuse it. */
function brokeConnection(error: unknown): boolean {
  return isUnavailable(error) || (error instanceof ConnectError && isUnavailable(error.cause));
}

/** Runs fn outside the current call: a rollback must run even once the call's deadline passed. */
function outsideCall<T>(fn: () => T): T {
  return runInCall({}, fn);
}

export function createPostgresDb(url: string, poolMax: number, options: { schema?: string | undefined } = {}): Db {
  const { schema } = options;
  if (schema !== undefined && !schemaPattern.test(schema)) throw new RangeError(`"${schema}" is not a schema name`);
  // Each connection starts in the service's schema (its tables and its schema_migrations),
  // with a server-side limit on any one statement.
  const settings = [`-c statement_timeout=${statementTimeoutMsServer}`, ...(schema ? [`-c search_path=${schema}`] : [])];
  const connection = { connectionString: url, options: settings.join(" ") };
  const pool = new pg.Pool({ ...connection, max: poolMax, idleTimeoutMillis: 30_000, connectionTimeoutMillis: connectTimeoutMs });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on("error", () => {});
  // Nor a checked-out one (pg-pool listens only while a client is idle): the statement in
  // flight fails with the error, and the client, no longer queryable, is dropped on release.
  pool.on("connect", (client) => client.on("error", () => {}));

  /** A pooled client within the time left; one that arrives too late goes back to the pool. */
  const acquire = async (): Promise<pg.PoolClient> => {
    const { timeoutMs, byDeadline } = statementLimit();
    const connecting = pool.connect();
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        reject(new UnavailableError("postgresql", `no connection within ${timeoutMs} ms`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([connecting, late]);
    } catch (error) {
      connecting.then(
        (client) => client.release(),
        () => {},
      );
      throw deadlineOrUnavailable(asUnavailable(error, "postgresql"), "while it waited for a connection", byDeadline && timedOut);
    } finally {
      clearTimeout(timer);
    }
  };

  /**
   * One statement on a checked-out client, ended client-side when the time left runs out. A
   * timed-out or broken client must not be reused: its statement may still be on the wire.
   */
  const run = async <R extends Row>(client: pg.PoolClient, sql: string, params?: unknown[]): Promise<QueryResult<R>> => {
    const { timeoutMs, byDeadline } = statementLimit();
    try {
      // query_timeout is pg's client-side limit; its type declarations do not list it.
      const config: pg.QueryConfig & { query_timeout: number } = {
        text: sql,
        ...(params ? { values: params } : {}),
        query_timeout: timeoutMs,
      };
      const result = await client.query(config);
      return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
    } catch (error) {
      const timedOut = byDeadline && unavailableReason(error) === queryTimeoutReason;
      throw deadlineOrUnavailable(asUnavailable(error, "postgresql"), "while the statement ran", timedOut);
    }
  };

  /** Runs work on one client and releases it, discarding it after a timeout or a lost connection. */
  const withClient = async <T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> => {
    const client = await acquire();
    let broken: Error | undefined;
    try {
      return await work(client);
    } catch (error) {
      if (brokeConnection(error)) broken = error as Error;
      throw error;
    } finally {
      client.release(broken);
    }
  };

  return {
    kind: "postgres",
    schema,
    query: (sql, params) => withClient((client) => run(client, sql, params)),
    exec: async (sql) => {
      await withClient((client) => run(client, sql));
    },
    transaction: (fn) =>
      withRetry(() =>
        withClient(async (client) => {
          await run(client, "BEGIN");
          try {
            const result = await fn({
              query: (sql, params) => run(client, sql, params),
              exec: async (sql) => {
                await run(client, sql);
              },
            });
            refuseCommitIfCallEnded();
            await run(client, "COMMIT");
            return result;
          } catch (error) {
            // After a timeout or a lost connection the client is discarded, which rolls back;
            // a ROLLBACK that fails so throws its own such error, which discards it too.
            if (!brokeConnection(error)) await outsideCall(() => run(client, "ROLLBACK"));
            throw error;
          }
        }),
      ),
    ping: () =>
      runWithTimeout(pingTimeoutMs, async () => {
        await withClient((client) => run(client, "SELECT 1"));
      }),
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    listen: async (channel, onNotify) => {
      // A pooled connection cannot LISTEN: the pool would hand it to other work. A lost
      // connection (the server restarted) is opened again with backoff; listeners already
      // recheck on a timer for what a gap in notifications could hide.
      let stopped = false;
      let started = false;
      let client: pg.Client | undefined;
      let retryMs = listenRetryMsMin;
      let timer: NodeJS.Timeout | undefined;
      const scheduleReopen = () => {
        if (stopped || !started || timer) return;
        timer = setTimeout(() => {
          timer = undefined;
          open().catch(() => {
            client?.end().catch(() => {});
            scheduleReopen();
          });
        }, retryMs).unref();
        retryMs = Math.min(retryMs * 2, listenRetryMsMax);
      };
      const open = async (): Promise<void> => {
        const next = new pg.Client({ ...connection, connectionTimeoutMillis: connectTimeoutMs });
        next.on("error", () => {});
        next.on("notification", (message) => {
          if (message.channel === channel) onNotify(message.payload ?? "");
        });
        next.once("end", () => {
          if (client === next) scheduleReopen();
        });
        client = next;
        await next.connect();
        await next.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
        retryMs = listenRetryMsMin;
      };
      await open();
      started = true;
      return async () => {
        stopped = true;
        clearTimeout(timer);
        await client?.end();
      };
    },
    close: () => pool.end(),
  };
}

/** Backoff of a LISTEN connection opened again after it was lost. */
const listenRetryMsMin = 250;
const listenRetryMsMax = 10_000;

/** Shared buffers of an embedded database (PostgreSQL's default is 128 MB). */
export const pgliteSharedBuffersMb = 16;

export async function createPgliteDb(dataDir: string): Promise<Db> {
  // Loaded only when used: the embedded engine is a large WebAssembly module.
  const { PGlite, types } = await import("@electric-sql/pglite");
  fs.mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create(path.join(dataDir, "pglite"), {
    parsers: { [types.INT8]: (value: string) => value },
    // Every service runs a PGlite of its own: PostgreSQL's 128 MB of shared buffers each
    // would be most of a process's memory, for data that fits in far less.
    startParams: [...PGlite.defaultStartParams, "-c", `shared_buffers=${pgliteSharedBuffersMb}MB`],
  });
  // A new data folder is made by initdb in a WebAssembly instance of its own, about 300 MB
  // that stays resident until a full collection. Processes started with --expose-gc (the
  // supervisor's embedded services) collect it now rather than whenever V8 gets to it.
  (globalThis as { gc?: () => void }).gc?.();
  const adapt = async <R extends Row>(run: Promise<{ rows: unknown[]; affectedRows?: number }>): Promise<QueryResult<R>> => {
    const result = await run;
    // PGlite reports affectedRows = 0 for a SELECT; a statement that returns rows counts them.
    const rowCount = result.rows.length > 0 ? result.rows.length : (result.affectedRows ?? 0);
    return { rows: result.rows as R[], rowCount };
  };
  return {
    kind: "pglite",
    query: (sql, params) => {
      refuseIfCallEnded("before the statement ran");
      return adapt(db.query(sql, params));
    },
    exec: async (sql) => {
      await db.exec(sql);
    },
    // PGlite is one connection: its transactions already run one at a time. A throw inside
    // db.transaction rolls back.
    transaction: (fn) =>
      withRetry(() =>
        db.transaction(async (tx) => {
          const result = await fn({
            query: (sql, params) => {
              refuseIfCallEnded("before the statement ran");
              return adapt(tx.query(sql, params));
            },
            exec: async (sql) => {
              await tx.exec(sql);
            },
          });
          refuseCommitIfCallEnded();
          return result;
        }),
      ),
    ping: async () => {
      await db.query("SELECT 1");
    },
    poolStats: () => ({ total: db.closed ? 0 : 1, idle: 0, waiting: 0 }),
    listen: async (channel, onNotify) => {
      const unlisten = await db.listen(channel, onNotify);
      return async () => {
        if (!db.closed) await unlisten();
      };
    },
    close: () => db.close(),
  };
}

export type Migration = { version: number; name: string; sql: string };

/**
 * Applies a service's numbered migrations that are not yet applied, in order, each in its
 * own transaction. An advisory lock makes replicas that start together apply each once.
 */
export async function migrate(db: Db, service: string, migrations: readonly Migration[]): Promise<number[]> {
  return runWithTimeout(migrationTimeoutMs, () => migrateWithin(db, service, migrations));
}

async function migrateWithin(db: Db, service: string, migrations: readonly Migration[]): Promise<number[]> {
  const lockKey = "qenex:migrate";
  // A migration may run longer than the server-side backstop allows other statements.
  const lock = async (tx: Queryable) => {
    if (db.kind === "postgres") await tx.exec(`SET LOCAL statement_timeout = ${migrationTimeoutMs}`);
    await tx.query("SELECT pg_advisory_xact_lock(hashtext($1))", [lockKey]);
  };
  await db.transaction(async (tx) => {
    await lock(tx);
    // Under the lock: replicas creating the same schema at once would otherwise collide.
    if (db.schema) await tx.exec(`CREATE SCHEMA IF NOT EXISTS ${pg.escapeIdentifier(db.schema)}`);
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      service text NOT NULL, version integer NOT NULL, name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (service, version))`);
  });
  const applied: number[] = [];
  const ordered = [...migrations].sort((a, b) => a.version - b.version);
  for (const migration of ordered) {
    const didApply = await db.transaction(async (tx) => {
      await lock(tx);
      const done = await tx.query("SELECT 1 FROM schema_migrations WHERE service = $1 AND version = $2", [service, migration.version]);
      if (done.rowCount > 0) return false;
      await tx.exec(migration.sql);
      await tx.query("INSERT INTO schema_migrations (service, version, name) VALUES ($1, $2, $3)", [
        service,
        migration.version,
        migration.name,
      ]);
      return true;
    });
    if (didApply) applied.push(migration.version);
  }
  return applied;
}

export async function createDb(options: {
  databaseUrl: string | undefined;
  dataDir: string;
  poolMax: number;
  /** PostgreSQL only: the schema the service owns (PGlite keeps a folder per service instead). */
  schema?: string | undefined;
}): Promise<Db> {
  return options.databaseUrl
    ? createPostgresDb(options.databaseUrl, options.poolMax, { schema: options.schema })
    : createPgliteDb(options.dataDir);
}
