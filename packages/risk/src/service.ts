// RiskService handlers: translate between wire messages and the scorer, the model library,
// the rules engine and the stores. Roles: see `access` below (checked here, not only at the edge).
import { create, fromJsonString, type MessageInitShape, toJsonString } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, type ServiceImpl } from "@connectrpc/connect";
import {
  type Alert,
  AlertSchema,
  AlertStatus,
  type Decision,
  EvaluateModelRequestSchema,
  KycLevel,
  ListAlertsRequestSchema,
  ListModelsRequestSchema,
  type Model,
  ModelSchema,
  PartySchema,
  PartyStatus,
  PartyType,
  PutRuleRequestSchema,
  type Reason,
  ReasonSchema,
  type RiskService,
  type Rule,
  RuleSchema,
  type ScreeningCandidate,
  ScreeningCandidateSchema,
  type Severity,
  type TrainModelRequest,
  TrainModelRequestSchema,
} from "@qenex/gen/qenex/risk/v1/risk_pb.js";
import {
  createMemoryKv,
  DomainError,
  decodePageToken,
  encodePageToken,
  fieldViolationAt,
  type Logger,
  parseMoney,
  type Role,
  requireRole,
} from "@qenex/platform";
import { kycLimits } from "./domain/kyc.js";
import { withErrorCodes } from "./error-codes.js";
import { readHistory, recordTransfer } from "./features/history.js";
import { hasUsdRate, usdValue } from "./features/reference-rates.js";
import { type LedgerSource, ledgerClient, readCommitted, scoreRequestOf } from "./ledger-feed.js";
import { confusionAt, isolationForestFromJson, precisionRecallOf, rocAuc, trainIsolationForest } from "./model/index.js";
import { compileRule } from "./rules/compile.js";
import { RuleCompileError } from "./rules/rule.js";
import type { ScoreOnce } from "./score-once.js";
import { buildFeatures, featureRow, modelFeatureNames, type Scorer, toRule } from "./scorer.js";
import { AccountTaken, type PartyStore, type StoredParty } from "./store/party-store.js";
import { alertOpen, type RiskStore, type StoredAlert, type StoredModel, type StoredRule } from "./store/risk-store.js";

const analysts: readonly Role[] = ["admin", "operator"];
const readers: readonly Role[] = ["admin", "operator", "auditor"];
const scorers: readonly Role[] = ["admin", "operator", "service"];
const screeners: readonly Role[] = ["admin", "operator", "auditor", "service"];

/** Who may call what; the README's table is this one. */
export const riskAccess: Readonly<Record<keyof typeof RiskService.method, readonly Role[]>> = {
  scoreTransaction: scorers,
  screenParty: screeners,
  trainModel: analysts,
  evaluateModel: readers,
  activateModel: analysts,
  listModels: readers,
  putRule: analysts,
  listRules: readers,
  listAlerts: readers,
  getAlert: readers,
  resolveAlert: analysts,
  createParty: analysts,
  getParty: readers,
  setPartyLevel: analysts,
};

const pageSizeDefault = 100;
const pageSizeMax = 1000;

function pageOf(
  schema: typeof ListModelsRequestSchema | typeof ListAlertsRequestSchema,
  page: { pageSize: number; pageToken: string } | undefined,
): { afterId: string; limit: number } {
  const afterId = decodePageToken(page?.pageToken ?? "", (id) => /^[A-Za-z0-9._-]{1,64}$/.test(id));
  if (afterId === undefined)
    throw fieldViolationAt(schema, ["page", "page_token"], "is not a token this server issued", "qenex.page_token");
  return { afterId, limit: Math.min(page?.pageSize || pageSizeDefault, pageSizeMax) };
}

function nextPage<T extends { id: string }>(rows: readonly T[], limit: number) {
  const last = rows.at(-1);
  return { nextPageToken: rows.length === limit && last ? encodePageToken(last.id) : "" };
}

