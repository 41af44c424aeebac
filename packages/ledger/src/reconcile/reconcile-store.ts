// The SQL behind GetTrialBalance and Reconcile. Every read is one statement, so it sees one
// snapshot: a transfer and the counter updates it made are either both visible or neither,
// and a writer committing mid-run can never show up as a false difference.
import { TransferKind } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import type { Queryable } from "@qenex/platform";
import { postedTransferKinds } from "../domain/transfer.js";

/** Kinds that resolve a pending transfer (named by their `pending_id`). */
const resolvingKinds: readonly number[] = [TransferKind.POST_PENDING, TransferKind.VOID_PENDING, TransferKind.EXPIRE_PENDING];

/** The four balance counters, in minor units, as the ledger names them in code. */
export type CountersMinor = {
  debitsPostedMinor: bigint;
  creditsPostedMinor: bigint;
  debitsPendingMinor: bigint;
  creditsPendingMinor: bigint;
};

/** Each counter's column (also its name on the wire, in AccountDifference.field). */
export const counterColumns = {
  debitsPostedMinor: "debits_posted",
  creditsPostedMinor: "credits_posted",
  debitsPendingMinor: "debits_pending",
  creditsPendingMinor: "credits_pending",
} as const satisfies Record<keyof CountersMinor, string>;

export type CounterColumn = (typeof counterColumns)[keyof CountersMinor];

export type CurrencyTotalsMinor = { currency: string } & CountersMinor;

export type CounterDifference = {
  accountId: string;
  currency: string;
  field: CounterColumn;
  storedMinor: bigint;
  recomputedMinor: bigint;
};

export type PageCheck = { accountsChecked: number; lastAccountId: string; differences: CounterDifference[] };

type TotalsRow = { currency: string } & Record<CounterColumn, string>;

type PageRow = {
  accounts_checked: number;
  last_account_id: string | null;
  account_id: string | null;
  currency: string | null;
} & Record<`${CounterColumn}_stored` | `${CounterColumn}_recomputed`, string | null>;

function toTotals(row: TotalsRow): CurrencyTotalsMinor {
  return {
    currency: row.currency,
    debitsPostedMinor: BigInt(row.debits_posted),
    creditsPostedMinor: BigInt(row.credits_posted),
    debitsPendingMinor: BigInt(row.debits_pending),
    creditsPendingMinor: BigInt(row.credits_pending),
  };
}

/** Σ of the stored counters per currency: what the book says now. */
const storedTotalsSql = `
  SELECT currency,
         SUM(debits_posted)::text AS debits_posted, SUM(credits_posted)::text AS credits_posted,
         SUM(debits_pending)::text AS debits_pending, SUM(credits_pending)::text AS credits_pending
    FROM ledger_accounts
   GROUP BY currency
   ORDER BY currency`;

/**
 * Σ per currency recomputed from the transfers created at or before $1. Each side is
 * summed under its own account's currency, so a transfer between currencies would show as
 * an imbalance rather than cancel out. A pending transfer still reserves at $1 unless a
 * post, void or expiry naming it was created by then (an anti-join: one pass, no lookup per
 * transfer).
 */
const totalsAsOfSql = `
  WITH resolved AS (
    SELECT DISTINCT pending_id FROM ledger_transfers
     WHERE pending_id IS NOT NULL AND kind = ANY($4::int[])
       AND date_trunc('milliseconds', created_at) <= $1::timestamptz
  ), moved AS (
    SELECT t.debit_account_id, t.credit_account_id, t.amount,
           t.kind = ANY($2::int[]) AS posted,
           t.kind = $3 AND r.pending_id IS NULL AS pending
      FROM ledger_transfers t
      LEFT JOIN resolved r ON r.pending_id = t.id
     WHERE date_trunc('milliseconds', t.created_at) <= $1::timestamptz
  ), debits AS (
    SELECT debit_account_id AS id, SUM(amount) FILTER (WHERE posted) AS posted, SUM(amount) FILTER (WHERE pending) AS pending
      FROM moved GROUP BY debit_account_id
  ), credits AS (
    SELECT credit_account_id AS id, SUM(amount) FILTER (WHERE posted) AS posted, SUM(amount) FILTER (WHERE pending) AS pending
      FROM moved GROUP BY credit_account_id
  )
  SELECT a.currency,
         COALESCE(SUM(d.posted), 0)::text AS debits_posted, COALESCE(SUM(c.posted), 0)::text AS credits_posted,
         COALESCE(SUM(d.pending), 0)::text AS debits_pending, COALESCE(SUM(c.pending), 0)::text AS credits_pending
    FROM ledger_accounts a
    LEFT JOIN debits d ON d.id = a.id
    LEFT JOIN credits c ON c.id = a.id
   WHERE date_trunc('milliseconds', a.created_at) <= $1::timestamptz OR d.id IS NOT NULL OR c.id IS NOT NULL
   GROUP BY a.currency
   ORDER BY a.currency`;

/**
 * One keyset page of accounts (id > $1, at most $2) with each counter recomputed from the
 * transfers. Each account's two sides are summed by LATERAL subqueries: an index scan per
 * account and side (by_debit, by_credit), whatever the book's size, and exactly one row
 * each, so the planner's estimates stay small. Returns one row per account that differs
 * anywhere, each carrying the page's count and last id; a page without differences returns
 * a single row with only those.
 */
