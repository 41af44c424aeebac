// The ledger's SQL, behind one object. Transfer batches live in transfer-batch.ts, tamper
// evidence in audit.ts; this file holds accounts, reads, and the retry on id races.
import { AccountType, CreateTransferStatus, TransferKind } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { type Db, type Queryable, sqlState } from "@qenex/platform";
import { type AccountCommand, equityAccountId, firstAccountDifference, openingTransferId } from "../domain/account.js";
import { postedTransferKinds, type StoredTransfer, type TransferCommand } from "../domain/transfer.js";
import { type AuditEntry, type AuditKey, appendAudit, verifyAudit } from "./audit.js";
import { type AccountRow, accountColumns, type StoredAccount, type TransferRow, toAccount, toTransfer, transferColumns } from "./rows.js";
import { applyTransfers, type BatchOptions, type BatchResult } from "./transfer-batch.js";

export type { StoredAccount } from "./rows.js";
export type { BatchResult } from "./transfer-batch.js";

export type AccountOutcome =
  | { status: "created" | "exists"; account: StoredAccount; opening: StoredTransfer | undefined }
  | { status: "different"; field: string; account: StoredAccount };

/** An account's opening balance could not be booked (equity would overflow, or is closed): nothing was created. */
export class OpeningRefusedError extends Error {
  override name = "OpeningRefusedError";
  constructor(
    /** The account's position in the create request. */
    readonly index: number,
    readonly command: AccountCommand,
    readonly status: CreateTransferStatus,
    readonly reason: string,
  ) {
    super(`the opening balance of account ${command.id} cannot be booked: ${reason}`);
  }
}

/** Retries of a batch that lost a race on a new id (another writer inserted it first). */
const idRaceAttemptsMax = 4;

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

async function lockAccount(tx: Queryable, id: string): Promise<StoredAccount | undefined> {
  const { rows } = await tx.query<AccountRow>(`SELECT ${accountColumns} FROM ledger_accounts WHERE id = $1 FOR UPDATE`, [id]);
  return rows[0] && toAccount(rows[0]);
}

function accountAudit(kind: string, account: { id: string }, details: Record<string, string | boolean>): AuditEntry {
  return { kind, subject: account.id, payload: JSON.stringify(details) };
}

export type LedgerStore = ReturnType<typeof createLedgerStore>;

