// Scoring one transaction: features from the request and the account's history, the active
// model, the AML rules and sanctions screening, then one decision. The rules, the model and
// the sanctions index are cached per replica and reloaded when another replica (or this
// one) changes them: a NOTIFY on "risk_changes" marks them stale, and they are also
// rechecked every reloadIntervalMs in case a notification was missed.

import { Category, PartyStatus, Severity } from "@qenex/gen/qenex/risk/v1/risk_pb.js";
import { type Db, type Kv, type Logger, parseMoney } from "@qenex/platform";
import { type Decided, decide, type Finding } from "./domain/decide.js";
import { kycFindings } from "./domain/kyc.js";
import { createFeatureSet, type FeatureName, type FeatureSet, featureTable } from "./features/feature-set.js";
import {
  type HistoryFeatures,
  type Transfer as HistoryTransfer,
  historyUnknown,
  readHistoriesOrUnknown,
  readHistoryOrUnknown,
} from "./features/history.js";
import { usdValue } from "./features/reference-rates.js";
import { type IsolationForest, isolationForestFromJson } from "./model/index.js";
import { type CompiledRule, compileRules } from "./rules/compile.js";
import { countryRisk } from "./rules/country-risk.js";
import { evaluateRules } from "./rules/evaluate.js";
import type { Severity as RuleSeverity } from "./rules/rule.js";
import { createScreeningIndex, type ScreeningIndex, screen } from "./screening/index.js";
import type { PartyStore } from "./store/party-store.js";
import type { RiskStore, StoredRule } from "./store/risk-store.js";
import type { SanctionsStore } from "./store/sanctions-store.js";

const reloadIntervalMs = 30_000;
/** A kv outage is logged at most this often, however many scores it touches. */
export const kvOutageLogIntervalMs = 10_000;
/** The reason a score carries when it was made without the account's history. */
export const velocityUnavailableCode = "velocity.unavailable";

/** A function that says yes at most once per intervalMs: for warnings an outage repeats. */
export function throttle(intervalMs: number): () => boolean {
  let lastMs = Number.NEGATIVE_INFINITY;
  return () => {
    const nowMs = Date.now();
    if (nowMs - lastMs < intervalMs) return false;
    lastMs = nowMs;
    return true;
  };
}
/** Accounts whose party is remembered; beyond it the oldest is forgotten. */
const partyCacheEntriesMax = 100_000;

export type ScoringInput = {
  accountId: string;
  counterpartyId: string;
  amount: string;
  currency: string;
  counterpartyCountry: string;
  counterpartyName: string;
  atMs: number;
  accountOpenedAtMs: number | undefined;
};

export type Scored = Decided & { features: FeatureSet; modelId: string; amountUsd: number };

export const ruleSeverityToProto: Record<RuleSeverity, Severity> = {
  low: Severity.LOW,
  medium: Severity.MEDIUM,
  high: Severity.HIGH,
  critical: Severity.CRITICAL,
};
export const protoSeverityToRule: Partial<Record<Severity, RuleSeverity>> = {
  [Severity.LOW]: "low",
  [Severity.MEDIUM]: "medium",
  [Severity.HIGH]: "high",
  [Severity.CRITICAL]: "critical",
};

export function toRule(stored: StoredRule) {
  return {
    id: stored.id,
    name: stored.name,
    expression: stored.expression,
    severity: protoSeverityToRule[stored.severity as Severity] ?? "medium",
    reasonCode: stored.reasonCode,
    enabled: stored.enabled,
    version: stored.version,
  };
}

/** The model's input row: the named features as numbers (bools 1/0). */
export function featureRow(features: FeatureSet, names: readonly string[]): number[] {
  return names.map((name) => {
    const value = features[name as FeatureName];
    if (typeof value === "bigint") return Number(value);
    if (typeof value === "boolean") return value ? 1 : 0;
    if (typeof value === "number") return value;
    throw new Error(`feature ${name} is not numeric`);
  });
}

