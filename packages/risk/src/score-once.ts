// Scoring a transaction once: the stored result if this id was scored before, else score,
// store the result (and an alert for REVIEW or BLOCK) atomically, and count the
// transfer in the account's history. ScoreTransaction scores one at a time; the ledger
// monitor scores what the ledger has delivered as one batch, with the same results.
import { randomUUID } from "node:crypto";
import { create, fromJsonString, toJsonString } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { ValidationError } from "@bufbuild/protovalidate";
import {
  Decision,
  ReasonSchema,
  type ScoreTransactionRequest,
  ScoreTransactionRequestSchema,
  type ScoreTransactionResponse,
  ScoreTransactionResponseSchema,
} from "@qenex/gen/qenex/risk/v1/risk_pb.js";
import { DomainError, fieldViolationAt, type Kv, type Logger, requestedMoney } from "@qenex/platform";
import { recordTransfersIfReachable } from "./features/history.js";
import type { RiskMetrics } from "./metrics.js";
import { historyTransfer, kvOutageLogIntervalMs, type Scored, type Scorer, type ScoringInput, throttle } from "./scorer.js";
import { type RiskStore, type ScoreToSave, saveScoresMax } from "./store/risk-store.js";

export type ScoreOnce = (req: ScoreTransactionRequest) => Promise<ScoreTransactionResponse>;

/** What became of one request of a batch. */
export type BatchOutcome =
  | { kind: "scored"; response: ScoreTransactionResponse }
  /** Scored before (a restart, another replica): its first result stands, counted then. */
  | { kind: "existed" }
  /** Not scored: a refusal (DomainError, ValidationError) or a failure to look at. */
  | { kind: "refused"; error: unknown };
export type ScoreBatch = (reqs: readonly ScoreTransactionRequest[]) => Promise<BatchOutcome[]>;
/** Most requests one batch takes: its results are stored in one statement. */
export const scoreBatchMax = saveScoresMax;

type Deps = { scorer: Scorer; store: RiskStore; kv: Kv; logger: Logger; metrics: RiskMetrics };

/** The scorer's input for a request; a ValidationError when its amount is missing or given twice. */
function scoringInputOf(req: ScoreTransactionRequest): ScoringInput {
  const money = requestedMoney(req, req.amountMoney);
  if (!money.ok) {
    const ruleId = money.field === "amount_money" ? "qenex.money.deprecated" : "required";
    throw fieldViolationAt(ScoreTransactionRequestSchema, [money.field], money.reason, ruleId);
  }
  return {
    accountId: req.accountId,
    counterpartyId: req.counterpartyId,
    amount: money.amount,
    currency: money.currency,
    counterpartyCountry: req.counterpartyCountry,
    counterpartyName: req.counterpartyName,
    atMs: req.occurredAt ? timestampDate(req.occurredAt).getTime() : Date.now(),
    accountOpenedAtMs: req.accountOpenedAt ? timestampDate(req.accountOpenedAt).getTime() : undefined,
  };
}

/** An amount the scorer cannot value is the caller's input at fault. */
function asRefusal(error: unknown): unknown {
  return error instanceof RangeError
    ? fieldViolationAt(ScoreTransactionRequestSchema, ["amount"], error.message, "qenex.money.amount")
    : error;
}

/** The response and the row (with its alert) that store a scored request. */
function resultOf(req: ScoreTransactionRequest, scored: Scored): { response: ScoreTransactionResponse; save: ScoreToSave } {
  const reasons = scored.reasons.map((r) => create(ReasonSchema, r));
  const opensAlert = scored.decision === Decision.REVIEW || scored.decision === Decision.BLOCK;
  const alertId = opensAlert ? randomUUID() : undefined;
  const response = create(ScoreTransactionResponseSchema, {
    transactionId: req.transactionId,
    score: scored.score,
    categoryScores: scored.categoryScores,
    decision: scored.decision,
    reasons,
    alertId: alertId ?? "",
    modelId: scored.modelId,
    features: Object.fromEntries(Object.entries(scored.features).map(([k, v]) => [k, String(v)])),
  });
  const alert = alertId
    ? {
        id: alertId,
        decision: scored.decision,
        score: scored.score,
        reasons: JSON.stringify(reasons.map((r) => toJsonString(ReasonSchema, r))),
      }
    : undefined;
  return {
    response,
    save: {
      transactionId: req.transactionId,
      accountId: req.accountId,
      result: toJsonString(ScoreTransactionResponseSchema, response),
      alert,
    },
  };
}