export function createLedgerStore(db: Db, key: AuditKey) {
  /** Sets an account's status; `undefined` when it does not exist. */
  const setStatus = (id: string, to: "OPEN" | "CLOSED", allowed: (a: StoredAccount) => boolean) =>
    db.transaction(async (tx) => {
      const account = await lockAccount(tx, id);
      if (!account || account.status === to || !allowed(account)) return account;
      const closedAt = to === "CLOSED" ? "now()" : "NULL";
      const { rows } = await tx.query<AccountRow>(
        `UPDATE ledger_accounts SET status = $2, closed_at = ${closedAt} WHERE id = $1 RETURNING ${accountColumns}`,
        [id, to],
      );
      await appendAudit(tx, key, [accountAudit(to === "CLOSED" ? "account.close" : "account.reopen", account, {})]);
      return rows[0] && toAccount(rows[0]);
    });

  return {
    createTransfers: (commands: readonly TransferCommand[], options?: BatchOptions): Promise<BatchResult> =>
      retryingIdRaces(db, (tx) => applyTransfers(tx, key, commands, options)),

    createAccounts: (commands: readonly AccountCommand[]) => retryingIdRaces(db, (tx) => createAccounts(tx, key, commands)),

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

    /** Closes an account whose balances are all zero (no posted or pending money). */
    closeAccount: (id: string) =>
      setStatus(
        id,
        "CLOSED",
        (a) => a.debitsPostedMinor === a.creditsPostedMinor && a.debitsPendingMinor === 0n && a.creditsPendingMinor === 0n,
      ),

    reopenAccount: (id: string) => setStatus(id, "OPEN", () => true),

    async getTransfer(id: string) {
      const { rows } = await db.query<TransferRow>(`SELECT ${transferColumns} FROM ledger_transfers WHERE id = $1`, [id]);
      return rows[0] && toTransfer(rows[0]);
    },

    async listTransfers(filter: { accountId: string; fromTime: Date | null; toTime: Date | null; afterSeq: bigint; limit: number }) {
      const { rows } = await db.query<TransferRow>(
        `SELECT ${transferColumns} FROM ledger_transfers
          WHERE (debit_account_id = $1 OR credit_account_id = $1) AND commit_seq > $2
            AND ($3::timestamptz IS NULL OR date_trunc('milliseconds', created_at) >= $3)
            AND ($4::timestamptz IS NULL OR date_trunc('milliseconds', created_at) < $4)
          ORDER BY commit_seq LIMIT $5`,
        [filter.accountId, filter.afterSeq.toString(), filter.fromTime, filter.toTime, filter.limit],
      );
      return rows.map(toTransfer);
    },

    /** Committed transfers after `afterSeq` in commit order, optionally for one account. */
    async transfersAfter(afterSeq: bigint, accountId: string, limit: number) {
      const { rows } = await db.query<TransferRow>(
        `SELECT ${transferColumns} FROM ledger_transfers
          WHERE commit_seq > $1 AND ($2 = '' OR debit_account_id = $2 OR credit_account_id = $2)
          ORDER BY commit_seq LIMIT $3`,
        [afterSeq.toString(), accountId, limit],
      );
      return rows.map(toTransfer);
    },

    /** Open pending transfers whose timeout has passed, oldest expiry first. */
    async expiredPendingIds(limit: number): Promise<string[]> {
      const { rows } = await db.query<{ transfer_id: string }>(
        `SELECT transfer_id FROM ledger_pending
          WHERE state = 'PENDING' AND expires_at IS NOT NULL AND expires_at <= now()
          ORDER BY expires_at LIMIT $1`,
        [limit],
      );
      return rows.map((row) => row.transfer_id);
    },

    /**
     * Posted sums of the account's transfers created at or before `asOf`. Times compare at
     * the millisecond, the precision clients see, so a transfer's own created_at includes it.
     */
    async postedAsOf(accountId: string, asOf: Date) {
      const { rows } = await db.query<{ debits: string; credits: string }>(
        `SELECT COALESCE(SUM(amount) FILTER (WHERE debit_account_id = $1), 0)::text AS debits,
                COALESCE(SUM(amount) FILTER (WHERE credit_account_id = $1), 0)::text AS credits
           FROM ledger_transfers
          WHERE (debit_account_id = $1 OR credit_account_id = $1) AND kind = ANY($3::integer[])
            AND date_trunc('milliseconds', created_at) <= $2`,
        [accountId, asOf, postedTransferKinds],
      );
      const row = rows[0];
      return { debitsPostedMinor: BigInt(row?.debits ?? 0), creditsPostedMinor: BigInt(row?.credits ?? 0) };
    },

    verifyAudit: () => verifyAudit(db, new Map([[key.keyId, key.secret]])),
  };
}

async function createAccounts(tx: Queryable, key: AuditKey, commands: readonly AccountCommand[]): Promise<AccountOutcome[]> {
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
  const audit = [...fresh.values()].map((c) =>
    accountAudit("account.create", c, {
      type: String(c.type),
      currency: c.currency,
      owner: c.ownerId,
      noOverdraft: c.debitsMustNotExceedCredits,
    }),
  );
  const opened = await applyTransfers(tx, key, funded.map(openingTransfer), { audit });
  // An account without the balance it was asked for is not the account asked for: throwing
  // rolls the whole create back (accounts, audit, the failure row), so nothing is left behind.
  opened.plan.outcomes.forEach((outcome, i) => {
    const command = funded[i];
    const failed = outcome.status !== CreateTransferStatus.CREATED && outcome.status !== CreateTransferStatus.EXISTS;
    if (failed && command && "message" in outcome) {
      throw new OpeningRefusedError(commands.indexOf(command), command, outcome.status, outcome.message);
    }
  });
  for (const transfer of opened.created.values()) openingById.set(transfer.id, transfer);
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

/** A plain transfer command with every optional part empty. */
export function simpleTransfer(
  fields: Pick<TransferCommand, "id" | "debitAccountId" | "creditAccountId" | "amountMinor" | "currency" | "reference" | "kind">,
): TransferCommand {
  return { pendingId: "", reversalOf: "", timeoutSeconds: 0, linked: false, balancing: false, exchangeRate: "", ...fields };
}

function openingTransfer(command: AccountCommand): TransferCommand {
  return simpleTransfer({
    id: openingTransferId(command.id),
    debitAccountId: equityAccountId(command.currency),
    creditAccountId: command.id,
    amountMinor: command.initialBalanceMinor,
    currency: command.currency,
    reference: "opening balance",
    kind: TransferKind.OPENING_BALANCE,
  });
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
