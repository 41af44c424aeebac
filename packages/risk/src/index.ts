// The risk service for platform's startService(), and the library surface other packages use.
import { RiskService } from "@qenex/gen/qenex/risk/v1/risk_pb.js";
import { type BoundServices, binding, createAuth, type Db, resolveJwtSecret, type ServiceDeps, serviceTokens } from "@qenex/platform";
import type { LedgerSource } from "./ledger-feed.js";
import { createRiskMetrics } from "./metrics.js";
import { startTransferMonitor } from "./monitor.js";
import { standardRules } from "./rules/standard-rules.js";
import { createScoreBatch, createScoreOnce } from "./score-once.js";
import { createScorer, ruleSeverityToProto } from "./scorer.js";
import { createRiskHandlers } from "./service.js";
import { createPartyStore } from "./store/party-store.js";
import { createRiskStore } from "./store/risk-store.js";
import { createSanctionsStore } from "./store/sanctions-store.js";

export { createFeatureSet, featureTable } from "./features/feature-set.js";
export * from "./model/index.js";
export { compileRules } from "./rules/compile.js";
export { evaluateRules } from "./rules/evaluate.js";
export { standardRules } from "./rules/standard-rules.js";
export { createScorer, type Scorer } from "./scorer.js";
export * from "./screening/index.js";
export { riskAccess } from "./service.js";
export { riskMigrations } from "./store/migrations.js";
export { createPartyStore } from "./store/party-store.js";
export { createRiskStore } from "./store/risk-store.js";
export { createSanctionsStore } from "./store/sanctions-store.js";

const changesChannel = "risk_changes";

/** Where the ledger is: the monitor follows its transfers and TrainModel can learn from them. */
export type RiskOptions = {
  ledgerUrl?: string | undefined;
  /** Where the monitor starts when it has no cursor yet (default: the ledger's first transfer). */
  monitorStartAfter?: bigint | undefined;
};

export function bindRisk(deps: ServiceDeps, options: RiskOptions = {}): BoundServices {
  const { db, kv, logger, config } = deps;
  const ledgerUrl = options.ledgerUrl ?? config.ledgerUrl;
  const auth = createAuth(resolveJwtSecret(config.jwtSecret, config.dataDir));
  const ledger: LedgerSource | undefined = ledgerUrl ? { url: ledgerUrl, token: serviceTokens(auth, "risk") } : undefined;
  const store = createRiskStore(db);
  const sanctions = createSanctionsStore(db);
  const parties = createPartyStore(db);
  const scorer = createScorer({ db, kv, logger, store, parties, sanctions, screeningThreshold: config.screeningThreshold });
  // Another replica changed rules, the active model, a sanctions list or a party: reload on next use.
  const unlisten = db
    .listen(changesChannel, (payload) => (payload === "parties" ? scorer.forgetParties() : scorer.invalidate()))
    .catch((error: unknown) => {
      logger.warn({ err: error }, "cannot LISTEN for risk changes; caches reload every 30 s instead");
      return undefined;
    });
  const metrics = createRiskMetrics(deps.metrics);
  const scoreOnce = createScoreOnce({ scorer, store, kv, logger, metrics });
  const monitor = ledger
    ? startTransferMonitor({
        db,
        logger,
        source: ledger,
        scoreBatch: createScoreBatch({ scorer, store, kv, logger, metrics }),
        startAfter: options.monitorStartAfter ?? 0n,
      })
    : undefined;
  const impl = createRiskHandlers({
    scorer,
    scoreOnce,
    ledger,
    store,
    parties,
    logger,
    screeningThreshold: config.screeningThreshold,
    changed: async (what) => {
      if (what === "parties") scorer.forgetParties();
      else scorer.invalidate();
      await db.query("SELECT pg_notify($1, $2)", [changesChannel, what ?? "changed"]);
    },
  });
  return {
    services: [binding(RiskService, impl)],
    stop: async () => {
      await monitor?.stop();
      await (await unlisten)?.();
    },
  };
}

/** Adds the shipped AML rules that are not stored yet; an operator's edits are kept. */
export async function seedStandardRules(db: Db): Promise<void> {
  await createRiskStore(db).seedRules(
    standardRules.map((r) => ({
      id: r.id,
      name: r.name,
      expression: r.expression,
      severity: ruleSeverityToProto[r.severity],
      reasonCode: r.reasonCode,
      enabled: r.enabled,
    })),
  );
}