/** What follows a stored score: its transfers in the history, the metrics, the alert's log line. */
function createAfterSaved(deps: Deps) {
  const { kv, logger, metrics } = deps;
  const warnKvOutage = throttle(kvOutageLogIntervalMs);
  return async (saved: readonly { input: ScoringInput; scored: Scored; response: ScoreTransactionResponse }[], end: () => void) => {
    // The scores are stored and stand: a kv outage only leaves these transfers out of the history.
    const unrecorded = await recordTransfersIfReachable(
      kv,
      saved.map((s) => historyTransfer(s.input, s.scored.amountUsd)),
    );
    if (unrecorded !== undefined && warnKvOutage()) {
      logger.warn({ reason: unrecorded }, "scored transfers are left out of account history: the kv is unavailable");
    }
    for (const { scored, response } of saved) {
      end();
      metrics.detected(
        Decision[scored.decision].toLowerCase(),
        scored.reasons.map((r) => r.code),
      );
      if (response.alertId !== "")
        logger.info(
          { transactionId: response.transactionId, alertId: response.alertId, decision: Decision[scored.decision] },
          "alert opened",
        );
    }
  };
}

export function createScoreOnce(deps: Deps): ScoreOnce {
  const { scorer, store, metrics } = deps;
  const afterSaved = createAfterSaved(deps);
  const storedResult = async (transactionId: string) => {
    const stored = await store.getScore(transactionId);
    if (stored === undefined) throw new Error(`score of ${transactionId} vanished`);
    return { ...fromJsonString(ScoreTransactionResponseSchema, stored), existed: true };
  };
  // No lookup before scoring: a transaction id is new far more often than retried, and the
  // insert below is the check (a retry loses it and gets the first result).
  return async (req) => {
    const input = scoringInputOf(req);
    const end = metrics.startScoring();
    let scored: Scored;
    try {
      scored = await scorer.score(input);
    } catch (error) {
      throw asRefusal(error);
    }
    const { response, save } = resultOf(req, scored);
    // Scored before (a retry, a restart, another replica): the first result stands, and it was counted then.
    if (!(await store.saveScore(save))) return storedResult(req.transactionId);
    await afterSaved([{ input, scored, response }], end);
    return response;
  };
}

async function outcomeOfOne(scoreOnce: ScoreOnce, req: ScoreTransactionRequest): Promise<BatchOutcome> {
  try {
    const response = await scoreOnce(req);
    return response.existed ? { kind: "existed" } : { kind: "scored", response };
  } catch (error) {
    if (error instanceof DomainError || error instanceof ValidationError) return { kind: "refused", error };
    throw error;
  }
}

/**
 * Scores requests as createScoreOnce would one after another, in one pass: one lookup of the
 * ids scored before (they are not scored again, and their first result stands), one scorer
 * batch (each request's history counts the batch's earlier ones), one statement storing the
 * results and alerts, one batched history write. A transaction id given twice counts once.
 */
export function createScoreBatch(deps: Deps): ScoreBatch {
  const { scorer, store, metrics } = deps;
  const afterSaved = createAfterSaved(deps);
  const scoreOnce = createScoreOnce(deps);
  return async (reqs) => {
    if (reqs.length > scoreBatchMax) throw new RangeError(`at most ${scoreBatchMax} requests per batch, not ${reqs.length}`);
    if (reqs.length === 0) return [];
    // One alone (the first after a quiet spell) costs less as ScoreTransaction scores it: its
    // insert is the check, in one short transaction (the lookup and the batch statement cost
    // twice the CPU, on PGlite most).
    if (reqs.length === 1 && reqs[0]) return [await outcomeOfOne(scoreOnce, reqs[0])];
    const end = metrics.startScoring();
    const outcomes: BatchOutcome[] = reqs.map(() => ({ kind: "existed" }));
    const existing = await store.scoredIds(reqs.map((r) => r.transactionId));
    const firstAt = new Map<string, number>();
    const fresh: { at: number; req: ScoreTransactionRequest; input: ScoringInput }[] = [];
    reqs.forEach((req, at) => {
      if (existing.has(req.transactionId) || firstAt.has(req.transactionId)) return;
      firstAt.set(req.transactionId, at);
      try {
        fresh.push({ at, req, input: scoringInputOf(req) });
      } catch (error) {
        outcomes[at] = { kind: "refused", error };
      }
    });
    const results = await scorer.scoreBatch(fresh.map((f) => f.input));
    const toSave: { at: number; input: ScoringInput; scored: Scored; response: ScoreTransactionResponse; save: ScoreToSave }[] = [];
    results.forEach((result, i) => {
      const f = fresh[i];
      if (f === undefined) return;
      if (result.ok) toSave.push({ at: f.at, input: f.input, scored: result.scored, ...resultOf(f.req, result.scored) });
      else outcomes[f.at] = { kind: "refused", error: asRefusal(result.error) };
    });
    const saved = await store.saveScores(toSave.map((s) => s.save));
    // One that another replica stored first keeps "existed": its first result stands.
    const stored = toSave.filter((s) => saved.has(s.save.transactionId));
    for (const s of stored) outcomes[s.at] = { kind: "scored", response: s.response };
    await afterSaved(stored, end);
    // A repeated id shares its first occurrence's fate; an id stored before stays "existed".
    reqs.forEach((req, at) => {
      const first = firstAt.get(req.transactionId);
      if (first !== undefined && first !== at)
        outcomes[at] = outcomes[first]?.kind === "refused" ? (outcomes[first] as BatchOutcome) : { kind: "existed" };
    });
    return outcomes;
  };
}
