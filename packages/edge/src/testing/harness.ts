// An edge in front of real services for tests: a ledger (PostgreSQL when DATABASE_URL is
// set, PGlite otherwise) and the conformance service, each a real server on its own port.

import { ConformanceService } from "@qenex/gen/qenex/conformance/v1/conformance_pb.js";
import { LedgerService } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { startTestLedger, type TestLedger, testJwtSecret } from "@qenex/ledger/testing";
import {
  createAuth,
  createKv,
  createLogger,
  createMemoryRateLimiter,
  type RateLimitRule,
  type Role,
  type Server,
  serve,
} from "@qenex/platform";
import type { RateLimiter } from "../edge.js";
import { createIdempotencyStore } from "../idempotency.js";
import { type EdgeServer, serveEdge } from "../server.js";
import { conformanceBinding } from "./conformance-service.js";

export type TestEdge = {
  url: string;
  ledger: TestLedger;
  conformance: Server;
  edge: EdgeServer;
  token(roles?: Role[], subject?: string): Promise<string>;
  stop(): Promise<void>;
};

const generous: RateLimitRule = { capacity: 1_000_000, refillPerSecond: 1_000_000 };

export async function startTestEdge(
  options: { rateLimiter?: RateLimiter; rateLimits?: { perPrincipal: RateLimitRule; perIp: RateLimitRule }; corsOrigins?: string[] } = {},
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
  const kv = createKv(process.env.REDIS_URL);
  const edge = await serveEdge({
    host: "127.0.0.1",
    port: 0,
    upstreams: [
      { service: LedgerService, url: ledger.url },
      { service: ConformanceService, url: conformance.url },
    ],
    auth,
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
    edge,
    token: (roles = ["admin"], subject = "test") => auth.issue({ subject, roles }, 600),
    async stop() {
      await edge.close();
      await conformance.close(0);
      await ledger.stop();
      await kv.close();
    },
  };
}
