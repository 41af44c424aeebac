// Scoring a transaction once: the stored result if this id was scored before, else score,
// store the result (and an alert for REVIEW or BLOCK) in one transaction, and count the
// transfer in the account's history. Both ScoreTransaction and the ledger monitor use it.
import { create, fromJsonString, toJsonString } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import {
  Decision,
  ReasonSchema,
  type ScoreTransactionRequest,
  ScoreTransactionRequestSchema,
  type ScoreTransactionResponse,
  ScoreTransactionResponseSchema,
} from "@qenex/gen/qenex/risk/v1/risk_pb.js";
import { fieldViolationAt, type Kv, type Logger, requestedMoney } from "@qenex/platform";
import { recordTransferIfReachable } from "./features/history.js";
import type { RiskMetrics } from "./metrics.js";
import { kvOutageLogIntervalMs, type Scorer, throttle } from "./scorer.js";
import type { RiskStore } from "./store/risk-store.js";

export type ScoreOnce = (req: ScoreTransactionRequest) => Promise<ScoreTransactionResponse>;

export function createScoreOnce(deps: { scorer: Scorer; store: RiskStore; kv: Kv; logger: Logger; metrics: RiskMetrics }): ScoreOnce {
  const { scorer, store, kv, logger, metrics } = deps;
  const warnKvOutage = throttle(kvOutageLogIntervalMs);
  const storedResult = async (transactionId: string) => {
    const stored = await store.getScore(transactionId);
    if (stored === undefined) throw new Error(`score of ${transactionId} vanished`);
    return { ...fromJsonString(ScoreTransactionResponseSchema, stored), existed: true };
  };
  // No lookup before scoring: a transaction id is new far more often than retried, and the
  // insert below is the check (a retry loses it and gets the first result).
  return async (req) => {
    const money = requestedMoney(req, req.amountMoney);
    if (!money.ok) {
      const ruleId = money.field === "amount_money" ? "qenex.money.deprecated" : "required";
      throw fieldViolationAt(ScoreTransactionRequestSchema, [money.field], money.reason, ruleId);
    }
    const end = metrics.startScoring();
    const atMs = req.occurredAt ? timestampDate(req.occurredAt).getTime() : Date.now();
    const input = {
      accountId: req.accountId,
      counterpartyId: req.counterpartyId,
      amount: money.amount,
      currency: money.currency,
      counterpartyCountry: req.counterpartyCountry,
      counterpartyName: req.counterpartyName,
      atMs,
      accountOpenedAtMs: req.accountOpenedAt ? timestampDate(req.accountOpenedAt).getTime() : undefined,
    };
    let scored: Awaited<ReturnType<Scorer["score"]>>;
    try {
      scored = await scorer.score(input);
    } catch (error) {
      if (error instanceof RangeError)
        throw fieldViolationAt(ScoreTransactionRequestSchema, ["amount"], error.message, "qenex.money.amount");
      throw error;
    }
    const reasons = scored.reasons.map((r) => create(ReasonSchema, r));
    let response: ScoreTransactionResponse | undefined;
    const opensAlert = scored.decision === Decision.REVIEW || scored.decision === Decision.BLOCK;
    const saved = await store.saveScore(
      {
        transactionId: req.transactionId,
        accountId: req.accountId,
        result: (alertId) => {
          response = create(ScoreTransactionResponseSchema, {
            transactionId: req.transactionId,
            score: scored.score,
            categoryScores: scored.categoryScores,
            decision: scored.decision,
            reasons,
            alertId: alertId ?? "",
            modelId: scored.modelId,
            features: Object.fromEntries(Object.entries(scored.features).map(([k, v]) => [k, String(v)])),
          });
          return toJsonString(ScoreTransactionResponseSchema, response);
        },
      },
      opensAlert
        ? { decision: scored.decision, score: scored.score, reasons: JSON.stringify(reasons.map((r) => toJsonString(ReasonSchema, r))) }
        : undefined,
    );
    // Scored before (a retry, a restart, another replica): the first result stands, and it was counted then.
    if (saved === undefined || response === undefined) return storedResult(req.transactionId);
    // The score is stored and stands: a kv outage only leaves this transfer out of the history.
    const unrecorded = await recordTransferIfReachable(kv, {
      accountId: input.accountId,
      counterpartyId: input.counterpartyId,
      amountUsd: scored.amountUsd,
      atMs,
      accountOpenedAtMs: input.accountOpenedAtMs,
    });
    if (unrecorded !== undefined && warnKvOutage()) {
      logger.warn({ reason: unrecorded }, "scored transfers are left out of account history: the kv is unavailable");
    }
    end();
    metrics.detected(
      Decision[scored.decision].toLowerCase(),
      scored.reasons.map((r) => r.code),
    );
    if (opensAlert)
      logger.info({ transactionId: req.transactionId, alertId: response.alertId, decision: Decision[scored.decision] }, "alert opened");
    return response;
  };
}
