// planTransfers: decides every transfer of a batch, in order, against in-memory state.
// Linked chains succeed or fail as one: on a failure the chain's effects are undone and
// its other members report LINKED_EVENT_FAILED.
import { CreateTransferStatus as Status, TransferKind } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { amountMinorMax, formatMoney, parseMoney } from "@qenex/platform";
import { type AccountState, availableMinor } from "./account.js";
import {
  type BatchState,
  type FailureStatus,
  firstTransferDifference,
  isPosted,
  type NewTransfer,
  type Plan,
  type StoredFailure,
  type TransferCommand,
  type TransferOutcome,
} from "./transfer.js";

type Rejection = { status: FailureStatus; message: string };
type Scratch = { created: Map<string, NewTransfer>; failed: Map<string, StoredFailure> };

/**
 * `segmentEnds` are the indexes after which a chain must be closed (the ends of the
 * requests a group commit merged); the batch's end always is one.
 */
export function planTransfers(commands: readonly TransferCommand[], state: BatchState, segmentEnds: readonly number[] = []): Plan {
  const plan: Plan = { outcomes: [], created: [], failed: [], pendingChanges: new Map() };
  const scratch: Scratch = { created: new Map(), failed: new Map() };
  const ends = new Set([...segmentEnds, commands.length - 1]);
  let chainStart = 0;
  let snapshot: Snapshot | undefined;
  for (let index = 0; index < commands.length; index++) {
    const command = commands[index] as TransferCommand;
    // Only a chain can need undoing: a lone transfer that fails has changed nothing.
    if (index === chainStart) snapshot = command.linked ? takeSnapshot(state, plan) : undefined;
    const outcome = decide(command, state, plan, scratch);
    plan.outcomes.push(outcome);
    const chainGoesOn = command.linked && !ends.has(index);
    const failedHere = isFailure(outcome);
    const openAtEnd = command.linked && ends.has(index);
    if (failedHere || openAtEnd) {
      const culprit =
        openAtEnd && !failedHere
          ? ({ status: Status.LINKED_EVENT_CHAIN_OPEN, message: "the batch ends inside a linked chain", repeated: false } as const)
          : outcome;
      index = failChain(commands, chainStart, index, culprit, state, plan, snapshot, scratch, ends);
      chainStart = index + 1;
      continue;
    }
    if (!chainGoesOn) chainStart = index + 1;
  }
  return plan;
}

function isFailure(outcome: TransferOutcome): boolean {
  return outcome.status !== Status.CREATED && outcome.status !== Status.EXISTS;
}

type Snapshot = ReturnType<typeof takeSnapshot>;

function takeSnapshot(state: BatchState, plan: Plan) {
  return {
    accounts: new Map([...state.accounts].map(([id, a]) => [id, { ...a }])),
    pendings: new Map(state.pendings),
    reversibles: new Map([...state.reversibles].map(([id, r]) => [id, { ...r }])),
    pendingChanges: new Map(plan.pendingChanges),
    createdCount: plan.created.length,
    failedCount: plan.failed.length,
  };
}

/**
 * Undoes the chain from `start`, gives the culprit its code and the chain's other members
 * LINKED_EVENT_FAILED (the members after the culprit are not evaluated). Returns the
 * index of the chain's last member.
 */
function failChain(
  commands: readonly TransferCommand[],
  start: number,
  culpritIndex: number,
  culprit: TransferOutcome,
  state: BatchState,
  plan: Plan,
  snapshot: Snapshot | undefined,
  scratch: Scratch,
  ends: ReadonlySet<number>,
): number {
  let last = culpritIndex;
  while (commands[last]?.linked && !ends.has(last)) last++;
  if (!snapshot) return last;
  state.accounts.clear();
  for (const [id, a] of snapshot.accounts) state.accounts.set(id, { ...a });
  state.pendings.clear();
  for (const [id, p] of snapshot.pendings) state.pendings.set(id, p);
  state.reversibles.clear();
  for (const [id, r] of snapshot.reversibles) state.reversibles.set(id, { ...r });
  plan.pendingChanges = new Map(snapshot.pendingChanges);
  for (const undone of plan.created.splice(snapshot.createdCount)) scratch.created.delete(undone.id);
  const keptFailures = plan.failed.splice(snapshot.failedCount);
  // Only the culprit's own failure is remembered; the others may succeed in another chain.
  const culpritFailure = keptFailures.find((f) => f.id === commands[culpritIndex]?.id);
  for (const f of keptFailures) scratch.failed.delete(f.id);
  if (culpritFailure) {
    plan.failed.push(culpritFailure);
    scratch.failed.set(culpritFailure.id, culpritFailure);
  }
  const linkedFailed: TransferOutcome = {
    status: Status.LINKED_EVENT_FAILED,
    message: "another transfer of its linked chain failed",
    repeated: false,
  };
  for (let i = start; i <= last; i++) plan.outcomes[i] = i === culpritIndex ? culprit : linkedFailed;
  return last;
}

