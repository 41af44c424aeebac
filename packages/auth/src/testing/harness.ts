// Starts real auth servers for tests: PostgreSQL when DATABASE_URL is set (CI), embedded
// PGlite in a temporary folder otherwise. Clients are real network clients.
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type Client, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { AuthService } from "@qenex/gen/qenex/auth/v1/auth_pb.js";
import {
  createAuth,
  createPgliteDb,
  createPostgresDb,
  type Db,
  loadConfig,
  migrate,
  type Role,
  type ServiceDeps,
  type ServiceProcess,
  startService,
} from "@qenex/platform";
import { authMigrations, bindAuth, type SignInThrottleOptions } from "../index.js";

export const testJwtSecret = "test-secret-test-secret-test-secret-0123";
export const usesPostgres = Boolean(process.env.DATABASE_URL);

export type TestAuth = {
  process: ServiceProcess;
  /** A client whose calls carry a token minted for `subject` with `roles`. */
  client(roles?: Role[], subject?: string): Client<typeof AuthService>;
  /** A client whose calls carry this access token, or none. */
  clientWithToken(accessToken?: string): Client<typeof AuthService>;
  stop(): Promise<void>;
};

export async function startTestAuth(
  options: {
    /** The sign-in throttle's clock and kv namespace. */
    throttle?: SignInThrottleOptions;
    /** More settings (QENEX_SIGNIN_*). */
    env?: Record<string, string>;
  } = {},
): Promise<TestAuth> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "qenex-auth-"));
  const config = loadConfig({
    QENEX_HOST: "127.0.0.1",
    QENEX_DATA_DIR: dataDir,
    QENEX_JWT_SECRET: testJwtSecret,
    QENEX_AUDIT_KEY: "test-audit-key-test-audit-key-test-0123",
    QENEX_LOG_LEVEL: "silent",
    QENEX_SHUTDOWN_GRACE_MS: "2000",
    ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
    ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}),
    ...options.env,
  });
  // Counters of this server's own: Redis outlives test runs, and parallel runs share it.
  const throttle = { keyPrefix: `qenex:test:signin:${randomBytes(6).toString("hex")}:`, ...options.throttle };
  const bind = (deps: ServiceDeps) => bindAuth(deps, { throttle });
  const started = await startService({ name: "auth", port: 0, config, migrations: authMigrations, bind });
  const auth = createAuth(testJwtSecret);
  const clientWithToken = (accessToken?: string) => {
    const bearer: Interceptor = (next) => async (req) => {
      if (accessToken !== undefined) req.header.set("authorization", `Bearer ${accessToken}`);
      return next(req);
    };
    return createClient(AuthService, createGrpcTransport({ baseUrl: started.server.url, interceptors: [bearer] }));
  };
  return {
    process: started,
    client(roles = ["admin"], subject = "test") {
      const bearer: Interceptor = (next) => async (req) => {
        req.header.set("authorization", `Bearer ${await auth.issue({ subject, roles }, 600)}`);
        return next(req);
      };
      return createClient(AuthService, createGrpcTransport({ baseUrl: started.server.url, interceptors: [bearer] }));
    },
    clientWithToken,
    stop: () => started.stop(),
  };
}

/**
 * A database with the auth schema and no users, for tests that need an empty user table:
 * a fresh schema on PostgreSQL (the shared database keeps other tests' users), a fresh
 * PGlite folder otherwise. `open` gives another connection pool onto the same database.
 */
export async function createEmptyAuthDb(): Promise<{ db: Db; open(): Promise<Db>; drop(): Promise<void> }> {
  const baseUrl = process.env.DATABASE_URL;
  if (!baseUrl) {
    const db = await createPgliteDb(fs.mkdtempSync(path.join(os.tmpdir(), "qenex-auth-empty-")));
    await migrate(db, "auth", authMigrations);
    return { db, open: async () => db, drop: () => db.close() };
  }
  const schema = `auth_test_${randomBytes(6).toString("hex")}`;
  const admin = createPostgresDb(baseUrl, 1);
  await admin.exec(`CREATE SCHEMA ${schema}`);
  const url = new URL(baseUrl);
  url.searchParams.set("options", `-c search_path=${schema}`);
  const opened: Db[] = [];
  const open = async () => {
    const db = createPostgresDb(url.toString(), 4);
    opened.push(db);
    return db;
  };
  const db = await open();
  await migrate(db, "auth", authMigrations);
  return {
    db,
    open,
    drop: async () => {
      await Promise.all(opened.map((d) => d.close()));
      await admin.exec(`DROP SCHEMA ${schema} CASCADE`);
      await admin.close();
    },
  };
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`;
}

/** The error a call fails with; throws when it succeeds. */
export async function rpcError(call: Promise<unknown>): Promise<ConnectError> {
  try {
    await call;
  } catch (error) {
    return ConnectError.from(error);
  }
  throw new Error("expected the call to fail");
}