export type RiskHandlerDeps = {
  scorer: Scorer;
  scoreOnce: ScoreOnce;
  ledger: LedgerSource | undefined;
  store: RiskStore;
  parties: PartyStore;
  logger: Logger;
  screeningThreshold: number;
  /** Rules, the active model or a party changed: reload here at once, and tell the other replicas. */
  changed: (what?: "parties") => Promise<void>;
};

export function createRiskHandlers(deps: RiskHandlerDeps): Partial<ServiceImpl<typeof RiskService>> {
  const { scorer, store, logger } = deps;
  return {
    async scoreTransaction(req, ctx) {
      requireRole(ctx, riskAccess.scoreTransaction);
      return withErrorCodes(() => deps.scoreOnce(req));
    },

    async screenParty(req, ctx) {
      requireRole(ctx, riskAccess.screenParty);
      const threshold = req.threshold || deps.screeningThreshold;
      const type = req.type === PartyType.INDIVIDUAL ? "individual" : req.type === PartyType.ENTITY ? "entity" : undefined;
      const { candidates, entries } = await withErrorCodes(() =>
        scorer.screen(
          {
            name: req.name,
            ...(type ? { type } : {}),
            ...(req.country ? { country: req.country } : {}),
            ...(req.dateOfBirth ? { dateOfBirth: req.dateOfBirth } : {}),
          },
          threshold,
          req.limit || 10,
        ),
      );
      return { threshold, listEntries: BigInt(entries), candidates: candidates.map(candidateMessage) };
    },

    async trainModel(req, ctx) {
      requireRole(ctx, riskAccess.trainModel);
      const unknown = req.features.filter((f) => !(modelFeatureNames as readonly string[]).includes(f));
      if (unknown.length > 0) {
        const message = `names features that are not numeric: ${unknown.join(", ")}; use ${modelFeatureNames.join(", ")}`;
        throw fieldViolationAt(TrainModelRequestSchema, ["features"], message, "qenex.model.features");
      }
      if (new Set(req.features).size !== req.features.length)
        throw fieldViolationAt(TrainModelRequestSchema, ["features"], "names a feature twice", "qenex.model.features");
      const rows = await trainingRows(req, deps.ledger);
      const options = {
        trees: req.trees || 100,
        sampleSize: req.sampleSize || 256,
        contamination: req.contamination || 0.05,
        seed: req.seed || 1,
        standardize: true,
      };
      const forest = await withErrorCodes(async () => trainIsolationForest(rows, options), "rows");
      const saved = await store.insertModel({
        name: req.name,
        features: [...req.features],
        trees: options.trees,
        sampleSize: forest.sampleSize,
        contamination: options.contamination,
        threshold: forest.threshold,
        seed: options.seed,
        trainingRows: rows.length,
        model: JSON.stringify(forest.toJSON()),
      });
      return { model: modelMessage(saved) };
    },

    async evaluateModel(req, ctx) {
      requireRole(ctx, riskAccess.evaluateModel);
      const stored = await store.getModel(req.modelId);
      if (!stored) throw new DomainError(Code.NotFound, `model ${req.modelId} not found`, "model_id");
      const forest = await withErrorCodes(async () => isolationForestFromJson(stored.model), "model_id");
      const bad = req.rows.findIndex((r) => r.values.length !== stored.features.length);
      if (bad >= 0)
        throw fieldViolationAt(
          EvaluateModelRequestSchema,
          ["rows"],
          `row ${bad} must have ${stored.features.length} values (${stored.features.join(", ")})`,
          "qenex.model.rows",
        );
      const labels = req.rows.map((r) => (r.label === 1 ? 1 : 0) as 0 | 1);
      if (!labels.includes(1) || !labels.includes(0))
        throw fieldViolationAt(EvaluateModelRequestSchema, ["rows"], "need both labels, 0 and 1, for ROC-AUC", "qenex.model.rows");
      const { confusion, auc } = await withErrorCodes(async () => {
        const scores = forest.scoreRows(req.rows.map((r) => r.values));
        return { confusion: confusionAt(scores, labels, forest.threshold), auc: rocAuc(scores, labels) };
      }, "rows");
      const { precision, recall } = precisionRecallOf(confusion);
      return {
        rocAuc: auc,
        precision,
        recall,
        threshold: forest.threshold,
        truePositives: BigInt(confusion.truePositives),
        falsePositives: BigInt(confusion.falsePositives),
        trueNegatives: BigInt(confusion.trueNegatives),
        falseNegatives: BigInt(confusion.falseNegatives),
      };
    },

    async activateModel(req, ctx) {
      requireRole(ctx, riskAccess.activateModel);
      const model = await store.activateModel(req.modelId);
      if (!model) throw new DomainError(Code.NotFound, `model ${req.modelId} not found`, "model_id");
      await deps.changed();
      return { model: modelMessage(model) };
    },

    async listModels(req, ctx) {
      requireRole(ctx, riskAccess.listModels);
      const { afterId, limit } = pageOf(ListModelsRequestSchema, req.page);
      const models = await store.listModels(afterId, limit);
      return { models: models.map(modelMessage), page: nextPage(models, limit) };
    },

    async putRule(req, ctx) {
      requireRole(ctx, riskAccess.putRule);
      const rule = req.rule as Rule;
      const candidate = {
        id: rule.ruleId,
        name: rule.name,
        expression: rule.expression,
        severity: rule.severity,
        reasonCode: rule.reasonCode,
        enabled: rule.enabled,
      };
      // Compiled as the scorer will load it once stored (its first version).
      const compiled = compileRule(toRule({ ...candidate, version: 1, updatedAt: new Date() }));
      if (compiled instanceof RuleCompileError) {
        const where = compiled.position ? ` at line ${compiled.position.line}, column ${compiled.position.column}` : "";
        throw fieldViolationAt(PutRuleRequestSchema, ["rule", fieldName(compiled.field)], `${compiled.message}${where}`, "qenex.rule");
      }
      const saved = await store.putRule(candidate);
      await deps.changed();
      return { rule: ruleMessage(saved) };
    },

    async listRules(req, ctx) {
      requireRole(ctx, riskAccess.listRules);
      return { rules: (await store.listRules(req.includeDisabled)).map(ruleMessage) };
    },

    async listAlerts(req, ctx) {
      requireRole(ctx, riskAccess.listAlerts);
      const { afterId, limit } = pageOf(ListAlertsRequestSchema, req.page);
      const alerts = await store.listAlerts({ status: req.status, accountId: req.accountId, afterId, limit });
      return { alerts: alerts.map(alertMessage), page: nextPage(alerts, limit) };
    },

    async getAlert(req, ctx) {
      requireRole(ctx, riskAccess.getAlert);
      const alert = await store.getAlert(req.alertId);
      if (!alert) throw new DomainError(Code.NotFound, `alert ${req.alertId} not found`, "alert_id");
      return { alert: alertMessage(alert) };
    },

    async createParty(req, ctx) {
      requireRole(ctx, riskAccess.createParty);
      const type = req.type === PartyType.INDIVIDUAL ? "individual" : "entity";
      const { candidates } = await withErrorCodes(() =>
        scorer.screen(
          {
            name: req.name,
            type,
            ...(req.country ? { country: req.country } : {}),
            ...(req.dateOfBirth ? { dateOfBirth: req.dateOfBirth } : {}),
          },
          deps.screeningThreshold,
          5,
        ),
      );
      const screening = candidates.map(candidateMessage);
      const party = {
        id: req.partyId,
        name: req.name,
        type: req.type,
        country: req.country,
        dateOfBirth: req.dateOfBirth,
        level: req.level || KycLevel.NONE,
        status: screening.length > 0 ? PartyStatus.BLOCKED : PartyStatus.ACTIVE,
        screening: JSON.stringify(screening.map((c) => toJsonString(ScreeningCandidateSchema, c))),
        accountIds: [...new Set(req.accountIds)],
      };
      try {
        const created = await deps.parties.create(party);
        if (created.kind === "exists") throw new DomainError(Code.AlreadyExists, `party ${req.partyId} already exists`, "party_id");
      } catch (error) {
        if (error instanceof AccountTaken) throw new DomainError(Code.AlreadyExists, error.message, "account_ids");
        throw error;
      }
      await deps.changed("parties");
      if (party.status === PartyStatus.BLOCKED)
        logger.warn({ party: req.partyId, matches: screening.length }, "party matched a sanctions list at onboarding");
      return { party: partyMessage((await deps.parties.get(req.partyId)) as StoredParty) };
    },

    async getParty(req, ctx) {
      requireRole(ctx, riskAccess.getParty);
      const party = await deps.parties.get(req.partyId);
      if (!party) throw new DomainError(Code.NotFound, `party ${req.partyId} not found`, "party_id");
      return { party: partyMessage(party) };
    },

    async setPartyLevel(req, ctx) {
      requireRole(ctx, riskAccess.setPartyLevel);
      if (!(await deps.parties.setLevel(req.partyId, req.level)))
        throw new DomainError(Code.NotFound, `party ${req.partyId} not found`, "party_id");
      await deps.changed("parties");
      return { party: partyMessage((await deps.parties.get(req.partyId)) as StoredParty) };
    },

    async resolveAlert(req, ctx) {
      const principal = requireRole(ctx, riskAccess.resolveAlert);
      const result = await store.resolveAlert(req.alertId, { disposition: req.disposition, note: req.note, resolvedBy: principal.subject });
      if (!result) throw new DomainError(Code.NotFound, `alert ${req.alertId} not found`, "alert_id");
      if (!result.changed) throw new DomainError(Code.FailedPrecondition, `alert ${req.alertId} is already resolved`, "alert_id");
      return { alert: alertMessage(result.alert) };
    },
  };
}

