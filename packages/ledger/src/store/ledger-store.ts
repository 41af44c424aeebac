// All of the ledger's SQL. Writes lock the accounts they touch once per batch, in id order
// (so concurrent batches cannot deadlock), decide in memory, then write with set-based
// statements.
import { AccountType, TransferKind } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { type Db, type Queryable, sqlState } from "@qenex/platform";
import { type AccountCommand, type AccountState, equityAccountId, firstAccountDifference, openingTransferId } from "../domain/account.js";
import { type Plan, planTransfers, type StoredFailure, type StoredTransfer, type TransferCommand } from "../domain/transfer.js";

export type StoredAccount = AccountState & { createdAt: Date; closedAt: Date | undefined };

export type AccountOutcome =
  | { status: "created" | "exists"; account: StoredAccount; opening: StoredTransfer | undefined }
  | { status: "different"; field: string; account: StoredAccount };

export type TransfersResult = { plan: Plan; createdAt: Date };

/** Retries of a batch that lost a race on a new id (another writer inserted it first). */
const idRaceAttemptsMax = 4;

type AccountRow = {
  id: string;
  account_type: number;
  currency: string;
  owner_id: string;
  status: "OPEN" | "CLOSED";
  debits_must_not_exceed_credits: boolean;
  debits_posted: string;
  credits_posted: string;
  debits_pending: string;
  credits_pending: string;
  created_at: Date;
  closed_at: Date | null;
};

type TransferRow = {
  id: string;
  debit_account_id: string;
  credit_account_id: string;
  amount: string;
  currency: string;
  reference: string;
  kind: number;
  created_at: Date;
  seq: string;
};

const accountColumns = `id, account_type, currency, owner_id, status, debits_must_not_exceed_credits,
  debits_posted, credits_posted, debits_pending, credits_pending, created_at, closed_at`;
const transferColumns = "id, debit_account_id, credit_account_id, amount, currency, reference, kind, created_at, seq";

function toAccount(row: AccountRow): StoredAccount {
  return {
    id: row.id,
    type: row.account_type as AccountType,
    currency: row.currency,
    ownerId: row.owner_id,
    status: row.status,
    debitsMustNotExceedCredits: row.debits_must_not_exceed_credits,
    debitsPostedMinor: BigInt(row.debits_posted),
    creditsPostedMinor: BigInt(row.credits_posted),
    debitsPendingMinor: BigInt(row.debits_pending),
    creditsPendingMinor: BigInt(row.credits_pending),
    createdAt: row.created_at,
    closedAt: row.closed_at ?? undefined,
  };
}

export function toTransfer(row: TransferRow): StoredTransfer & { seq: bigint } {
  return {
    id: row.id,
    debitAccountId: row.debit_account_id,
    creditAccountId: row.credit_account_id,
    amountMinor: BigInt(row.amount),
    currency: row.currency,
    reference: row.reference,
    kind: row.kind as TransferKind,
    createdAt: row.created_at,
    seq: BigInt(row.seq),
  };
}

async function lockAccounts(tx: Queryable, ids: readonly string[]): Promise<Map<string, AccountState>> {
  const sorted = [...new Set(ids)].sort();
  const { rows } = await tx.query<AccountRow>(
    `SELECT ${accountColumns} FROM ledger_accounts WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`,
    [sorted],
  );
  return new Map(rows.map((row) => [row.id, toAccount(row)]));
}

/** Stored transfers and remembered failures with these ids, in one round trip. */
async function lookUpIds(tx: Queryable, ids: readonly string[]) {
  const { rows } = await tx.query<TransferRow & { status: number | null; message: string | null }>(
    `SELECT ${transferColumns}, NULL::integer AS status, NULL::text AS message
       FROM ledger_transfers WHERE id = ANY($1::text[])
     UNION ALL
     SELECT ${transferColumns.replace(", seq", ", 0::bigint AS seq")}, status, message
       FROM ledger_transfer_failures WHERE id = ANY($1::text[])`,
    [ids],
  );
  const known = new Map<string, StoredTransfer>();
  const failed = new Map<string, StoredFailure>();
  for (const row of rows) {
    if (row.status === null || row.message === null) known.set(row.id, toTransfer(row));
    else failed.set(row.id, { ...toTransfer(row), status: row.status, message: row.message });
  }
  return { known, failed };
}

