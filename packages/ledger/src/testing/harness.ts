// Starts real ledger servers for tests: PostgreSQL when DATABASE_URL is set (CI), embedded
// PGlite in a temporary folder otherwise. Clients are real network clients.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type Client, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { LedgerService } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import {
  type BoundServices,
  createAuth,
  loadConfig,
  type Role,
  type ServiceDeps,
  type ServiceProcess,
  startService,
} from "@qenex/platform";
import { bindLedger, ledgerMigrations } from "../index.js";

export const testJwtSecret = "test-secret-test-secret-test-secret-0123";
/** One audit key for every test server: they share the database and its audit chain. */
export const testAuditKey = "test-audit-key-test-audit-key-test-0123";
export const usesPostgres = Boolean(process.env.DATABASE_URL);

export type TestLedger = {
  process: ServiceProcess;
  url: string;
  token(roles?: Role[]): Promise<string>;
  client(roles?: Role[]): Client<typeof LedgerService>;
  stop(): Promise<void>;
};

export async function startTestLedger(
  options: {
    dataDir?: string;
    databaseUrl?: string;
    /** Binds the service instead of bindLedger: a test wraps its storage or handlers to step in at a chosen point. */
    bind?: (deps: ServiceDeps) => BoundServices;
  } = {},
): Promise<TestLedger> {
  const databaseUrl = options.databaseUrl ?? process.env.DATABASE_URL;
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "qenex-ledger-"));
  const config = loadConfig({
    QENEX_HOST: "127.0.0.1",
    QENEX_LEDGER_PORT: "0",
    QENEX_DATA_DIR: dataDir,
    QENEX_JWT_SECRET: testJwtSecret,
    QENEX_AUDIT_KEY: testAuditKey,
    QENEX_LOG_LEVEL: "silent",
    QENEX_SHUTDOWN_GRACE_MS: "2000",
    QENEX_DB_POOL_MAX: "12",
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}),
  });
  const started = await startService({ name: "ledger", port: 0, config, migrations: ledgerMigrations, bind: options.bind ?? bindLedger });
  const auth = createAuth(testJwtSecret);
  const token = (roles: Role[] = ["admin"]) => auth.issue({ subject: "test", roles }, 600);
  return {
    process: started,
    url: started.server.url,
    token,
    client(roles = ["admin"]) {
      const bearer: Interceptor = (next) => async (req) => {
        req.header.set("authorization", `Bearer ${await token(roles)}`);
        return next(req);
      };
      return createClient(LedgerService, createGrpcTransport({ baseUrl: started.server.url, interceptors: [bearer] }));
    },
    stop: () => started.stop(),
  };
}

/** A prefix that keeps each test's accounts apart on a shared database. */
export function uniquePrefix(name: string): string {
  return `${name}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
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