function decide(command: TransferCommand, state: BatchState, plan: Plan, scratch: Scratch): TransferOutcome {
  const previous = state.known.get(command.id) ?? scratch.created.get(command.id);
  if (previous) {
    const field = firstTransferDifference(previous, command);
    if (field === undefined) return { status: Status.EXISTS, transfer: previous };
    return {
      status: Status.EXISTS_WITH_DIFFERENT_FIELDS,
      field,
      message: `transfer ${command.id} already exists with a different ${field}`,
    };
  }
  const failure = state.failedBefore.get(command.id) ?? scratch.failed.get(command.id);
  if (failure) return { status: failure.status as FailureStatus, message: failure.message, repeated: true };
  const result = apply(command, state, plan);
  if ("status" in result) {
    const stored: StoredFailure = { ...command, ...result };
    scratch.failed.set(command.id, stored);
    plan.failed.push(stored);
    return { ...result, repeated: false };
  }
  scratch.created.set(command.id, result);
  plan.created.push(result);
  return { status: Status.CREATED, transfer: result };
}

function apply(command: TransferCommand, state: BatchState, plan: Plan): NewTransfer | Rejection {
  switch (command.kind) {
    case TransferKind.POST_PENDING:
    case TransferKind.VOID_PENDING:
    case TransferKind.EXPIRE_PENDING:
      return resolvePending(command, state, plan);
    case TransferKind.REVERSAL:
      return reverse(command, state);
    default:
      return move(command, state, plan);
  }
}

/** A single-phase or pending transfer (also opening balances, reversals and FX legs). */
function move(command: TransferCommand, state: BatchState, plan: Plan): NewTransfer | Rejection {
  const accounts = checkAccounts(command, state);
  if ("status" in accounts) return accounts;
  const { debit, credit } = accounts;
  let amountMinor = command.amountMinor;
  if (command.balancing && debit.debitsMustNotExceedCredits) {
    const available = availableMinor(debit);
    amountMinor = available < amountMinor ? available : amountMinor;
  }
  if (amountMinor <= 0n || (debit.debitsMustNotExceedCredits && availableMinor(debit) < amountMinor)) {
    return { status: Status.INSUFFICIENT_FUNDS, message: `insufficient funds in account ${debit.id}` };
  }
  const pending = command.kind === TransferKind.PENDING;
  const debitAfter = (pending ? debit.debitsPendingMinor : debit.debitsPostedMinor) + amountMinor;
  const creditAfter = (pending ? credit.creditsPendingMinor : credit.creditsPostedMinor) + amountMinor;
  if (debitAfter > amountMinorMax || creditAfter > amountMinorMax) {
    return { status: Status.OVERFLOW, message: "the transfer would overflow an account's 64-bit balance" };
  }
  const expiresAt = pending && command.timeoutSeconds > 0 ? new Date(state.now.getTime() + command.timeoutSeconds * 1000) : undefined;
  if (pending) {
    debit.debitsPendingMinor = debitAfter;
    credit.creditsPendingMinor = creditAfter;
    plan.pendingChanges.set(command.id, { state: "PENDING", expiresAt, resolvedBy: "" });
  } else {
    debit.debitsPostedMinor = debitAfter;
    credit.creditsPostedMinor = creditAfter;
  }
  assertNotOverdrawn(debit);
  return { ...command, amountMinor, expiresAt };
}

