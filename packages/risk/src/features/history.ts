// An account's recent history, kept in the mesh's kv (Redis when REDIS_URL is set, so every
// risk replica sees the same counters; in-process otherwise): velocity counters in time
// buckets, running amount statistics for the z-score, the last transfer, counterparties
// seen, and money received. One mget reads everything a score needs; one atomic
// incrByMany records a scored transfer.
import { type Kv, unavailableReason } from "@qenex/platform";

const minuteMs = 60_000;
const hourMs = 60 * minuteMs;
/** 1-hour window: twelve 5-minute buckets (the window is 55 to 60 minutes). */
const shortBucketMs = 5 * minuteMs;
const shortBuckets = 12;
/** 24-hour window: twenty-four 1-hour buckets (23 to 24 hours). */
const longBucketMs = hourMs;
const longBuckets = 24;
/** Kept a little longer than the window each bucket serves. */
const shortTtlMs = 2 * hourMs;
const longTtlMs = 26 * hourMs;
const historyTtlMs = 400 * 24 * hourMs;
/** Amounts in [8,000, 10,000) USD: just below the currency transaction report threshold. */
const belowCtrFromUsd = 8000;
const ctrUsd = 10_000;

export type HistoryFeatures = {
  count_1h: number;
  count_24h: number;
  sum_usd_1h: number;
  sum_usd_24h: number;
  count_just_below_ctr_24h: number;
  sum_usd_just_below_ctr_24h: number;
  inbound_usd_24h: number;
  amount_zscore: number;
  seconds_since_last_transfer: number;
  counterparty_is_new: boolean;
  account_age_days: number;
};

export type Transfer = {
  accountId: string;
  counterpartyId: string;
  amountUsd: number;
  atMs: number;
  accountOpenedAtMs: number | undefined;
};

const key = (accountId: string, ...parts: (string | number)[]) => `qenex:risk:h:${accountId}:${parts.join(":")}`;
const cents = (usd: number) => Math.round(usd * 100);

/** What the account's history says about this transfer, counting the transfer itself in the windows. */
export async function readHistory(kv: Kv, t: Transfer): Promise<HistoryFeatures> {
  const short = Math.floor(t.atMs / shortBucketMs);
  const long = Math.floor(t.atMs / longBucketMs);
  const keys: string[] = [];
  for (let i = 0; i < shortBuckets; i++) keys.push(key(t.accountId, "s", short - i, "n"), key(t.accountId, "s", short - i, "c"));
  for (let i = 0; i < longBuckets; i++) {
    for (const metric of ["n", "c", "bn", "bc", "in"]) keys.push(key(t.accountId, "l", long - i, metric));
  }
  keys.push(key(t.accountId, "n"), key(t.accountId, "sum"), key(t.accountId, "sq"), key(t.accountId, "last"), key(t.accountId, "first"));
  keys.push(key(t.accountId, "cp", t.counterpartyId));
  const values = (await kv.mget(keys)).map((v) => Number(v ?? 0));
  const at = (i: number) => values[i] ?? 0;
  let count1h = 0;
  let cents1h = 0;
  for (let i = 0; i < shortBuckets; i++) {
    count1h += at(2 * i);
    cents1h += at(2 * i + 1);
  }
  const totals = { n: 0, c: 0, bn: 0, bc: 0, in: 0 };
  for (let i = 0; i < longBuckets; i++) {
    const base = 2 * shortBuckets + 5 * i;
    totals.n += at(base);
    totals.c += at(base + 1);
    totals.bn += at(base + 2);
    totals.bc += at(base + 3);
    totals.in += at(base + 4);
  }
  const rest = 2 * shortBuckets + 5 * longBuckets;
  const [n, sumUsd, sqUsd, lastMs, firstMs, counterpartySeen] = [
    at(rest),
    at(rest + 1),
    at(rest + 2),
    at(rest + 3),
    at(rest + 4),
    at(rest + 5),
  ];
  const belowCtr = t.amountUsd >= belowCtrFromUsd && t.amountUsd < ctrUsd;
  const openedMs = t.accountOpenedAtMs ?? (firstMs > 0 ? firstMs : t.atMs);
  return {
    count_1h: count1h + 1,
    count_24h: totals.n + 1,
    sum_usd_1h: (cents1h + cents(t.amountUsd)) / 100,
    sum_usd_24h: (totals.c + cents(t.amountUsd)) / 100,
    count_just_below_ctr_24h: totals.bn + (belowCtr ? 1 : 0),
    sum_usd_just_below_ctr_24h: (totals.bc + (belowCtr ? cents(t.amountUsd) : 0)) / 100,
    inbound_usd_24h: totals.in / 100,
    amount_zscore: zscore(n, sumUsd, sqUsd, Math.round(t.amountUsd)),
    seconds_since_last_transfer: lastMs > 0 ? Math.max(0, Math.floor((t.atMs - lastMs) / 1000)) : -1,
    counterparty_is_new: t.counterpartyId !== "" && counterpartySeen === 0,
    account_age_days: Math.max(0, Math.floor((t.atMs - openedMs) / (24 * hourMs))),
  };
}