/** The feature set of one transfer, from its history and its own facts. */
export function buildFeatures(
  history: HistoryFeatures,
  t: { amountMinor: bigint; usd: number; currency: string; atMs: number; country: string },
): FeatureSet {
  const at = new Date(t.atMs);
  const country = t.country || "ZZ";
  return createFeatureSet({
    ...history,
    amount_usd: t.usd,
    amount_minor: t.amountMinor,
    currency: t.currency,
    hour_of_day: at.getUTCHours(),
    day_of_week: at.getUTCDay(),
    country,
    country_risk: countryRisk(country),
    // A whole multiple of 1,000 USD, compared in cents so float noise cannot decide it.
    is_round_amount: t.usd >= 1000 && Math.round(t.usd * 100) % 100_000 === 0,
  });
}

/** Features a model may be trained on: the numeric and boolean ones. */
export const modelFeatureNames = (Object.keys(featureTable) as FeatureName[]).filter((name) => featureTable[name].type !== "string");

type Party = Awaited<ReturnType<PartyStore["ofAccount"]>>;
type Sanctions = { index: ScreeningIndex; sources: { list: string; entryId: string; programs: string[] }[]; entries: number };
type ScreenQuery = { name: string; type?: "individual" | "entity"; country?: string; dateOfBirth?: string };
/** A batch's result for one input: its score, or why it could not be scored. */
export type BatchScored = { ok: true; scored: Scored } | { ok: false; error: unknown };

/** The screening hits of a query against a loaded index, best first. */
function screenIn(loaded: Sanctions | undefined, query: ScreenQuery, threshold: number, limit: number) {
  if (!loaded) return { candidates: [], entries: 0 };
  const found = screen(loaded.index, query, { threshold, limit });
  return {
    entries: loaded.entries,
    candidates: found.map((c) => ({ ...c, source: loaded.sources[c.id] ?? { list: "", entryId: String(c.id), programs: [] } })),
  };
}

/** The input's amount in minor units and in USD; a RangeError when it cannot be valued. */
function amountOf(input: ScoringInput): { amountMinor: bigint; usd: number } {
  const money = parseMoney(input.amount, input.currency);
  if (!money.ok) throw new RangeError(money.reason);
  return { amountMinor: money.amountMinor, usd: usdValue(money.amountMinor, input.currency) };
}

/** The history's view of a scored input: who paid whom, how much in USD, when. */
export const historyTransfer = (input: ScoringInput, usd: number): HistoryTransfer => ({
  accountId: input.accountId,
  counterpartyId: input.counterpartyId,
  amountUsd: usd,
  atMs: input.atMs,
  accountOpenedAtMs: input.accountOpenedAtMs,
});

type Cached<T> = { value: T; version: string; stale: boolean; checkedAtMs: number };