/** Most time TrainModel spends reading the ledger's history. */
const ledgerReadDeadlineMs = 60_000;
/** The ledger's stream counts as caught up after this long without a transfer. */
const ledgerIdleMs = 1000;
const ledgerTransfersMax = 100_000;

/**
 * The training rows: the request's dataset, or the ledger's committed transfers with their
 * features replayed in commit order on a fresh in-process history — the same feature code
 * that scores live transactions, so the model learns what it will later see.
 */
async function trainingRows(req: TrainModelRequest, ledger: LedgerSource | undefined): Promise<number[][]> {
  if (req.rows.length > 0) {
    if (req.fromLedger)
      throw fieldViolationAt(TrainModelRequestSchema, ["from_ledger"], "give rows or from_ledger, not both", "qenex.model.rows");
    const bad = req.rows.findIndex((r) => r.values.length !== req.features.length);
    if (bad >= 0) {
      const message = `row ${bad} has ${req.rows[bad]?.values.length} values for ${req.features.length} features`;
      throw fieldViolationAt(TrainModelRequestSchema, ["rows"], message, "qenex.model.rows");
    }
    return req.rows.map((r) => r.values);
  }
  if (!req.fromLedger)
    throw fieldViolationAt(TrainModelRequestSchema, ["rows"], "give the training rows, or from_ledger", "qenex.model.rows");
  if (!ledger) throw new DomainError(Code.FailedPrecondition, "this risk service knows no ledger (QENEX_LEDGER_URL)", "from_ledger");
  const transfers = await readCommitted(ledgerClient(ledger), {
    afterSequence: req.fromLedger.afterSequence,
    maxTransfers: req.fromLedger.maxTransfers || ledgerTransfersMax,
    idleMs: ledgerIdleMs,
    deadlineMs: ledgerReadDeadlineMs,
  });
  const replay = createMemoryKv();
  const rows: number[][] = [];
  for (const transfer of transfers) {
    const request = scoreRequestOf(transfer);
    if (!request) continue;
    const money = parseMoney(request.amount, request.currency);
    // Passed over as the monitor passes them over: live scoring refuses these too.
    if (!money.ok || !hasUsdRate(request.currency)) continue;
    const usd = usdValue(money.amountMinor, request.currency);
    const atMs = transfer.createdAt ? timestampDate(transfer.createdAt).getTime() : Date.now();
    const t = { accountId: request.accountId, counterpartyId: request.counterpartyId, amountUsd: usd, atMs, accountOpenedAtMs: undefined };
    const history = await readHistory(replay, t);
    await recordTransfer(replay, t);
    const features = buildFeatures(history, { amountMinor: money.amountMinor, usd, currency: request.currency, atMs, country: "" });
    rows.push(featureRow(features, req.features));
  }
  if (rows.length < 2) {
    throw new DomainError(
      Code.FailedPrecondition,
      `the ledger has ${rows.length} scorable transfers after sequence ${req.fromLedger.afterSequence}; at least 2 are needed`,
      "from_ledger",
    );
  }
  return rows;
}