function checkAccounts(command: TransferCommand, state: BatchState): { debit: AccountState; credit: AccountState } | Rejection {
  const debit = state.accounts.get(command.debitAccountId);
  const credit = state.accounts.get(command.creditAccountId);
  if (!debit) return { status: Status.SOURCE_ACCOUNT_NOT_FOUND, message: `source account ${command.debitAccountId} not found` };
  if (!credit) return { status: Status.DESTINATION_ACCOUNT_NOT_FOUND, message: `destination account ${command.creditAccountId} not found` };
  for (const account of [debit, credit]) {
    if (account.currency !== command.currency) {
      return {
        status: Status.CURRENCY_MISMATCH,
        message: `account ${account.id} holds ${account.currency}, the transfer is in ${command.currency}`,
      };
    }
  }
  if (debit.status === "CLOSED") return { status: Status.SOURCE_ACCOUNT_CLOSED, message: `source account ${debit.id} is closed` };
  if (credit.status === "CLOSED")
    return { status: Status.DESTINATION_ACCOUNT_CLOSED, message: `destination account ${credit.id} is closed` };
  return { debit, credit };
}

function assertNotOverdrawn(account: AccountState): void {
  if (account.debitsMustNotExceedCredits && availableMinor(account) < 0n) {
    throw new Error(`invariant broken: account ${account.id} overdrawn`);
  }
}

const resolvedStates = {
  POSTED: { status: Status.PENDING_TRANSFER_ALREADY_POSTED, text: "was already posted" },
  VOIDED: { status: Status.PENDING_TRANSFER_ALREADY_VOIDED, text: "was already voided" },
  EXPIRED: { status: Status.PENDING_TRANSFER_EXPIRED, text: "expired" },
} as const;

function resolvePending(command: TransferCommand, state: BatchState, plan: Plan): NewTransfer | Rejection {
  const entry = state.pendings.get(command.pendingId);
  const id = command.pendingId;
  if (!entry) return { status: Status.PENDING_TRANSFER_NOT_FOUND, message: `pending transfer ${id} not found` };
  const pending = entry.transfer;
  if (pending.kind !== TransferKind.PENDING)
    return { status: Status.PENDING_TRANSFER_NOT_PENDING, message: `transfer ${id} is not a pending transfer` };
  const current = plan.pendingChanges.get(id)?.state ?? entry.state;
  if (current !== "PENDING") {
    const { status, text } = resolvedStates[current];
    return { status, message: `pending transfer ${id} ${text}` };
  }
  const expired = pending.expiresAt !== undefined && pending.expiresAt.getTime() <= state.now.getTime();
  if (expired && command.kind !== TransferKind.EXPIRE_PENDING) {
    return { status: Status.PENDING_TRANSFER_EXPIRED, message: `pending transfer ${id} expired` };
  }
  if (!expired && command.kind === TransferKind.EXPIRE_PENDING) {
    return { status: Status.PENDING_TRANSFER_NOT_PENDING, message: `pending transfer ${id} has not expired` };
  }
  const mismatch = mismatchWithPending(command, pending);
  if (mismatch) return mismatch;
  const asked = askedAmountMinor(command, pending);
  if (typeof asked !== "bigint") return asked;
  const amountMinor = asked === 0n ? pending.amountMinor : asked;
  const pendingAmount = money(pending.amountMinor, pending.currency);
  if (command.kind === TransferKind.POST_PENDING && amountMinor > pending.amountMinor) {
    const message = `a post of ${money(amountMinor, pending.currency)} exceeds pending transfer ${id}'s ${pendingAmount}`;
    return { status: Status.EXCEEDS_PENDING_TRANSFER_AMOUNT, message };
  }
  if (command.kind !== TransferKind.POST_PENDING && amountMinor !== pending.amountMinor) {
    const message = `a void must release all of pending transfer ${id}: ${pendingAmount}, not ${money(amountMinor, pending.currency)}`;
    return { status: Status.PENDING_TRANSFER_HAS_DIFFERENT_AMOUNT, message };
  }
  return releaseAndPost(command, pending, amountMinor, state, plan);
}

/** An amount as the caller reads it: "15.00 USD", never minor units. */
function money(amountMinor: bigint, currency: string): string {
  return `${formatMoney(amountMinor, currency)} ${currency}`;
}

/** A post or void's amount (0n: all): sent in minor units, or as text in the pending transfer's currency. */
function askedAmountMinor(command: TransferCommand, pending: TransferCommand): bigint | Rejection {
  if (command.amountDecimal === undefined) return command.amountMinor;
  const parsed = parseMoney(command.amountDecimal, pending.currency);
  if (parsed.ok && parsed.amountMinor > 0n) return parsed.amountMinor;
  const reason = parsed.ok ? `"${command.amountDecimal}" is not greater than zero` : parsed.reason;
  return {
    status: Status.PENDING_TRANSFER_HAS_DIFFERENT_AMOUNT,
    message: `amount ${reason} (read in ${pending.currency}, the currency of pending transfer ${pending.id})`,
  };
}