/** Decides and writes a batch inside an open transaction. */
async function applyTransfers(tx: Queryable, commands: readonly TransferCommand[]): Promise<TransfersResult> {
  const { known, failed } = await lookUpIds(
    tx,
    commands.map((c) => c.id),
  );
  const accounts = await lockAccounts(
    tx,
    commands.flatMap((c) => [c.debitAccountId, c.creditAccountId]),
  );
  const before = new Map([...accounts].map(([id, a]) => [id, { ...a }]));
  const plan = planTransfers(commands, accounts, known, failed);
  const createdAt = await writeBatch(tx, plan, balanceDeltas(accounts, before));
  return { plan, createdAt };
}

type BalanceDelta = { id: string; debitsMinor: bigint; creditsMinor: bigint };

/** What each locked account's posted balances changed by; untouched accounts are left out. */
function balanceDeltas(after: ReadonlyMap<string, AccountState>, before: ReadonlyMap<string, AccountState>): BalanceDelta[] {
  const deltas: BalanceDelta[] = [];
  for (const account of after.values()) {
    const previous = before.get(account.id);
    if (!previous) throw new Error(`account ${account.id} was not locked before the batch`);
    const debitsMinor = account.debitsPostedMinor - previous.debitsPostedMinor;
    const creditsMinor = account.creditsPostedMinor - previous.creditsPostedMinor;
    if (debitsMinor !== 0n || creditsMinor !== 0n) deltas.push({ id: account.id, debitsMinor, creditsMinor });
  }
  return deltas;
}

/**
 * Writes a decided batch in one statement (each round trip to PostgreSQL costs more than the
 * work): new transfers, remembered failures, and balance changes added to the locked rows.
 * Returns the transaction's timestamp, which is every new transfer's created_at.
 */
async function writeBatch(tx: Queryable, plan: Plan, deltas: readonly BalanceDelta[]): Promise<Date> {
  const { rows } = await tx.query<{ now: Date }>(
    `WITH transfers AS (
       INSERT INTO ledger_transfers (id, debit_account_id, credit_account_id, amount, currency, reference, kind)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::integer[])
       RETURNING 1
     ), failures AS (
       INSERT INTO ledger_transfer_failures
         (id, debit_account_id, credit_account_id, amount, currency, reference, kind, status, message)
       SELECT * FROM unnest($8::text[], $9::text[], $10::text[], $11::bigint[], $12::text[], $13::text[],
         $14::integer[], $15::integer[], $16::text[])
       RETURNING 1
     ), balances AS (
       UPDATE ledger_accounts AS a
          SET debits_posted = a.debits_posted + d.debits, credits_posted = a.credits_posted + d.credits
         FROM unnest($17::text[], $18::bigint[], $19::bigint[]) AS d (id, debits, credits)
        WHERE a.id = d.id
       RETURNING 1
     )
     SELECT now() AS now`,
    [
      ...columns(plan.created),
      ...columns(plan.failed),
      plan.failed.map((f) => f.status),
      plan.failed.map((f) => f.message),
      deltas.map((d) => d.id),
      deltas.map((d) => d.debitsMinor.toString()),
      deltas.map((d) => d.creditsMinor.toString()),
    ],
  );
  const row = rows[0];
  if (!row) throw new Error("batch write returned no row");
  return row.now;
}

function columns(transfers: readonly TransferCommand[]): unknown[] {
  return [
    transfers.map((t) => t.id),
    transfers.map((t) => t.debitAccountId),
    transfers.map((t) => t.creditAccountId),
    transfers.map((t) => t.amountMinor.toString()),
    transfers.map((t) => t.currency),
    transfers.map((t) => t.reference),
    transfers.map((t) => t.kind),
  ];
}

