// The rules of a batch of transfers, applied in memory in order: each transfer sees the
// effects of the ones before it. No I/O: the store locks what a batch touches, calls
// planTransfers, and writes what it returns.
import { type CreateTransferStatus as Status, TransferKind } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { parseMoney } from "@qenex/platform";
import type { AccountState } from "./account.js";

/** Most transfers in one request, as TigerBeetle's batch (8,190 events). */
export const transfersPerBatchMax = 8190;

export type TransferCommand = {
  id: string;
  /** Empty for POST/VOID/EXPIRE and REVERSAL: taken from the transfer they refer to. */
  debitAccountId: string;
  creditAccountId: string;
  /** 0n means "all" for POST_PENDING, VOID_PENDING and REVERSAL. */
  amountMinor: bigint;
  /**
   * A POST/VOID's amount as sent when it named no currency: only the pending transfer's
   * currency says how many minor units it is, so the batch reads it (amountMinor is 0n).
   */
  amountDecimal?: string;
  currency: string;
  reference: string;
  kind: TransferKind;
  /** The pending transfer a POST/VOID/EXPIRE resolves; "" otherwise. */
  pendingId: string;
  /** The transfer a REVERSAL undoes; "" otherwise. */
  reversalOf: string;
  timeoutSeconds: number;
  linked: boolean;
  /** Move up to amountMinor: what the debit account has available, if less. */
  balancing: boolean;
  exchangeRate: string;
};

export type StoredTransfer = TransferCommand & { createdAt: Date; expiresAt: Date | undefined; sequence: bigint };

export type StoredFailure = TransferCommand & { status: Status; message: string };

/** A transfer this batch creates, with its final accounts and amount. */
export type NewTransfer = TransferCommand & { expiresAt: Date | undefined };

export type PendingState = "PENDING" | "POSTED" | "VOIDED" | "EXPIRED";

export type PendingEntry = { transfer: StoredTransfer; state: PendingState };

export type ReversibleEntry = { transfer: StoredTransfer; reversedMinor: bigint };

export type FailureStatus = Exclude<Status, Status.UNSPECIFIED | Status.CREATED | Status.EXISTS | Status.EXISTS_WITH_DIFFERENT_FIELDS>;

export type TransferOutcome =
  | { status: Status.CREATED; transfer: NewTransfer }
  | { status: Status.EXISTS; transfer: NewTransfer | StoredTransfer }
  | { status: Status.EXISTS_WITH_DIFFERENT_FIELDS; field: string; message: string }
  | { status: FailureStatus; message: string; repeated: boolean };

/** What the batch reads besides the accounts; `pendings` and `reversibles` are updated in place. */
export type BatchState = {
  accounts: Map<string, AccountState>;
  known: ReadonlyMap<string, StoredTransfer>;
  failedBefore: ReadonlyMap<string, StoredFailure>;
  pendings: Map<string, PendingEntry>;
  reversibles: Map<string, ReversibleEntry>;
  now: Date;
};

export type Plan = {
  outcomes: TransferOutcome[];
  created: NewTransfer[];
  failed: StoredFailure[];
  /** Pending transfers whose state this batch changed (new ones included). */
  pendingChanges: Map<string, { state: PendingState; expiresAt: Date | undefined; resolvedBy: string }>;
};

/** Kinds whose amount moves posted money (so they can be reversed); the rest reserve or release. */
export const postedTransferKinds: readonly TransferKind[] = [
  TransferKind.TRANSFER,
  TransferKind.OPENING_BALANCE,
  TransferKind.POST_PENDING,
  TransferKind.REVERSAL,
];

export function isPosted(kind: TransferKind): boolean {
  return postedTransferKinds.includes(kind);
}

/** The first field (wire name) in which a retried transfer differs from the stored one. */
export function firstTransferDifference(stored: TransferCommand, retried: TransferCommand): string | undefined {
  if (stored.kind !== retried.kind) return "kind";
  if (retried.debitAccountId !== "" && stored.debitAccountId !== retried.debitAccountId) return "source_account";
  if (retried.creditAccountId !== "" && stored.creditAccountId !== retried.creditAccountId) return "destination_account";
  // A balancing transfer may have moved less than it asked for.
  const amountFits = retried.balancing ? stored.amountMinor <= retried.amountMinor : stored.amountMinor === retried.amountMinor;
  if (retried.amountMinor !== 0n && !amountFits) return "amount";
  if (retried.amountDecimal !== undefined) {
    const asked = parseMoney(retried.amountDecimal, stored.currency);
    if (!asked.ok || asked.amountMinor !== stored.amountMinor) return "amount";
  }
  if (retried.currency !== "" && stored.currency !== retried.currency) return "currency";
  if (stored.reference !== retried.reference) return "reference";
  if (stored.pendingId !== retried.pendingId) return "pending_transfer_id";
  if (stored.reversalOf !== retried.reversalOf) return "transfer_id";
  if (stored.linked !== retried.linked) return "linked";
  return undefined;
}
