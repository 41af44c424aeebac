// An account's recent history, kept in the mesh's kv (Redis when REDIS_URL is set, so every
// risk replica sees the same counters; in-process otherwise): velocity counters in time
// buckets, running amount statistics for the z-score, the last transfer, counterparties
// seen, and money received. One mget reads everything a score needs; one atomic
// incrByMany records a scored transfer. A batch (the ledger monitor's) reads its accounts
// once and keeps them as numbers, so each transfer's features count the batch's earlier ones.
import { type Kv, kvBatchKeysMax, unavailableReason } from "@qenex/platform";

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

/** Every kv key the features of t are read from, in the order historyFrom takes their values. */
function historyKeys(t: Transfer): string[] {
  const short = Math.floor(t.atMs / shortBucketMs);
  const long = Math.floor(t.atMs / longBucketMs);
  const keys: string[] = [];
  for (let i = 0; i < shortBuckets; i++) keys.push(key(t.accountId, "s", short - i, "n"), key(t.accountId, "s", short - i, "c"));
  for (let i = 0; i < longBuckets; i++) {
    for (const metric of ["n", "c", "bn", "bc", "in"]) keys.push(key(t.accountId, "l", long - i, metric));
  }
  keys.push(key(t.accountId, "n"), key(t.accountId, "sum"), key(t.accountId, "sq"), key(t.accountId, "last"), key(t.accountId, "first"));
  keys.push(key(t.accountId, "cp", t.counterpartyId));
  return keys;
}

/** What the account's history says about this transfer, counting the transfer itself in the windows. */
export async function readHistory(kv: Kv, t: Transfer): Promise<HistoryFeatures> {
  const values = await kv.mget(historyKeys(t));
  return historyFrom(
    t,
    values.map((v) => Number(v ?? 0)),
  );
}

