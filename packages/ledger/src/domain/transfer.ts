// The rules of a batch of transfers, applied in memory in order: each transfer sees the
// effects of the ones before it. No I/O: the store locks the accounts, calls planTransfers,
// and writes what it returns.
import { CreateTransferStatus as Status, type TransferKind } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { amountMinorMax } from "@qenex/platform";
import { type AccountState, availableMinor } from "./account.js";

export { Status as CreateTransferStatus };

/** Most transfers in one request, as TigerBeetle's batch (8,190 events). */
export const transfersPerBatchMax = 8190;

export type TransferCommand = {
  id: string;
  debitAccountId: string;
  creditAccountId: string;
  amountMinor: bigint;
  currency: string;
  reference: string;
  kind: TransferKind;
};

export type StoredTransfer = TransferCommand & { createdAt: Date };

export type StoredFailure = TransferCommand & { status: Status; message: string };

export type TransferOutcome =
  | { status: Status.CREATED; transfer: TransferCommand }
  | { status: Status.EXISTS; transfer: TransferCommand | StoredTransfer }
  | { status: Status.EXISTS_WITH_DIFFERENT_FIELDS; field: string; message: string }
  | { status: FailureStatus; message: string; repeated: boolean };

export type FailureStatus = Exclude<Status, Status.UNSPECIFIED | Status.CREATED | Status.EXISTS | Status.EXISTS_WITH_DIFFERENT_FIELDS>;

export type Plan = {
  outcomes: TransferOutcome[];
  created: TransferCommand[];
  failed: StoredFailure[];
};

/** The first field (wire name) in which a retried transfer differs from the stored one. */
export function firstTransferDifference(stored: TransferCommand, retried: TransferCommand): string | undefined {
  if (stored.debitAccountId !== retried.debitAccountId) return "source_account";
  if (stored.creditAccountId !== retried.creditAccountId) return "destination_account";
  if (stored.amountMinor !== retried.amountMinor) return "amount";
  if (stored.currency !== retried.currency) return "currency";
  if (stored.reference !== retried.reference) return "reference";
  return undefined;
}

/**
 * Decides every transfer of a batch. `accounts` holds the locked accounts and is updated
 * in place with the balances after the batch; `known` and `failedBefore` are the stored
 * transfers and failures with ids from this batch.
 */
export function planTransfers(
  commands: readonly TransferCommand[],
  accounts: Map<string, AccountState>,
  known: ReadonlyMap<string, StoredTransfer>,
  failedBefore: ReadonlyMap<string, StoredFailure>,
): Plan {
  const createdNow = new Map<string, TransferCommand>();
  const failedNow = new Map<string, StoredFailure>();
  const plan: Plan = { outcomes: [], created: [], failed: [] };
  for (const command of commands) {
    const previous = known.get(command.id) ?? createdNow.get(command.id);
    if (previous) {
      plan.outcomes.push(outcomeOfRetry(previous, command));
      continue;
    }
    const failure = failedBefore.get(command.id) ?? failedNow.get(command.id);
    if (failure) {
      plan.outcomes.push({ status: failure.status, message: failure.message, repeated: true } as TransferOutcome);
      continue;
    }
    const rejection = check(command, accounts);
    if (rejection) {
      const stored: StoredFailure = { ...command, ...rejection };
      failedNow.set(command.id, stored);
      plan.failed.push(stored);
      plan.outcomes.push({ ...rejection, repeated: false });
      continue;
    }
    post(command, accounts);
    createdNow.set(command.id, command);
    plan.created.push(command);
    plan.outcomes.push({ status: Status.CREATED, transfer: command });
  }
  return plan;
}

function outcomeOfRetry(previous: TransferCommand | StoredTransfer, command: TransferCommand): TransferOutcome {
  const field = firstTransferDifference(previous, command);
  if (field === undefined) return { status: Status.EXISTS, transfer: previous };
  return {
    status: Status.EXISTS_WITH_DIFFERENT_FIELDS,
    field,
    message: `transfer ${command.id} already exists with a different ${field}`,
  };
}

function check(
  command: TransferCommand,
  accounts: ReadonlyMap<string, AccountState>,
): { status: FailureStatus; message: string } | undefined {
  const debit = accounts.get(command.debitAccountId);
  const credit = accounts.get(command.creditAccountId);
  if (!debit) return { status: Status.SOURCE_ACCOUNT_NOT_FOUND, message: `source account ${command.debitAccountId} not found` };
  if (!credit) {
    return { status: Status.DESTINATION_ACCOUNT_NOT_FOUND, message: `destination account ${command.creditAccountId} not found` };
  }
  for (const account of [debit, credit]) {
    if (account.currency !== command.currency) {
      return {
        status: Status.CURRENCY_MISMATCH,
        message: `account ${account.id} holds ${account.currency}, the transfer is in ${command.currency}`,
      };
    }
  }
  if (debit.status === "CLOSED") return { status: Status.SOURCE_ACCOUNT_CLOSED, message: `source account ${debit.id} is closed` };
  if (credit.status === "CLOSED") {
    return { status: Status.DESTINATION_ACCOUNT_CLOSED, message: `destination account ${credit.id} is closed` };
  }
  if (debit.debitsMustNotExceedCredits && availableMinor(debit) < command.amountMinor) {
    return { status: Status.INSUFFICIENT_FUNDS, message: `insufficient funds in account ${debit.id}` };
  }
  if (debit.debitsPostedMinor + command.amountMinor > amountMinorMax || credit.creditsPostedMinor + command.amountMinor > amountMinorMax) {
    return { status: Status.OVERFLOW, message: "the transfer would overflow an account's 64-bit balance" };
  }
  return undefined;
}

function post(command: TransferCommand, accounts: Map<string, AccountState>): void {
  const debit = accounts.get(command.debitAccountId);
  const credit = accounts.get(command.creditAccountId);
  if (!debit || !credit || command.amountMinor <= 0n) throw new Error("post() after a failed check()");
  debit.debitsPostedMinor += command.amountMinor;
  credit.creditsPostedMinor += command.amountMinor;
  if (debit.debitsMustNotExceedCredits && availableMinor(debit) < 0n) {
    throw new Error(`invariant broken: account ${debit.id} overdrawn`);
  }
}
