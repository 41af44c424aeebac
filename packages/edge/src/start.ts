// The edge as `qenex start` runs it: settings from the mesh's Config, the rate limiter on
// Redis when REDIS_URL is set (in-process otherwise), idempotency records in the mesh's kv.

import {
  type Config,
  createAuth,
  createClientAddresses,
  createLogger,
  createRateLimiter,
  type Kv,
  type Logger,
  resolveJwtSecret,
} from "@qenex/platform";
import edgePackage from "../package.json" with { type: "json" };
import type { Probe } from "./edge.js";
import { createIdempotencyStore } from "./idempotency.js";
import { type EdgeServer, serveEdge } from "./server.js";
import type { Upstream } from "./upstream.js";

export type EdgeProcess = { server: EdgeServer; logger: Logger; stop(): Promise<void> };

export async function startEdge(
  config: Config,
  options: {
    upstreams: readonly Upstream[];
    probes: readonly Probe[];
    kv: Kv;
  },
): Promise<EdgeProcess> {
  const logger = createLogger("edge", config.logLevel);
  const secret = resolveJwtSecret(config.jwtSecret, config.dataDir);
  const rateLimiter = createRateLimiter(config.redisUrl, { whenStoreDown: config.rateLimits.whenStoreDown, logger });
  const server = await serveEdge({
    host: config.host,
    port: config.edgePort,
    upstreams: options.upstreams,
    auth: createAuth(secret),
    clientAddresses: createClientAddresses(secret),
    logger,
    corsOrigins: config.corsOrigins,
    rateLimiter,
    rateLimits: config.rateLimits,
    idempotency: createIdempotencyStore(options.kv),
    probes: options.probes,
    version: edgePackage.version,
  });
  return {
    server,
    logger,
    async stop() {
      await server.close();
      await rateLimiter.close();
    },
  };
}
