// An edge in front of real services for tests: a ledger (PostgreSQL when DATABASE_URL is
// set, PGlite otherwise) and the conformance service, each a real server on its own port.

import { randomBytes } from "node:crypto";
import * as os from "node:os";
import { authMigrations, authPublicMethods, bindAuth, type SignInThrottleOptions } from "@qenex/auth";
import { AuthService } from "@qenex/gen/qenex/auth/v1/auth_pb.js";
import { ConformanceService } from "@qenex/gen/qenex/conformance/v1/conformance_pb.js";
import { LedgerService } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { startTestLedger, type TestLedger, testJwtSecret } from "@qenex/ledger/testing";
import {
  createAuth,
  createClientAddresses,
  createKv,
  createLogger,
  createMemoryRateLimiter,
  loadConfig,
  type RateLimitRule,
  type Role,
  type Server,
  type ServiceProcess,
  serve,
  startService,
} from "@qenex/platform";
import type { RateLimiter } from "../edge.js";
import { createIdempotencyStore } from "../idempotency.js";
import { type EdgeServer, serveEdge } from "../server.js";
import { conformanceBinding } from "./conformance-service.js";

export type TestEdge = {
  url: string;
  ledger: TestLedger;
  conformance: Server;
  auth: ServiceProcess;
  edge: EdgeServer;
  token(roles?: Role[], subject?: string): Promise<string>;
  stop(): Promise<void>;
};

const generous: RateLimitRule = { capacity: 1_000_000, refillPerSecond: 1_000_000 };

export async function startTestEdge(
  options: {
    rateLimiter?: RateLimiter;
    rateLimits?: { perPrincipal: RateLimitRule; perIp: RateLimitRule };
    corsOrigins?: string[];
    /** The auth service's sign-in throttle: its clock and kv namespace. */
    authThrottle?: SignInThrottleOptions;
    /** More settings for the auth service (QENEX_SIGNIN_*). */
    authEnv?: Record<string, string>;
  } = {},
): Promise<TestEdge> {
  const ledger = await startTestLedger();
  const auth = createAuth(testJwtSecret);
  const logger = createLogger("edge-test", "silent");
  const conformance = await serve({
    services: [conformanceBinding()],
    host: "127.0.0.1",
    port: 0,
    auth,
    logger,
    ready: async () => true,
  });
  // The auth service as `qenex start` runs it: beside the ledger, on the ledger's pool.
  const authService = await startService({
    name: "auth",
    port: 0,
    config: loadConfig(
      {
        QENEX_HOST: "127.0.0.1",
        QENEX_DATA_DIR: os.tmpdir(),
        QENEX_JWT_SECRET: testJwtSecret,
        QENEX_LOG_LEVEL: "silent",
        QENEX_SHUTDOWN_GRACE_MS: "1000",
        ...options.authEnv,
      },
      { forServer: false },
    ),
    migrations: authMigrations,
    // Counters of this edge's own: Redis outlives test runs, and parallel runs share it.
    bind: (deps) =>
      bindAuth(deps, { throttle: { keyPrefix: `qenex:test:signin:${randomBytes(6).toString("hex")}:`, ...options.authThrottle } }),
    shared: { db: ledger.process.db, kv: ledger.process.kv },
  });
  const kv = createKv(process.env.REDIS_URL);
  const edge = await serveEdge({
    host: "127.0.0.1",
    port: 0,
    upstreams: [
      { service: LedgerService, url: ledger.url },
      { service: ConformanceService, url: conformance.url },
      { service: AuthService, url: authService.server.url, publicMethods: authPublicMethods },
    ],
    auth,
    clientAddresses: createClientAddresses(testJwtSecret),
    logger,
    corsOrigins: options.corsOrigins ?? ["https://app.example.com"],
    rateLimiter: options.rateLimiter ?? createMemoryRateLimiter(),
    rateLimits: options.rateLimits ?? { perPrincipal: generous, perIp: generous },
    idempotency: createIdempotencyStore(kv),
    probes: [
      { name: "database", check: () => ledger.process.db.ping() },
      { name: kv.kind === "redis" ? "redis" : "kv (in-process)", check: () => kv.ping() },
    ],
    version: "test",
  });
  return {
    url: edge.url,
    ledger,
    conformance,
    auth: authService,
    edge,
    token: (roles = ["admin"], subject = "test") => auth.issue({ subject, roles }, 600),
    async stop() {
      await edge.close();
      await conformance.close(0);
      await authService.stop();
      await ledger.stop();
      await kv.close();
    },
  };
}
