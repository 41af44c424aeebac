// Start-up and shutdown shared by every service process: config, storage, migrations,
// serving, and a SIGTERM that drains before it exits.

import { Registry } from "prom-client";
import { type Auth, createAuth } from "./auth.js";
import { type Config, type ServiceName, serviceStorage } from "./config.js";
import { createDb, type Db, type Migration, migrate } from "./db.js";
import { storageProbes } from "./health.js";
import { createKv, type Kv } from "./kv.js";
import { createLogger, type Logger } from "./logger.js";
import { registerProcessGauges } from "./metrics.js";
import { resolveJwtSecret } from "./secrets.js";
import { type Server, type ServiceBinding, serve } from "./server.js";

export type ServiceDeps = { db: Db; kv: Kv; logger: Logger; config: Config; metrics: Registry };

/** What a service package hands the runtime: its RPC bindings and how to stop its background work. */
export type BoundServices = { services: ServiceBinding[]; stop?: () => Promise<void> };

export type ServiceProcess = {
  server: Server;
  db: Db;
  kv: Kv;
  auth: Auth;
  logger: Logger;
  /** Drains in-flight calls, then closes the server, the pool and the store. */
  stop(): Promise<void>;
};

export type StartOptions = {
  name: ServiceName;
  port: number;
  config: Config;
  migrations: readonly Migration[];
  bind: (deps: ServiceDeps) => BoundServices;
  /** Shares storage with another service in the same process instead of opening its own. */
  shared?: { db: Db; kv: Kv };
  /** A kv to use instead of opening one: a cluster worker's, held by its primary for every worker. */
  kv?: Kv | undefined;
};

export async function startService(options: StartOptions): Promise<ServiceProcess> {
  const { config } = options;
  const logger = createLogger(options.name, config.logLevel);
  const db = options.shared?.db ?? (await createDb({ ...serviceStorage(config, options.name), poolMax: config.dbPoolMax }));
  const kv = options.shared?.kv ?? options.kv ?? createKv(config.redisUrl, { keyPrefix: config.redisKeyPrefix });
  const applied = await migrate(db, options.name, options.migrations);
  if (applied.length > 0) logger.info({ applied }, "migrations applied");
  const auth = createAuth(resolveJwtSecret(config.jwtSecret, config.dataDir));
  const metrics = new Registry();
  const ready = async () => {
    await db.ping();
    return true;
  };
  registerProcessGauges(metrics, { connections: () => db.poolStats().total, ready });
  const deps: ServiceDeps = { db, kv, logger, config, metrics };
  const bound = options.bind(deps);
  const server = await serve({
    services: bound.services,
    host: config.host,
    port: options.port,
    tls: config.tls,
    auth,
    logger,
    ready,
    registry: metrics,
    probes: storageProbes(db, kv),
  });
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      await server.close(config.shutdownGraceMs);
      // Background work (sweepers, listeners) stops before the storage it uses closes.
      await bound.stop?.();
      if (!options.shared) {
        await db.close();
        await kv.close();
      }
    })();
    return stopping;
  };
  return { server, db, kv, auth, logger, stop };
}