/**
 * readHistory, or historyUnknown when the kv cannot be reached; `unavailable` then says why.
 * Any other failure is a bug and is thrown.
 */
export async function readHistoryOrUnknown(kv: Kv, t: Transfer): Promise<{ history: HistoryFeatures; unavailable?: string }> {
  try {
    return { history: await readHistory(kv, t) };
  } catch (error) {
    const unavailable = unavailableReason(error);
    if (unavailable === undefined) throw error;
    return { history: historyUnknown(t), unavailable };
  }
}

/**
 * The features of a transfer whose account history cannot be read (the kv is down): the
 * transfer alone, as if it were the account's first, except that its counterparty is not
 * called new, since that is not known. Velocity rules then see only the transfer itself.
 */
export function historyUnknown(t: Transfer): HistoryFeatures {
  const belowCtr = t.amountUsd >= belowCtrFromUsd && t.amountUsd < ctrUsd;
  const usd = cents(t.amountUsd) / 100;
  return {
    count_1h: 1,
    count_24h: 1,
    sum_usd_1h: usd,
    sum_usd_24h: usd,
    count_just_below_ctr_24h: belowCtr ? 1 : 0,
    sum_usd_just_below_ctr_24h: belowCtr ? usd : 0,
    inbound_usd_24h: 0,
    amount_zscore: 0,
    seconds_since_last_transfer: -1,
    counterparty_is_new: false,
    account_age_days: t.accountOpenedAtMs === undefined ? 0 : Math.max(0, Math.floor((t.atMs - t.accountOpenedAtMs) / (24 * hourMs))),
  };
}

/** (x − mean) / standard deviation of the account's past amounts; 0 until there are two. */
function zscore(n: number, sum: number, sumOfSquares: number, x: number): number {
  if (n < 2) return 0;
  const mean = sum / n;
  const variance = Math.max(0, sumOfSquares / n - mean * mean);
  const std = Math.sqrt(variance);
  return std === 0 ? 0 : (x - mean) / std;
}

/**
 * recordTransfer, except that a kv that cannot be reached is not an error: the transfer is
 * left out of the history and the reason returned (the score itself stands).
 */
export async function recordTransferIfReachable(kv: Kv, t: Transfer): Promise<string | undefined> {
  try {
    await recordTransfer(kv, t);
    return undefined;
  } catch (error) {
    const unavailable = unavailableReason(error);
    if (unavailable === undefined) throw error;
    return unavailable;
  }
}

/** Adds a scored transfer to the history of its account and, as money received, of its counterparty. */
export async function recordTransfer(kv: Kv, t: Transfer): Promise<void> {
  const short = Math.floor(t.atMs / shortBucketMs);
  const long = Math.floor(t.atMs / longBucketMs);
  const amountCents = cents(t.amountUsd);
  const dollars = Math.round(t.amountUsd);
  const belowCtr = t.amountUsd >= belowCtrFromUsd && t.amountUsd < ctrUsd;
  const increments = [
    // First: its new value, the account's transfer count, says whether this is its first.
    { key: key(t.accountId, "n"), delta: 1, ttlMs: historyTtlMs },
    { key: key(t.accountId, "s", short, "n"), delta: 1, ttlMs: shortTtlMs },
    { key: key(t.accountId, "s", short, "c"), delta: amountCents, ttlMs: shortTtlMs },
    { key: key(t.accountId, "l", long, "n"), delta: 1, ttlMs: longTtlMs },
    { key: key(t.accountId, "l", long, "c"), delta: amountCents, ttlMs: longTtlMs },
    { key: key(t.accountId, "sum"), delta: dollars, ttlMs: historyTtlMs },
    { key: key(t.accountId, "sq"), delta: dollars * dollars, ttlMs: historyTtlMs },
  ];
  if (belowCtr) {
    increments.push({ key: key(t.accountId, "l", long, "bn"), delta: 1, ttlMs: longTtlMs });
    increments.push({ key: key(t.accountId, "l", long, "bc"), delta: amountCents, ttlMs: longTtlMs });
  }
  if (t.counterpartyId !== "") {
    increments.push({ key: key(t.counterpartyId, "l", long, "in"), delta: amountCents, ttlMs: longTtlMs });
    increments.push({ key: key(t.accountId, "cp", t.counterpartyId), delta: 1, ttlMs: historyTtlMs });
  }
  // The last transfer's time is independent of the counters, so it is written alongside them;
  // the first transfer's time waits for the count that says whether this is the first.
  const [counts] = await Promise.all([kv.incrByMany(increments), kv.set(key(t.accountId, "last"), String(t.atMs), historyTtlMs)]);
  if (counts[0] === 1) await kv.set(key(t.accountId, "first"), String(t.accountOpenedAtMs ?? t.atMs), historyTtlMs);
}