function mismatchWithPending(command: TransferCommand, pending: TransferCommand): Rejection | undefined {
  const differs =
    (command.debitAccountId !== "" && command.debitAccountId !== pending.debitAccountId) ||
    (command.creditAccountId !== "" && command.creditAccountId !== pending.creditAccountId) ||
    (command.currency !== "" && command.currency !== pending.currency);
  if (!differs) return undefined;
  return {
    status: Status.PENDING_TRANSFER_HAS_DIFFERENT_ACCOUNTS,
    message: `pending transfer ${pending.id} is from ${pending.debitAccountId} to ${pending.creditAccountId} in ${pending.currency}`,
  };
}

function releaseAndPost(
  command: TransferCommand,
  pending: NewTransfer,
  amountMinor: bigint,
  state: BatchState,
  plan: Plan,
): NewTransfer | Rejection {
  const debit = state.accounts.get(pending.debitAccountId);
  const credit = state.accounts.get(pending.creditAccountId);
  if (!debit || !credit) throw new Error(`accounts of pending transfer ${pending.id} were not locked`);
  const posting = command.kind === TransferKind.POST_PENDING;
  if (posting && (debit.status === "CLOSED" || credit.status === "CLOSED")) {
    const closed = debit.status === "CLOSED" ? debit : credit;
    const status = closed === debit ? Status.SOURCE_ACCOUNT_CLOSED : Status.DESTINATION_ACCOUNT_CLOSED;
    return { status, message: `account ${closed.id} is closed` };
  }
  // Posting moves the amount into the posted columns, which may be near their limit already.
  if (posting && (debit.debitsPostedMinor + amountMinor > amountMinorMax || credit.creditsPostedMinor + amountMinor > amountMinorMax)) {
    return { status: Status.OVERFLOW, message: "the transfer would overflow an account's 64-bit balance" };
  }
  debit.debitsPendingMinor -= pending.amountMinor;
  credit.creditsPendingMinor -= pending.amountMinor;
  if (posting) {
    debit.debitsPostedMinor += amountMinor;
    credit.creditsPostedMinor += amountMinor;
  }
  assertNotOverdrawn(debit);
  const resolved = posting ? "POSTED" : command.kind === TransferKind.VOID_PENDING ? "VOIDED" : "EXPIRED";
  plan.pendingChanges.set(pending.id, { state: resolved, expiresAt: pending.expiresAt, resolvedBy: command.id });
  const { amountDecimal: _readAbove, ...sent } = command;
  return {
    ...sent,
    debitAccountId: pending.debitAccountId,
    creditAccountId: pending.creditAccountId,
    currency: pending.currency,
    amountMinor,
    expiresAt: undefined,
  };
}

function reverse(command: TransferCommand, state: BatchState): NewTransfer | Rejection {
  const entry = state.reversibles.get(command.reversalOf);
  const id = command.reversalOf;
  if (!entry) return { status: Status.REVERSED_TRANSFER_NOT_FOUND, message: `transfer ${id} not found` };
  const original = entry.transfer;
  const remainingMinor = original.amountMinor - entry.reversedMinor;
  const amountMinor = command.amountMinor === 0n ? remainingMinor : command.amountMinor;
  if (!isPosted(original.kind) || amountMinor <= 0n || amountMinor > remainingMinor) {
    const message = `transfer ${id} has ${money(remainingMinor, original.currency)} left to reverse`;
    return { status: Status.EXCEEDS_REVERSIBLE_AMOUNT, message };
  }
  const reversal: TransferCommand = {
    ...command,
    debitAccountId: original.creditAccountId,
    creditAccountId: original.debitAccountId,
    currency: original.currency,
    amountMinor,
    balancing: false,
  };
  const moved = move(reversal, state, { outcomes: [], created: [], failed: [], pendingChanges: new Map() });
  if ("status" in moved) return moved;
  state.reversibles.set(id, { transfer: original, reversedMinor: entry.reversedMinor + amountMinor });
  return moved;
}