/** A screening hit as the wire's ScreeningCandidate, for ScreenParty and a party's onboarding record alike. */
function candidateMessage(c: Awaited<ReturnType<Scorer["screen"]>>["candidates"][number]): ScreeningCandidate {
  return create(ScreeningCandidateSchema, {
    entryId: c.source.entryId,
    name: c.name,
    matchedName: c.matchedAlias,
    score: c.score,
    list: c.source.list,
    programs: c.source.programs,
    reasons: c.reasons.map((r) => JSON.stringify(r)),
  });
}

function partyMessage(p: StoredParty) {
  const limits = kycLimits[p.level as KycLevel];
  return create(PartySchema, {
    partyId: p.id,
    name: p.name,
    type: p.type as PartyType,
    country: p.country,
    dateOfBirth: p.dateOfBirth,
    level: p.level as KycLevel,
    status: p.status as PartyStatus,
    accountIds: p.accountIds,
    screening: (JSON.parse(p.screening) as string[]).map((c) => fromJsonString(ScreeningCandidateSchema, c)),
    transactionLimitUsd: limits.transactionUsd === undefined ? "" : String(limits.transactionUsd),
    dailyLimitUsd: limits.dailyUsd === undefined ? "" : String(limits.dailyUsd),
    createdAt: timestampFromDate(p.createdAt),
    updatedAt: timestampFromDate(p.updatedAt),
  });
}