/** Runs a write, and runs it again when it lost a race to insert the same new id. */
async function retryingIdRaces<T>(db: Db, write: (tx: Queryable) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction(write);
    } catch (error) {
      if (sqlState(error) !== "23505" || attempt >= idRaceAttemptsMax) throw error;
    }
  }
}

export type LedgerStore = ReturnType<typeof createLedgerStore>;

export function createLedgerStore(db: Db) {
  return {
    createTransfers: (commands: readonly TransferCommand[]) => retryingIdRaces(db, (tx) => applyTransfers(tx, commands)),

    createAccounts: (commands: readonly AccountCommand[]) => retryingIdRaces(db, (tx) => createAccounts(tx, commands)),

    async getAccount(id: string): Promise<StoredAccount | undefined> {
      const { rows } = await db.query<AccountRow>(`SELECT ${accountColumns} FROM ledger_accounts WHERE id = $1`, [id]);
      return rows[0] && toAccount(rows[0]);
    },

    async listAccounts(filter: { currency: string; type: AccountType; ownerId: string; afterId: string; limit: number }) {
      const { rows } = await db.query<AccountRow>(
        `SELECT ${accountColumns} FROM ledger_accounts
          WHERE ($1 = '' OR currency = $1) AND ($2 = 0 OR account_type = $2) AND ($3 = '' OR owner_id = $3)
            AND id > $4
          ORDER BY id LIMIT $5`,
        [filter.currency, filter.type, filter.ownerId, filter.afterId, filter.limit],
      );
      return rows.map(toAccount);
    },

    /** Closes an account whose balances are all zero; `undefined` when it does not exist. */
    closeAccount: (id: string) =>
      db.transaction(async (tx) => {
        const account = (await lockAccounts(tx, [id])).get(id);
        if (!account) return undefined;
        if (account.status === "OPEN" && isZero(account)) {
          await tx.query("UPDATE ledger_accounts SET status = 'CLOSED', closed_at = now() WHERE id = $1", [id]);
        }
        const { rows } = await tx.query<AccountRow>(`SELECT ${accountColumns} FROM ledger_accounts WHERE id = $1`, [id]);
        return rows[0] && toAccount(rows[0]);
      }),

    async getTransfer(id: string) {
      const { rows } = await db.query<TransferRow>(`SELECT ${transferColumns} FROM ledger_transfers WHERE id = $1`, [id]);
      return rows[0] && toTransfer(rows[0]);
    },

    async listTransfers(filter: { accountId: string; fromTime: Date | null; toTime: Date | null; afterSeq: bigint; limit: number }) {
      const { rows } = await db.query<TransferRow>(
        `SELECT ${transferColumns} FROM ledger_transfers
          WHERE (debit_account_id = $1 OR credit_account_id = $1) AND seq > $2
            AND ($3::timestamptz IS NULL OR date_trunc('milliseconds', created_at) >= $3)
            AND ($4::timestamptz IS NULL OR date_trunc('milliseconds', created_at) < $4)
          ORDER BY seq LIMIT $5`,
        [filter.accountId, filter.afterSeq.toString(), filter.fromTime, filter.toTime, filter.limit],
      );
      return rows.map(toTransfer);
    },

    /**
     * Sums of the account's transfers created at or before `asOf`. Times compare at the
     * millisecond, the precision clients see, so a transfer's own created_at includes it.
     */
    async postedAsOf(accountId: string, asOf: Date) {
      const { rows } = await db.query<{ debits: string; credits: string }>(
        `SELECT COALESCE(SUM(amount) FILTER (WHERE debit_account_id = $1), 0)::text AS debits,
                COALESCE(SUM(amount) FILTER (WHERE credit_account_id = $1), 0)::text AS credits
           FROM ledger_transfers
          WHERE (debit_account_id = $1 OR credit_account_id = $1) AND date_trunc('milliseconds', created_at) <= $2`,
        [accountId, asOf],
      );
      const row = rows[0];
      return { debitsPostedMinor: BigInt(row?.debits ?? 0), creditsPostedMinor: BigInt(row?.credits ?? 0) };
    },
  };
}