export function createScorer(deps: {
  db: Db;
  kv: Kv;
  logger: Logger;
  store: RiskStore;
  parties: PartyStore;
  sanctions: SanctionsStore;
  screeningThreshold: number;
}) {
  const { kv, logger, store } = deps;
  const warnKvOutage = throttle(kvOutageLogIntervalMs);
  let rules: Cached<CompiledRule[]> | undefined;
  let model: Cached<{ id: string; forest: IsolationForest; features: string[] } | undefined> | undefined;
  let sanctions: Cached<Sanctions> | undefined;

  // The party behind an account, remembered per account: scoring needs it on every call.
  // Cleared with the other caches when a party changes (here or, by NOTIFY, elsewhere).
  const partyByAccount = new Map<string, { party: Party; atMs: number }>();
  const partyOf = async (accountId: string) => {
    const hit = partyByAccount.get(accountId);
    if (hit && Date.now() - hit.atMs < reloadIntervalMs) return hit.party;
    const party = await deps.parties.ofAccount(accountId);
    if (partyByAccount.size >= partyCacheEntriesMax) partyByAccount.delete(partyByAccount.keys().next().value as string);
    partyByAccount.set(accountId, { party, atMs: Date.now() });
    return party;
  };

  /** The parties of several accounts: the ones not remembered in one statement. */
  const partiesOf = async (accountIds: readonly string[]) => {
    const nowMs = Date.now();
    const parties = new Map<string, Party>();
    const missing: string[] = [];
    for (const accountId of new Set(accountIds)) {
      const hit = partyByAccount.get(accountId);
      if (hit && nowMs - hit.atMs < reloadIntervalMs) parties.set(accountId, hit.party);
      else missing.push(accountId);
    }
    if (missing.length === 0) return parties;
    const found = await deps.parties.ofAccounts(missing);
    for (const accountId of missing) {
      const party = found.get(accountId);
      if (partyByAccount.size >= partyCacheEntriesMax) partyByAccount.delete(partyByAccount.keys().next().value as string);
      partyByAccount.set(accountId, { party, atMs: Date.now() });
      parties.set(accountId, party);
    }
    return parties;
  };

  const fresh = <T>(c: Cached<T> | undefined) => c !== undefined && !c.stale && Date.now() - c.checkedAtMs < reloadIntervalMs;

  const loadRules = async () => {
    if (fresh(rules)) return (rules as Cached<CompiledRule[]>).value;
    const version = await store.rulesVersion();
    if (rules && rules.version === version) {
      rules = { ...rules, stale: false, checkedAtMs: Date.now() };
      return rules.value;
    }
    const stored = await store.listRules(false);
    const { compiled, errors } = compileRules(stored.map(toRule));
    for (const error of errors) logger.error({ rule: error.ruleId, err: error.message }, "a stored rule does not compile; it is skipped");
    rules = { value: compiled, version, stale: false, checkedAtMs: Date.now() };
    return compiled;
  };

  const loadModel = async () => {
    if (fresh(model)) return model?.value;
    const active = await store.activeModel();
    const version = active ? `${active.id}@${active.activatedAt?.toISOString()}` : "";
    if (!model || model.version !== version) {
      model = {
        value: active ? { id: active.id, forest: isolationForestFromJson(active.model), features: active.features } : undefined,
        version,
        stale: false,
        checkedAtMs: Date.now(),
      };
    } else {
      model = { ...model, stale: false, checkedAtMs: Date.now() };
    }
    return model.value;
  };

  const loadSanctions = async () => {
    if (fresh(sanctions)) return sanctions?.value;
    const version = await deps.sanctions.versions();
    if (!sanctions || sanctions.version !== version) {
      const all = await deps.sanctions.allEntries();
      // The index numbers entries itself; this keeps what each number stands for.
      const sources = all.map(({ list, entry }) => ({ list, entryId: String(entry.id), programs: entry.programs }));
      const index = createScreeningIndex(
        all.map(({ entry }, i) => ({
          id: i,
          name: entry.name,
          type: entry.type,
          aliases: entry.aliases,
          countries: entry.countries,
          datesOfBirth: entry.datesOfBirth,
        })),
      );
      sanctions = { value: { index, sources, entries: all.length }, version, stale: false, checkedAtMs: Date.now() };
      if (all.length > 0) logger.info({ entries: all.length, version }, "sanctions index loaded");
    } else {
      sanctions = { ...sanctions, stale: false, checkedAtMs: Date.now() };
    }
    return sanctions.value;
  };

  return {
    /** A party changed: forget the remembered ones. */
    forgetParties() {
      partyByAccount.clear();
    },

    /** Marks every cache stale: the next score reloads what changed. */
    invalidate() {
      partyByAccount.clear();
      if (rules) rules.stale = true;
      if (model) model.stale = true;
      if (sanctions) sanctions.stale = true;
    },

    async screen(query: ScreenQuery, threshold: number, limit: number) {
      return screenIn(await loadSanctions(), query, threshold, limit);
    },

    async score(input: ScoringInput): Promise<Scored> {
      const valued = amountOf(input);
      const [read, compiled, active, party, loaded] = await Promise.all([
        readHistoryOrUnknown(kv, historyTransfer(input, valued.usd)),
        loadRules(),
        loadModel(),
        partyOf(input.accountId),
        input.counterpartyName ? loadSanctions() : undefined,
      ]);
      if (read.unavailable !== undefined) warnUnavailable(read.unavailable);
      return judge(input, valued, read, { compiled, active, loaded }, party);
    },

    /**
     * Scores a batch in order, as score would one after another with each scored input
     * recorded in the history before the next (the caller records them in the kv once
     * stored): every input is taken to be new. One history read, one rules and model check,
     * one party lookup for the accounts not remembered. An input that cannot be scored gets
     * its error and is left out of the later inputs' history.
     */
    async scoreBatch(inputs: readonly ScoringInput[]): Promise<BatchScored[]> {
      const results: BatchScored[] = inputs.map(() => ({ ok: false, error: undefined }));
      const valid: { at: number; input: ScoringInput; valued: ReturnType<typeof amountOf> }[] = [];
      inputs.forEach((input, at) => {
        try {
          valid.push({ at, input, valued: amountOf(input) });
        } catch (error) {
          results[at] = { ok: false, error };
        }
      });
      const [histories, compiled, active, parties, loaded] = await Promise.all([
        readHistoriesOrUnknown(
          kv,
          valid.map((v) => historyTransfer(v.input, v.valued.usd)),
        ),
        loadRules(),
        loadModel(),
        partiesOf(valid.map((v) => v.input.accountId)),
        valid.some((v) => v.input.counterpartyName) ? loadSanctions() : undefined,
      ]);
      if ("unavailable" in histories) warnUnavailable(histories.unavailable);
      valid.forEach(({ at, input, valued }, i) => {
        try {
          const read =
            "unavailable" in histories
              ? { history: historyUnknown(historyTransfer(input, valued.usd)), unavailable: histories.unavailable }
              : { history: histories.featuresAt(i) };
          results[at] = { ok: true, scored: judge(input, valued, read, { compiled, active, loaded }, parties.get(input.accountId)) };
          if (!("unavailable" in histories)) histories.record(i);
        } catch (error) {
          results[at] = { ok: false, error };
        }
      });
      return results;
    },
  };

  function warnUnavailable(reason: string) {
    if (warnKvOutage()) logger.warn({ reason }, "scoring without account history: the kv is unavailable");
  }

  /** One input's decision from its history and the loaded rules, model and sanctions: no I/O. */
  function judge(
    input: ScoringInput,
    valued: ReturnType<typeof amountOf>,
    read: { history: HistoryFeatures; unavailable?: string },
    loadedNow: { compiled: CompiledRule[]; active: Awaited<ReturnType<typeof loadModel>>; loaded: Sanctions | undefined },
    party: Party,
  ): Scored {
    const { history, unavailable } = read;
    const { compiled, active } = loadedNow;
    const { amountMinor, usd } = valued;
    const features = buildFeatures(history, {
      amountMinor,
      usd,
      currency: input.currency,
      atMs: input.atMs,
      country: input.counterpartyCountry,
    });
    const evaluation = evaluateRules(compiled, features);
    for (const error of evaluation.errors) logger.warn({ rule: error.ruleId, err: error.message }, "a rule failed to evaluate");
    const ruleFindings: Finding[] = evaluation.hits.map((hit) => ({
      category: hit.ruleId.includes("velocity") ? Category.VELOCITY : Category.AML,
      code: hit.ruleId,
      message: `${hit.name} (${hit.reasonCode})`,
      severity: ruleSeverityToProto[hit.severity],
    }));
    if (party) {
      ruleFindings.push(
        ...kycFindings({ id: party.id, level: party.level, blocked: party.status === PartyStatus.BLOCKED }, usd, history.sum_usd_24h),
      );
    }
    const screened = input.counterpartyName
      ? screenIn(
          loadedNow.loaded,
          { name: input.counterpartyName, ...(input.counterpartyCountry ? { country: input.counterpartyCountry } : {}) },
          deps.screeningThreshold,
          1,
        )
      : undefined;
    const top = screened?.candidates[0];
    const decided = decide({
      model: active ? { score: active.forest.score(featureRow(features, active.features)), threshold: active.forest.threshold } : undefined,
      ruleFindings,
      sanctions: top ? { score: top.score, entryId: top.source.entryId, matchedName: top.matchedAlias, list: top.source.list } : undefined,
    });
    if (unavailable !== undefined) {
      // Stated, not weighed: the decision is what the rest of the evidence says.
      decided.reasons.push({
        category: Category.VELOCITY,
        code: velocityUnavailableCode,
        message: `velocity features unavailable: ${kv.kind === "redis" ? "redis" : "kv"} down (${unavailable})`,
        severity: Severity.LOW,
      });
    }
    return { ...decided, features, modelId: active?.id ?? "", amountUsd: usd };
  }
}

export type Scorer = ReturnType<typeof createScorer>;
