// The SQL of currency exchange: rates (appended, never updated), the per-currency FX
// liquidity accounts, and the legs an FX transfer already recorded (for retries).
import { AccountType } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import type { Queryable } from "@qenex/platform";
import { formatRateUnits } from "./convert-amount.js";

export type StoredRate = {
  id: bigint;
  baseCurrency: string;
  quoteCurrency: string;
  /** Canonical decimal text, as recorded on transfers. */
  rate: string;
  /** The rate × 10^12. */
  rateUnits: bigint;
  validFrom: Date;
  validUntil: Date;
  createdAt: Date;
};

export type NewRate = {
  baseCurrency: string;
  quoteCurrency: string;
  rateUnits: bigint;
  /** undefined: the database's now(), the same clock findRate compares with. */
  validFrom: Date | undefined;
  validUntil: Date;
};

type RateRow = {
  id: string;
  base_currency: string;
  quote_currency: string;
  rate: string;
  rate_units: string;
  valid_from: Date;
  valid_until: Date;
  created_at: Date;
};

const rateColumns = "id, base_currency, quote_currency, rate, rate_units, valid_from, valid_until, created_at";

function toRate(row: RateRow): StoredRate {
  return {
    id: BigInt(row.id),
    baseCurrency: row.base_currency,
    quoteCurrency: row.quote_currency,
    rate: row.rate,
    rateUnits: BigInt(row.rate_units),
    validFrom: row.valid_from,
    validUntil: row.valid_until,
    createdAt: row.created_at,
  };
}

/** The per-currency account FX transfers pass through. */
export function fxAccountId(currency: string): string {
  return `fx:${currency}`;
}

/** Appends a rate. A newer rate for the same pair wins over older ones; none is ever changed. */
export async function setRate(db: Queryable, rate: NewRate): Promise<StoredRate> {
  const { rows } = await db.query<RateRow>(
    `INSERT INTO ledger_exchange_rates (base_currency, quote_currency, rate, rate_units, valid_from, valid_until)
     VALUES ($1, $2, $3, $4, COALESCE($5::timestamptz, now()), $6)
     RETURNING ${rateColumns}`,
    [
      rate.baseCurrency,
      rate.quoteCurrency,
      formatRateUnits(rate.rateUnits),
      rate.rateUnits.toString(),
      rate.validFrom ?? null,
      rate.validUntil,
    ],
  );
  const row = rows[0];
  if (!row) throw new Error("inserting an exchange rate returned no row");
  return toRate(row);
}

/**
 * The rate for base → quote valid now: valid_from ≤ now() < valid_until. When several are,
 * the most recently set one, so a correction takes effect without touching the old row.
 * `at` is only "now" — the database's clock, the one rates were set against — for now.
 */
export async function findRate(q: Queryable, base: string, quote: string, _at: "now"): Promise<StoredRate | undefined> {
  const { rows } = await q.query<RateRow>(
    `SELECT ${rateColumns} FROM ledger_exchange_rates
      WHERE base_currency = $1 AND quote_currency = $2 AND valid_from <= now() AND now() < valid_until
      ORDER BY created_at DESC, id DESC LIMIT 1`,
    [base, quote],
  );
  return rows[0] && toRate(rows[0]);
}

/**
 * The rate row an already recorded FX transfer used: the latest one of that pair and value
 * set before the transfer. Times compare at the millisecond, the transfers' precision.
 */
export async function findRecordedRate(
  q: Queryable,
  base: string,
  quote: string,
  rateUnits: bigint,
  usedAt: Date,
): Promise<StoredRate | undefined> {
  const { rows } = await q.query<RateRow>(
    `SELECT ${rateColumns} FROM ledger_exchange_rates
      WHERE base_currency = $1 AND quote_currency = $2 AND rate_units = $3 AND date_trunc('milliseconds', created_at) <= $4
      ORDER BY created_at DESC, id DESC LIMIT 1`,
    [base, quote, rateUnits.toString(), usedAt],
  );
  return rows[0] && toRate(rows[0]);
}

export type RecordedLeg = { id: string; currency: string; exchangeRate: string; createdAt: Date };

/** The legs with these ids that are already recorded, by id. */
export async function findRecordedLegs(q: Queryable, ids: readonly string[]): Promise<Map<string, RecordedLeg>> {
  const { rows } = await q.query<{ id: string; currency: string; exchange_rate: string; created_at: Date }>(
    "SELECT id, currency, exchange_rate, created_at FROM ledger_transfers WHERE id = ANY($1::text[])",
    [ids],
  );
  return new Map(
    rows.map((row) => [row.id, { id: row.id, currency: row.currency, exchangeRate: row.exchange_rate, createdAt: row.created_at }]),
  );
}

/**
 * Opens the FX liquidity accounts of these currencies if missing. They may go negative (no
 * overdraft rule): they hold the ledger's own currency position, not a customer's money.
 */
export async function ensureFxAccounts(q: Queryable, currencies: readonly string[]): Promise<void> {
  await q.query(
    `INSERT INTO ledger_accounts (id, account_type, currency, owner_id, debits_must_not_exceed_credits)
     SELECT a.id, $3, a.currency, 'qenex', false FROM unnest($1::text[], $2::text[]) AS a (id, currency)
     ON CONFLICT (id) DO NOTHING`,
    [currencies.map(fxAccountId), currencies, AccountType.FX_LIQUIDITY],
  );
}
