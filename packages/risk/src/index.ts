// The risk service for platform's startService(), and the library surface other packages use.
import { RiskService } from "@qenex/gen/qenex/risk/v1/risk_pb.js";
import { type BoundServices, binding, type Db, type ServiceDeps } from "@qenex/platform";
import { createRiskMetrics } from "./metrics.js";
import { standardRules } from "./rules/standard-rules.js";
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

export function bindRisk(deps: ServiceDeps): BoundServices {
  const { db, kv, logger, config } = deps;
  const store = createRiskStore(db);
  const sanctions = createSanctionsStore(db);
  const parties = createPartyStore(db);
  const scorer = createScorer({ db, kv, logger, store, parties, sanctions, screeningThreshold: config.screeningThreshold });
  // Another replica changed rules, the active model or a sanctions list: reload on next use.
  const unlisten = db
    .listen(changesChannel, () => scorer.invalidate())
    .catch((error: unknown) => {
      logger.warn({ err: error }, "cannot LISTEN for risk changes; caches reload every 30 s instead");
      return undefined;
    });
  const impl = createRiskHandlers({
    scorer,
    store,
    parties,
    kv,
    logger,
    metrics: createRiskMetrics(deps.metrics),
    screeningThreshold: config.screeningThreshold,
    changed: async () => {
      scorer.invalidate();
      await db.query("SELECT pg_notify($1, 'changed')", [changesChannel]);
    },
  });
  return {
    services: [binding(RiskService, impl)],
    stop: async () => {
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