function isZero(a: AccountState): boolean {
  return a.debitsPostedMinor === a.creditsPostedMinor && a.debitsPendingMinor === 0n && a.creditsPendingMinor === 0n;
}

async function createAccounts(tx: Queryable, commands: readonly AccountCommand[]): Promise<AccountOutcome[]> {
  const ids = commands.map((c) => c.id);
  const { rows } = await tx.query<AccountRow>(`SELECT ${accountColumns} FROM ledger_accounts WHERE id = ANY($1::text[])`, [ids]);
  const existing = new Map(rows.map((row) => [row.id, toAccount(row)]));
  const openings = await tx.query<TransferRow>(`SELECT ${transferColumns} FROM ledger_transfers WHERE id = ANY($1::text[])`, [
    ids.map(openingTransferId),
  ]);
  const openingById = new Map<string, StoredTransfer>(openings.rows.map((row) => [row.id, toTransfer(row)]));
  const fresh = new Map<string, AccountCommand>();
  for (const command of commands) if (!existing.has(command.id) && !fresh.has(command.id)) fresh.set(command.id, command);
  await insertAccounts(tx, [...fresh.values()]);
  const funded = [...fresh.values()].filter((c) => c.initialBalanceMinor > 0n);
  await ensureEquityAccounts(tx, [...new Set(funded.map((c) => c.currency))]);
  const opened = await applyTransfers(tx, funded.map(openingTransfer));
  for (const transfer of opened.plan.created) openingById.set(transfer.id, { ...transfer, createdAt: opened.createdAt });
  const { rows: after } = await tx.query<AccountRow>(`SELECT ${accountColumns} FROM ledger_accounts WHERE id = ANY($1::text[])`, [ids]);
  const stored = new Map(after.map((row) => [row.id, toAccount(row)]));
  const seen = new Set<string>();
  return commands.map((command) => {
    const account = stored.get(command.id);
    if (!account) throw new Error(`account ${command.id} vanished inside its transaction`);
    const opening = openingById.get(openingTransferId(command.id));
    const isNew = fresh.has(command.id) && !seen.has(command.id);
    seen.add(command.id);
    if (isNew) return { status: "created", account, opening };
    const previous: AccountCommand = { ...account, initialBalanceMinor: opening?.amountMinor ?? 0n };
    const field = firstAccountDifference(previous, command);
    return field ? { status: "different", field, account } : { status: "exists", account, opening };
  });
}

function openingTransfer(command: AccountCommand): TransferCommand {
  return {
    id: openingTransferId(command.id),
    debitAccountId: equityAccountId(command.currency),
    creditAccountId: command.id,
    amountMinor: command.initialBalanceMinor,
    currency: command.currency,
    reference: "opening balance",
    kind: TransferKind.OPENING_BALANCE,
  };
}

async function insertAccounts(tx: Queryable, accounts: readonly AccountCommand[]): Promise<void> {
  if (accounts.length === 0) return;
  await tx.query(
    `INSERT INTO ledger_accounts (id, account_type, currency, owner_id, debits_must_not_exceed_credits)
     SELECT * FROM unnest($1::text[], $2::integer[], $3::text[], $4::text[], $5::boolean[])`,
    [
      accounts.map((a) => a.id),
      accounts.map((a) => a.type),
      accounts.map((a) => a.currency),
      accounts.map((a) => a.ownerId),
      accounts.map((a) => a.debitsMustNotExceedCredits),
    ],
  );
}

async function ensureEquityAccounts(tx: Queryable, currencies: readonly string[]): Promise<void> {
  if (currencies.length === 0) return;
  await tx.query(
    `INSERT INTO ledger_accounts (id, account_type, currency, owner_id, debits_must_not_exceed_credits)
     SELECT 'equity:' || c, $2, c, 'qenex', false FROM unnest($1::text[]) AS c
     ON CONFLICT (id) DO NOTHING`,
    [currencies, AccountType.EQUITY],
  );
}