/** The features of t from the values of historyKeys(t), in that order (0 for a missing key). */
function historyFrom(t: Transfer, values: readonly number[]): HistoryFeatures {
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

/** Adds a scored transfer to the history of its account and, as money received, of its counterparty. */
export async function recordTransfer(kv: Kv, t: Transfer): Promise<void> {
  await recordTransfers(kv, [t]);
}

type Increment = { key: string; delta: number; ttlMs: number };

/** The counters a transfer adds to; the first is the account's transfer count. */
function transferIncrements(t: Transfer): Increment[] {
  const short = Math.floor(t.atMs / shortBucketMs);
  const long = Math.floor(t.atMs / longBucketMs);
  const amountCents = cents(t.amountUsd);
  const dollars = Math.round(t.amountUsd);
  const belowCtr = t.amountUsd >= belowCtrFromUsd && t.amountUsd < ctrUsd;
  const increments = [
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
  return increments;
}

/** When the account's first transfer was: its opening if known, else this transfer. */
const firstMsOf = (t: Transfer) => t.accountOpenedAtMs ?? t.atMs;

/** recordTransfers, a kv that cannot be reached returning the reason instead of failing. */
export async function recordTransfersIfReachable(kv: Kv, transfers: readonly Transfer[]): Promise<string | undefined> {
  try {
    await recordTransfers(kv, transfers);
    return undefined;
  } catch (error) {
    const unavailable = unavailableReason(error);
    if (unavailable === undefined) throw error;
    return unavailable;
  }
}

/**
 * Adds scored transfers, in order, to their accounts' histories: the same counters as one
 * recordTransfer each, with each key's deltas summed into one increment (a batch of an
 * account's transfers in one hour touches the same few keys), sent in as few round trips as
 * the kv's batch limit allows.
 */
export async function recordTransfers(kv: Kv, transfers: readonly Transfer[]): Promise<void> {
  const merged = new Map<string, Increment>();
  // Per account: its count key, and its first and last transfer in this batch.
  const accounts = new Map<string, { countKey: string; first: Transfer; last: Transfer }>();
  for (const t of transfers) {
    const increments = transferIncrements(t);
    for (const inc of increments) {
      const seen = merged.get(inc.key);
      if (seen) seen.delta += inc.delta;
      else merged.set(inc.key, { ...inc });
    }
    const account = accounts.get(t.accountId);
    if (account) account.last = t;
    else accounts.set(t.accountId, { countKey: increments[0]?.key ?? "", first: t, last: t });
  }
  const all = [...merged.values()];
  const chunks: Increment[][] = [];
  for (let at = 0; at < all.length; at += kvBatchKeysMax) chunks.push(all.slice(at, at + kvBatchKeysMax));
  // The last transfer's time is independent of the counters, so it is written alongside them;
  // the first transfer's time waits for the count that says whether the account had none.
  const [counted] = await Promise.all([
    Promise.all(chunks.map((chunk) => kv.incrByMany(chunk))),
    Promise.all([...accounts.values()].map((a) => kv.set(key(a.last.accountId, "last"), String(a.last.atMs), historyTtlMs))),
  ]);
  const countAfter = new Map<string, number>();
  counted.flat().forEach((value, i) => {
    const inc = all[i];
    if (inc) countAfter.set(inc.key, value);
  });
  await Promise.all(
    [...accounts.values()]
      // The count is this batch's own transfers alone: the account had none before.
      .filter((a) => countAfter.get(a.countKey) === merged.get(a.countKey)?.delta)
      .map((a) => kv.set(key(a.first.accountId, "first"), String(firstMsOf(a.first)), historyTtlMs)),
  );
}

/**
 * The histories of a batch of transfers, read in one pass: the features of the transfer at i
 * count every transfer recorded before it in the batch, as if each had been read and then
 * recorded in turn (velocity, amount statistics, last and first transfer, counterparties
 * seen, money received).
 */
export type HistoryBatch = {
  featuresAt(i: number): HistoryFeatures;
  /** Counts the transfer at i in the features of the batch's later transfers. */
  record(i: number): void;
};

/** readHistories, or `unavailable` (why) when the kv cannot be reached; other failures are thrown. */
export async function readHistoriesOrUnknown(kv: Kv, transfers: readonly Transfer[]): Promise<HistoryBatch | { unavailable: string }> {
  try {
    return await readHistories(kv, transfers);
  } catch (error) {
    const unavailable = unavailableReason(error);
    if (unavailable === undefined) throw error;
    return { unavailable };
  }
}

/**
 * What a batch reads of one account: the buckets every one of its transfers' windows covers,
 * its statistics, and the counterparties it pays in the batch. Kept as numbers by bucket, so a
 * batch of thousands of transfers is not a map of hundreds of thousands of keys.
 */
type AccountHistory = {
  shortFrom: number;
  shortTo: number;
  /** Per short bucket from shortFrom: count, cents. */
  short: number[];
  longFrom: number;
  longTo: number;
  /** Per long bucket from longFrom: count, cents, below-CTR count, below-CTR cents, cents received. */
  long: number[];
  n: number;
  sum: number;
  sq: number;
  lastMs: number;
  firstMs: number;
  counterparties: Map<string, number>;
};
const shortMetrics = 2;
const longMetrics = ["n", "c", "bn", "bc", "in"] as const;

/** The histories of a batch's accounts (the accounts its transfers debit), read in one pass. */
export async function readHistories(kv: Kv, transfers: readonly Transfer[]): Promise<HistoryBatch> {
  const accounts = new Map<string, AccountHistory>();
  for (const t of transfers) {
    const short = Math.floor(t.atMs / shortBucketMs);
    const long = Math.floor(t.atMs / longBucketMs);
    const a = accounts.get(t.accountId);
    if (a) {
      a.shortFrom = Math.min(a.shortFrom, short - shortBuckets + 1);
      a.shortTo = Math.max(a.shortTo, short);
      a.longFrom = Math.min(a.longFrom, long - longBuckets + 1);
      a.longTo = Math.max(a.longTo, long);
      a.counterparties.set(t.counterpartyId, 0);
    } else {
      accounts.set(t.accountId, {
        shortFrom: short - shortBuckets + 1,
        shortTo: short,
        short: [],
        longFrom: long - longBuckets + 1,
        longTo: long,
        long: [],
        n: 0,
        sum: 0,
        sq: 0,
        lastMs: 0,
        firstMs: 0,
        counterparties: new Map([[t.counterpartyId, 0]]),
      });
    }
  }
  await readAccounts(kv, accounts);
  const stateOf = (t: Transfer) => {
    const a = accounts.get(t.accountId);
    if (a === undefined) throw new Error(`account ${t.accountId} was not read`);
    return a;
  };
  const at = (i: number) => {
    const t = transfers[i];
    if (t === undefined) throw new RangeError(`no transfer ${i} in a batch of ${transfers.length}`);
    return t;
  };
  return {
    featuresAt(i) {
      const t = at(i);
      const a = stateOf(t);
      // The values historyKeys(t) would read, in its order.
      const short = Math.floor(t.atMs / shortBucketMs) - a.shortFrom;
      const long = Math.floor(t.atMs / longBucketMs) - a.longFrom;
      const values: number[] = [];
      for (let b = 0; b < shortBuckets; b++)
        values.push(a.short[(short - b) * shortMetrics] ?? 0, a.short[(short - b) * shortMetrics + 1] ?? 0);
      for (let b = 0; b < longBuckets; b++) {
        for (let m = 0; m < longMetrics.length; m++) values.push(a.long[(long - b) * longMetrics.length + m] ?? 0);
      }
      values.push(a.n, a.sum, a.sq, a.lastMs, a.firstMs, a.counterparties.get(t.counterpartyId) ?? 0);
      return historyFrom(t, values);
    },
    // The same counters recordTransfer adds to (transferIncrements), on the numbers read.
    record(i) {
      const t = at(i);
      const a = stateOf(t);
      const short = Math.floor(t.atMs / shortBucketMs) - a.shortFrom;
      const long = Math.floor(t.atMs / longBucketMs) - a.longFrom;
      const amountCents = cents(t.amountUsd);
      const dollars = Math.round(t.amountUsd);
      const add = (array: number[], index: number, delta: number) => {
        array[index] = (array[index] ?? 0) + delta;
      };
      add(a.short, short * shortMetrics, 1);
      add(a.short, short * shortMetrics + 1, amountCents);
      add(a.long, long * longMetrics.length, 1);
      add(a.long, long * longMetrics.length + 1, amountCents);
      if (t.amountUsd >= belowCtrFromUsd && t.amountUsd < ctrUsd) {
        add(a.long, long * longMetrics.length + 2, 1);
        add(a.long, long * longMetrics.length + 3, amountCents);
      }
      a.n += 1;
      a.sum += dollars;
      a.sq += dollars * dollars;
      a.lastMs = t.atMs;
      if (a.n === 1) a.firstMs = firstMsOf(t);
      if (t.counterpartyId === "") return;
      a.counterparties.set(t.counterpartyId, (a.counterparties.get(t.counterpartyId) ?? 0) + 1);
      // Money received counts only for an account the batch reads, in a bucket it read.
      const payee = accounts.get(t.counterpartyId);
      const payeeLong = Math.floor(t.atMs / longBucketMs);
      if (payee && payeeLong >= payee.longFrom && payeeLong <= payee.longTo) {
        add(payee.long, (payeeLong - payee.longFrom) * longMetrics.length + 4, amountCents);
      }
    },
  };
}

/** Fills each account's numbers from the kv: one mget per kvBatchKeysMax keys, all at once. */
async function readAccounts(kv: Kv, accounts: ReadonlyMap<string, AccountHistory>): Promise<void> {
  const keys: string[] = [];
  for (const [accountId, a] of accounts) {
    for (let b = a.shortFrom; b <= a.shortTo; b++) keys.push(key(accountId, "s", b, "n"), key(accountId, "s", b, "c"));
    for (let b = a.longFrom; b <= a.longTo; b++) for (const metric of longMetrics) keys.push(key(accountId, "l", b, metric));
    keys.push(key(accountId, "n"), key(accountId, "sum"), key(accountId, "sq"), key(accountId, "last"), key(accountId, "first"));
    for (const counterpartyId of a.counterparties.keys()) keys.push(key(accountId, "cp", counterpartyId));
  }
  const chunks: string[][] = [];
  for (let at = 0; at < keys.length; at += kvBatchKeysMax) chunks.push(keys.slice(at, at + kvBatchKeysMax));
  const values = (await Promise.all(chunks.map((chunk) => kv.mget(chunk)))).flat();
  let next = 0;
  const take = () => Number(values[next++] ?? 0);
  for (const a of accounts.values()) {
    for (let b = a.shortFrom; b <= a.shortTo; b++) a.short.push(take(), take());
    for (let b = a.longFrom; b <= a.longTo; b++) for (let m = 0; m < longMetrics.length; m++) a.long.push(take());
    [a.n, a.sum, a.sq, a.lastMs, a.firstMs] = [take(), take(), take(), take(), take()];
    for (const counterpartyId of a.counterparties.keys()) a.counterparties.set(counterpartyId, take());
  }
}
