// `qenex serve NAME`: one service alone in this process, as the supervisor, compose and
// Kubernetes run it. Each service's packages are loaded only by the process that runs it.
import type { Config, Logger, RateLimitRule, ServiceProcess } from "@qenex/platform";
import { checkLegacyPostgresLayout } from "./legacy-layout.js";
import { type MeshService, urlVariable } from "./mesh-services.js";

/** What a running service tells whoever started it. */
export type Running = { url: string; logger: Logger; stop(): Promise<void> };

export async function startMeshService(name: MeshService, config: Config): Promise<Running> {
  const { startService } = await import("@qenex/platform");
  const asRunning = (started: ServiceProcess): Running => ({ url: started.server.url, logger: started.logger, stop: started.stop });
  switch (name) {
    case "ledger": {
      await checkLegacyPostgresLayout(config, name);
      const { bindLedger, ledgerMigrations } = await import("@qenex/ledger");
      return asRunning(await startService({ name, port: config.ledgerPort, config, migrations: ledgerMigrations, bind: bindLedger }));
    }
    case "auth": {
      await checkLegacyPostgresLayout(config, name);
      const [{ authMigrations, bindAuth, ensureFirstAdmin }, { createWorkerKv }] = await Promise.all([
        import("@qenex/auth"),
        import("./workers.js"),
      ]);
      // Under node:cluster without Redis, the sign-in throttle's counters live in the primary,
      // so a guesser cannot spread guesses over the workers.
      const kv = createWorkerKv();
      const started = await startService({ name, port: config.authPort, config, migrations: authMigrations, bind: bindAuth, kv });
      await ensureFirstAdmin(started.db, config);
      return asRunning(started);
    }
    case "risk": {
      await checkLegacyPostgresLayout(config, name);
      const { bindRisk, riskMigrations, seedStandardRules } = await import("@qenex/risk");
      const started = await startService({ name, port: config.riskPort, config, migrations: riskMigrations, bind: bindRisk });
      await seedStandardRules(started.db);
      return asRunning(started);
    }
    case "payments": {
      await checkLegacyPostgresLayout(config, name);
      const { bindPayments, paymentsMigrations } = await import("@qenex/payments");
      return asRunning(await startService({ name, port: config.paymentsPort, config, migrations: paymentsMigrations, bind: bindPayments }));
    }
    case "edge":
      return startEdgeAlone(config);
  }
}

async function startEdgeAlone(config: Config): Promise<Running> {
  const missing = (["ledger", "auth", "risk", "payments"] as const).filter((service) => config[`${service}Url`] === undefined);
  if (missing.length > 0) {
    const { ConfigError } = await import("@qenex/platform/config");
    throw new ConfigError(missing.map((service) => `${urlVariable[service]} is required: the edge routes to the ${service} service there`));
  }
  const [{ startEdge }, { authPublicMethods }, { AuthService }, { LedgerService }, { PaymentsService }, { RiskService }, { createKv }] =
    await Promise.all([
      import("@qenex/edge"),
      import("@qenex/auth"),
      import("@qenex/gen/qenex/auth/v1/auth_pb.js"),
      import("@qenex/gen/qenex/ledger/v1/ledger_pb.js"),
      import("@qenex/gen/qenex/payments/v1/payments_pb.js"),
      import("@qenex/gen/qenex/risk/v1/risk_pb.js"),
      import("@qenex/platform"),
    ]);
  const { createWorkerKv, workerCount } = await import("./workers.js");
  // Under node:cluster without Redis, the workers share one in-process store in the primary,
  // and each keeps 1/N of every rate limit (the primary deals connections out in turn).
  const kv = createWorkerKv() ?? createKv(config.redisUrl, { keyPrefix: config.redisKeyPrefix });
  const share = config.redisUrl ? 1 : workerCount();
  const perWorker = (rule: RateLimitRule): RateLimitRule => ({
    capacity: Math.max(1, Math.ceil(rule.capacity / share)),
    refillPerSecond: Math.max(1, Math.ceil(rule.refillPerSecond / share)),
  });
  const { perPrincipal, perIp, whenStoreDown } = config.rateLimits;
  const rateLimits = { perPrincipal: perWorker(perPrincipal), perIp: perWorker(perIp), whenStoreDown };
  const edge = await startEdge(
    { ...config, rateLimits },
    {
      upstreams: [
        { service: LedgerService, url: config.ledgerUrl as string },
        { service: AuthService, url: config.authUrl as string, publicMethods: authPublicMethods },
        { service: RiskService, url: config.riskUrl as string },
        { service: PaymentsService, url: config.paymentsUrl as string },
      ],
      probes: [{ name: config.redisUrl ? "redis" : "kv (in-process)", check: () => kv.ping() }],
      kv,
    },
  );
  return {
    url: edge.server.url,
    logger: edge.logger,
    async stop() {
      await edge.stop();
      await kv.close();
    },
  };
}
