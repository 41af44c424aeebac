// One small SQL interface over PostgreSQL (pg pool) and embedded PGlite: same SQL, same
// migrations. Both return BIGINT as a string, so money never passes through a JS number.
import * as fs from "node:fs";
import * as path from "node:path";
import pg from "pg";

export type Row = Record<string, unknown>;
export type QueryResult<R extends Row> = { rows: R[]; rowCount: number };

export interface Queryable {
  query<R extends Row = Row>(sql: string, params?: unknown[]): Promise<QueryResult<R>>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Db extends Queryable {
  readonly kind: "postgres" | "pglite";
  /**
   * Runs fn in one READ COMMITTED transaction. Deadlocks and serialization failures are
   * retried (at most `transactionAttemptsMax` times) so they never reach a client.
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

export function createPostgresDb(url: string, poolMax: number): Db {
  const pool = new pg.Pool({ connectionString: url, max: poolMax, idleTimeoutMillis: 30_000 });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on("error", () => {});
  const query = async <R extends Row>(client: pg.Pool | pg.PoolClient, sql: string, params?: unknown[]) => {
    const result = await client.query(sql, params);
    return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
  };
  return {
    kind: "postgres",
    query: (sql, params) => query(pool, sql, params),
    exec: async (sql) => {
      await pool.query(sql);
    },
    transaction: (fn) =>
      withRetry(async () => {
        const client = await pool.connect();
        try {
          await client.query("BEGIN");
          const result = await fn({
            query: (sql, params) => query(client, sql, params),
            exec: async (sql) => {
              await client.query(sql);
            },
          });
          await client.query("COMMIT");
          return result;
        } catch (error) {
          await client.query("ROLLBACK").catch(() => {});
          throw error;
        } finally {
          client.release();
        }
      }),
    ping: async () => {
      await pool.query("SELECT 1");
    },
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    listen: async (channel, onNotify) => {
      // A pooled connection cannot LISTEN: the pool would hand it to other work.
      const client = new pg.Client({ connectionString: url });
      client.on("error", () => {});
      client.on("notification", (message) => {
        if (message.channel === channel) onNotify(message.payload ?? "");
      });
      await client.connect();
      await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      return () => client.end();
    },
    close: () => pool.end(),
  };
}

export async function createPgliteDb(dataDir: string): Promise<Db> {
  // Loaded only when used: the embedded engine is a large WebAssembly module.
  const { PGlite, types } = await import("@electric-sql/pglite");
  fs.mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create(path.join(dataDir, "pglite"), {
    parsers: { [types.INT8]: (value: string) => value },
  });
  const adapt = async <R extends Row>(run: Promise<{ rows: unknown[]; affectedRows?: number }>): Promise<QueryResult<R>> => {
    const result = await run;
    // PGlite reports affectedRows = 0 for a SELECT; a statement that returns rows counts them.
    const rowCount = result.rows.length > 0 ? result.rows.length : (result.affectedRows ?? 0);
    return { rows: result.rows as R[], rowCount };
  };
  return {
    kind: "pglite",
    query: (sql, params) => adapt(db.query(sql, params)),
    exec: async (sql) => {
      await db.exec(sql);
    },
    // PGlite is one connection: its transactions already run one at a time.
    transaction: (fn) =>
      withRetry(() =>
        db.transaction((tx) =>
          fn({
            query: (sql, params) => adapt(tx.query(sql, params)),
            exec: async (sql) => {
              await tx.exec(sql);
            },
          }),
        ),
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
  const lockKey = "qenex:migrate";
  await db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock(hashtext($1))", [lockKey]);
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      service text NOT NULL, version integer NOT NULL, name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (service, version))`);
  });
  const applied: number[] = [];
  const ordered = [...migrations].sort((a, b) => a.version - b.version);
  for (const migration of ordered) {
    const didApply = await db.transaction(async (tx) => {
      await tx.query("SELECT pg_advisory_xact_lock(hashtext($1))", [lockKey]);
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

export async function createDb(options: { databaseUrl: string | undefined; dataDir: string; poolMax: number }): Promise<Db> {
  return options.databaseUrl ? createPostgresDb(options.databaseUrl, options.poolMax) : createPgliteDb(options.dataDir);
}
