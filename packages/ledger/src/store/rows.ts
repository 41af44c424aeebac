// Row shapes of the ledger's tables and their mapping to domain values. BIGINT arrives as a
// string and becomes a bigint; it never passes through a JS number.
import type { AccountType, TransferKind } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import type { AccountState } from "../domain/account.js";
import type { StoredTransfer, TransferCommand } from "../domain/transfer.js";

export type StoredAccount = AccountState & { createdAt: Date; closedAt: Date | undefined };

export type AccountRow = {
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

export type TransferRow = {
  id: string;
  debit_account_id: string;
  credit_account_id: string;
  amount: string;
  currency: string;
  reference: string;
  kind: number;
  created_at: Date;
  pending_id: string | null;
  expires_at: Date | null;
  linked: boolean;
  reversal_of: string | null;
  exchange_rate: string;
  commit_seq: string;
  signature: string;
  key_id: string;
};

export const accountColumns = `id, account_type, currency, owner_id, status, debits_must_not_exceed_credits,
  debits_posted, credits_posted, debits_pending, credits_pending, created_at, closed_at`;

export const transferColumns = `id, debit_account_id, credit_account_id, amount, currency, reference, kind, created_at,
  pending_id, expires_at, linked, reversal_of, exchange_rate, commit_seq, signature, key_id`;

export function toAccount(row: AccountRow): StoredAccount {
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

export type SignedTransfer = StoredTransfer & { signature: string; keyId: string };

export function toTransfer(row: TransferRow): SignedTransfer {
  return {
    id: row.id,
    debitAccountId: row.debit_account_id,
    creditAccountId: row.credit_account_id,
    amountMinor: BigInt(row.amount),
    currency: row.currency,
    reference: row.reference,
    kind: row.kind as TransferKind,
    pendingId: row.pending_id ?? "",
    reversalOf: row.reversal_of ?? "",
    timeoutSeconds: 0,
    linked: row.linked,
    balancing: false,
    exchangeRate: row.exchange_rate,
    createdAt: row.created_at,
    expiresAt: row.expires_at ?? undefined,
    sequence: BigInt(row.commit_seq),
    signature: row.signature,
    keyId: row.key_id,
  };
}

/** The columns both the transfers and the failures tables share, as parallel arrays. */
export function transferArrays(transfers: readonly TransferCommand[]): unknown[] {
  return [
    transfers.map((t) => t.id),
    transfers.map((t) => t.debitAccountId),
    transfers.map((t) => t.creditAccountId),
    transfers.map((t) => t.amountMinor.toString()),
    transfers.map((t) => t.currency),
    transfers.map((t) => t.reference),
    transfers.map((t) => t.kind),
    transfers.map((t) => t.pendingId || null),
    transfers.map((t) => t.reversalOf || null),
    transfers.map((t) => t.linked),
  ];
}