const checkPageSql = `
  WITH page AS (
    SELECT id, currency, debits_posted, credits_posted, debits_pending, credits_pending
      FROM ledger_accounts
     WHERE id > $1::text
     ORDER BY id
     LIMIT $2::int
  ), compared AS (
    SELECT page.id, page.currency,
           page.debits_posted AS debits_posted_stored, d.posted AS debits_posted_recomputed,
           page.credits_posted AS credits_posted_stored, c.posted AS credits_posted_recomputed,
           page.debits_pending AS debits_pending_stored, d.pending AS debits_pending_recomputed,
           page.credits_pending AS credits_pending_stored, c.pending AS credits_pending_recomputed
      FROM page
      CROSS JOIN LATERAL (
        SELECT COALESCE(SUM(t.amount) FILTER (WHERE t.kind = ANY($3::int[])), 0) AS posted,
               COALESCE(SUM(t.amount) FILTER (WHERE t.kind = $4 AND p.state = 'PENDING'), 0) AS pending
          FROM ledger_transfers t
          LEFT JOIN ledger_pending p ON p.transfer_id = t.id AND t.kind = $4
         WHERE t.debit_account_id = page.id) d
      CROSS JOIN LATERAL (
        SELECT COALESCE(SUM(t.amount) FILTER (WHERE t.kind = ANY($3::int[])), 0) AS posted,
               COALESCE(SUM(t.amount) FILTER (WHERE t.kind = $4 AND p.state = 'PENDING'), 0) AS pending
          FROM ledger_transfers t
          LEFT JOIN ledger_pending p ON p.transfer_id = t.id AND t.kind = $4
         WHERE t.credit_account_id = page.id) c
  ), summary AS (
    -- max(id) is the page's last id: it compares with the same collation as ORDER BY id.
    SELECT count(*)::int AS accounts_checked, max(id) AS last_account_id FROM page
  )
  SELECT s.accounts_checked, s.last_account_id, x.id AS account_id, x.currency,
         x.debits_posted_stored::text, x.debits_posted_recomputed::text,
         x.credits_posted_stored::text, x.credits_posted_recomputed::text,
         x.debits_pending_stored::text, x.debits_pending_recomputed::text,
         x.credits_pending_stored::text, x.credits_pending_recomputed::text
    FROM summary s
    LEFT JOIN compared x
      ON x.debits_posted_stored <> x.debits_posted_recomputed
      OR x.credits_posted_stored <> x.credits_posted_recomputed
      OR x.debits_pending_stored <> x.debits_pending_recomputed
      OR x.credits_pending_stored <> x.credits_pending_recomputed
   ORDER BY x.id`;

function differencesOf(row: PageRow): CounterDifference[] {
  const { account_id: accountId, currency } = row;
  if (accountId === null || currency === null) return [];
  const differences: CounterDifference[] = [];
  for (const field of Object.values(counterColumns)) {
    const storedMinor = BigInt(row[`${field}_stored`] ?? 0);
    const recomputedMinor = BigInt(row[`${field}_recomputed`] ?? 0);
    if (storedMinor !== recomputedMinor) differences.push({ accountId, currency, field, storedMinor, recomputedMinor });
  }
  return differences;
}

export type ReconcileStore = ReturnType<typeof createReconcileStore>;

export function createReconcileStore(db: Queryable) {
  const checkPage = async (afterAccountId: string, accountsPerPage: number): Promise<PageCheck> => {
    const { rows } = await db.query<PageRow>(checkPageSql, [afterAccountId, accountsPerPage, postedTransferKinds, TransferKind.PENDING]);
    const first = rows[0];
    if (!first) throw new Error("reconcile page returned no summary row");
    return {
      accountsChecked: first.accounts_checked,
      lastAccountId: first.last_account_id ?? afterAccountId,
      differences: rows.flatMap(differencesOf),
    };
  };

  return {
    async storedTotals(): Promise<CurrencyTotalsMinor[]> {
      const { rows } = await db.query<TotalsRow>(storedTotalsSql);
      return rows.map(toTotals);
    },

    async totalsAsOf(asOf: Date): Promise<CurrencyTotalsMinor[]> {
      const { rows } = await db.query<TotalsRow>(totalsAsOfSql, [asOf, postedTransferKinds, TransferKind.PENDING, resolvingKinds]);
      return rows.map(toTotals);
    },

    async countAccounts(): Promise<number> {
      const { rows } = await db.query<{ accounts: string }>("SELECT count(*)::text AS accounts FROM ledger_accounts");
      return Number(rows[0]?.accounts ?? 0);
    },

    /**
     * Walks every account in id order, one page per statement, and yields each page's
     * result. Keyset paging (id > last) costs the same on the last page as on the first.
     * An account opened during the walk is checked only if its id sorts after the cursor.
     */
    async *checkAllAccounts(accountsPerPage: number): AsyncGenerator<PageCheck> {
      let afterAccountId = "";
      for (;;) {
        const page = await checkPage(afterAccountId, accountsPerPage);
        if (page.accountsChecked === 0) return;
        yield page;
        if (page.accountsChecked < accountsPerPage) return;
        afterAccountId = page.lastAccountId;
      }
    },
  };
}

export function isBalanced(totals: CountersMinor): boolean {
  return totals.debitsPostedMinor === totals.creditsPostedMinor && totals.debitsPendingMinor === totals.creditsPendingMinor;
}