function fieldName(field: string): string {
  return field === "id" ? "rule_id" : field === "reasonCode" ? "reason_code" : field;
}

function modelMessage(m: StoredModel): Model {
  return create(ModelSchema, {
    modelId: m.id,
    name: m.name,
    features: m.features,
    trees: m.trees,
    sampleSize: m.sampleSize,
    contamination: m.contamination,
    threshold: m.threshold,
    seed: m.seed,
    trainingRows: BigInt(m.trainingRows),
    active: m.active,
    createdAt: timestampFromDate(m.createdAt),
    ...(m.activatedAt ? { activatedAt: timestampFromDate(m.activatedAt) } : {}),
  });
}

function ruleMessage(r: StoredRule): Rule {
  return create(RuleSchema, {
    ruleId: r.id,
    name: r.name,
    expression: r.expression,
    severity: r.severity as Severity,
    reasonCode: r.reasonCode,
    enabled: r.enabled,
    version: BigInt(r.version),
    updatedAt: timestampFromDate(r.updatedAt),
  });
}

function alertMessage(a: StoredAlert): Alert {
  const init: MessageInitShape<typeof AlertSchema> = {
    alertId: a.id,
    transactionId: a.transactionId,
    accountId: a.accountId,
    decision: a.decision as Decision,
    score: a.score,
    reasons: (JSON.parse(a.reasons) as string[]).map((r): Reason => fromJsonString(ReasonSchema, r)),
    status: a.status === alertOpen ? AlertStatus.OPEN : AlertStatus.RESOLVED,
    disposition: a.disposition,
    note: a.note,
    resolvedBy: a.resolvedBy,
    createdAt: timestampFromDate(a.createdAt),
    ...(a.resolvedAt ? { resolvedAt: timestampFromDate(a.resolvedAt) } : {}),
  };
  return create(AlertSchema, init);
}
