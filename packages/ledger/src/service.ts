// LedgerService RPC handlers: thin translations between wire messages, the domain and the
// store.
import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { ValidationError, Violation } from "@bufbuild/protovalidate";
import { Code, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { PageRequestSchema } from "@qenex/gen/qenex/common/v1/paging_pb.js";
import {
  CreateAccountResultSchema,
  CreateAccountStatus,
  CreateAccountsRequestSchema,
  CreateTransferResultSchema,
  CreateTransferStatus,
  CreateTransfersRequestSchema,
  TransferKind as Kind,
  type LedgerService,
  ListAccountsRequestSchema,
  ListTransfersRequestSchema,
} from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { amountMinorMax, DomainError, decodePageToken, encodePageToken, formatMoney } from "@qenex/platform";
import { authorize, type Caller, ownerFilter, requireOwner, requireOwnSources, requireParty, requireWatchable } from "./access.js";
import { accountMessage, balanceMessage, transferMessage } from "./convert.js";
import { type AccountCommand, equityAccountId } from "./domain/account.js";
import type { TransferOutcome } from "./domain/transfer.js";
import { parseAccount, parseAll, parseAmount, parseTransfer } from "./requests.js";
import type { GroupCommitter, RequestResult } from "./store/group-commit.js";
import type { AccountOutcome, LedgerStore } from "./store/ledger-store.js";
import { OpeningRefusedError, simpleTransfer } from "./store/ledger-store.js";
import type { Notifier } from "./store/watch.js";

const pageSizeDefault = 100;
/** Transfers a WatchTransfers stream reads per round trip. */
const watchPageSize = 500;
/** How long a quiet watch stream waits before it looks again without a notification. */
const watchPollMs = 1000;
/** Open WatchTransfers streams per process. */
export const watchersMax = 1000;

function rejectIfInvalid(violations: Violation[]): void {
  if (violations.length > 0) throw new ValidationError(violations);
}

function pageTokenViolation(listSchema: typeof ListAccountsRequestSchema | typeof ListTransfersRequestSchema): ValidationError {
  const pageField = listSchema.field.page;
  if (!pageField) throw new Error("list request without page field");
  return new ValidationError([
    new Violation("is not a token this server issued", "qenex.page_token", [pageField, PageRequestSchema.field.pageToken], [], false),
  ]);
}

/** The error a single create returns for each failing status. */
export const transferErrorCodes: Record<number, { code: Code; field?: string }> = {
  [CreateTransferStatus.EXISTS_WITH_DIFFERENT_FIELDS]: { code: Code.AlreadyExists },
  [CreateTransferStatus.SOURCE_ACCOUNT_NOT_FOUND]: { code: Code.NotFound, field: "source_account" },
  [CreateTransferStatus.DESTINATION_ACCOUNT_NOT_FOUND]: { code: Code.NotFound, field: "destination_account" },
  [CreateTransferStatus.CURRENCY_MISMATCH]: { code: Code.InvalidArgument, field: "currency" },
  [CreateTransferStatus.SOURCE_ACCOUNT_CLOSED]: { code: Code.FailedPrecondition, field: "source_account" },
  [CreateTransferStatus.DESTINATION_ACCOUNT_CLOSED]: { code: Code.FailedPrecondition, field: "destination_account" },
  [CreateTransferStatus.INSUFFICIENT_FUNDS]: { code: Code.FailedPrecondition, field: "amount" },
  [CreateTransferStatus.OVERFLOW]: { code: Code.OutOfRange, field: "amount" },
  [CreateTransferStatus.LINKED_EVENT_CHAIN_OPEN]: { code: Code.InvalidArgument, field: "linked" },
  [CreateTransferStatus.PENDING_TRANSFER_NOT_FOUND]: { code: Code.NotFound, field: "pending_transfer_id" },
  [CreateTransferStatus.PENDING_TRANSFER_NOT_PENDING]: { code: Code.FailedPrecondition, field: "pending_transfer_id" },
  [CreateTransferStatus.PENDING_TRANSFER_ALREADY_POSTED]: { code: Code.FailedPrecondition, field: "pending_transfer_id" },
  [CreateTransferStatus.PENDING_TRANSFER_ALREADY_VOIDED]: { code: Code.FailedPrecondition, field: "pending_transfer_id" },
  [CreateTransferStatus.PENDING_TRANSFER_EXPIRED]: { code: Code.FailedPrecondition, field: "pending_transfer_id" },
  [CreateTransferStatus.EXCEEDS_PENDING_TRANSFER_AMOUNT]: { code: Code.FailedPrecondition, field: "amount" },
  [CreateTransferStatus.PENDING_TRANSFER_HAS_DIFFERENT_AMOUNT]: { code: Code.InvalidArgument, field: "amount" },
  [CreateTransferStatus.PENDING_TRANSFER_HAS_DIFFERENT_ACCOUNTS]: { code: Code.InvalidArgument, field: "pending_transfer_id" },
  [CreateTransferStatus.EXCEEDS_REVERSIBLE_AMOUNT]: { code: Code.FailedPrecondition, field: "amount" },
  [CreateTransferStatus.REVERSED_TRANSFER_NOT_FOUND]: { code: Code.NotFound, field: "transfer_id" },
};

function transferResult(outcome: TransferOutcome, index: number, created: RequestResult["created"], createdAt: Date) {
  switch (outcome.status) {
    case CreateTransferStatus.CREATED:
    case CreateTransferStatus.EXISTS: {
      const transfer = created.get(outcome.transfer.id) ?? { createdAt, ...outcome.transfer };
      return create(CreateTransferResultSchema, { index, status: outcome.status, transfer: transferMessage(transfer) });
    }
    case CreateTransferStatus.EXISTS_WITH_DIFFERENT_FIELDS:
      return create(CreateTransferResultSchema, { index, status: outcome.status, field: outcome.field, message: outcome.message });
    default:
      return create(CreateTransferResultSchema, {
        index,
        status: outcome.status,
        message: outcome.repeated ? `${outcome.message} (this transfer id failed before)` : outcome.message,
      });
  }
}

function accountResult(outcome: AccountOutcome, index: number) {
  const account = accountMessage(outcome.account);
  if (outcome.status === "different") {
    return create(CreateAccountResultSchema, {
      index,
      status: CreateAccountStatus.EXISTS_WITH_DIFFERENT_FIELDS,
      account,
      field: outcome.field,
      message: `account ${outcome.account.id} already exists with a different ${outcome.field}`,
    });
  }
  const status = outcome.status === "created" ? CreateAccountStatus.CREATED : CreateAccountStatus.EXISTS;
  return create(CreateAccountResultSchema, { index, status, account });
}

/**
 * Creates accounts, or fails whole when an opening balance cannot be booked: OUT_OF_RANGE
 * when equity's balance would pass what a BIGINT holds (the amount is valid, the ledger
 * cannot add it; the same code a transfer that overflows gets), else the transfer's code.
 * `field` names the request's field: "initial_balance" or "accounts[2].initial_balance".
 */
async function createAccountsWhole(store: LedgerStore, commands: AccountCommand[], field: (index: number) => string) {
  try {
    return await store.createAccounts(commands);
  } catch (error) {
    if (!(error instanceof OpeningRefusedError)) throw error;
    const { command, status, reason } = error;
    const asked = `${formatMoney(command.initialBalanceMinor, command.currency)} ${command.currency}`;
    const why =
      status === CreateTransferStatus.OVERFLOW
        ? `${equityAccountId(command.currency)} would pass the largest balance an account holds (${formatMoney(amountMinorMax, command.currency)} ${command.currency})`
        : reason;
    const code = transferErrorCodes[status]?.code ?? Code.FailedPrecondition;
    throw new DomainError(code, `${field(error.index)} ${asked} cannot be booked: ${why}; no account was created`, field(error.index));
  }
}

export type LedgerHandlerDeps = { store: LedgerStore; committer: GroupCommitter; notifier: Notifier };

export function createLedgerHandlers({ store, committer, notifier }: LedgerHandlerDeps): Partial<ServiceImpl<typeof LedgerService>> {
  let watchers = 0;
  /** The account, if the caller may see it; a customer gets PermissionDenied, not NotFound. */
  const visibleAccount = async (caller: Caller, id: string) => {
    const account = await store.getAccount(id);
    requireOwner(caller, account);
    if (!account) throw new DomainError(Code.NotFound, `account ${id} not found`, "account_id");
    return account;
  };
  const single = async ({ outcomes, created, createdAt }: RequestResult) => {
    const outcome = outcomes[0];
    if (!outcome) throw new Error("a single create produced no outcome");
    const result = transferResult(outcome, 0, created, createdAt);
    if (outcome.status === CreateTransferStatus.CREATED || outcome.status === CreateTransferStatus.EXISTS) {
      return { transfer: result.transfer, existed: outcome.status === CreateTransferStatus.EXISTS };
    }
    const mapped = transferErrorCodes[outcome.status] ?? { code: Code.FailedPrecondition };
    const field = "field" in outcome ? outcome.field : mapped.field;
    throw new DomainError(mapped.code, result.message, field);
  };

  return {
    async createAccount(req, ctx: HandlerContext) {
      authorize(ctx, "createAccount");
      const parsed = parseAccount(req);
      rejectIfInvalid(parsed.violations);
      if (!parsed.command) throw new Error("unreachable: parsed without command");
      const [outcome] = await createAccountsWhole(store, [parsed.command], () => "initial_balance");
      if (!outcome) throw new Error("a single create produced no outcome");
      if (outcome.status === "different") {
        throw new DomainError(Code.AlreadyExists, accountResult(outcome, 0).message, outcome.field);
      }
      return {
        account: accountMessage(outcome.account),
        balance: balanceMessage(outcome.account, new Date()),
        ...(outcome.opening ? { openingTransfer: transferMessage(outcome.opening) } : {}),
      };
    },

    async createAccounts(req, ctx) {
      authorize(ctx, "createAccounts");
      const field = CreateAccountsRequestSchema.field.accounts;
      if (!field) throw new Error("schema without accounts field");
      const { commands, violations } = parseAll(req.accounts, field, parseAccount);
      rejectIfInvalid(violations);
      const outcomes = await createAccountsWhole(store, commands, (index) => `accounts[${index}].initial_balance`);
      return { results: outcomes.map(accountResult) };
    },

    async getAccount(req, ctx) {
      const account = await visibleAccount(authorize(ctx, "getAccount"), req.accountId);
      return { account: accountMessage(account), balance: balanceMessage(account, new Date()) };
    },

    async listAccounts(req, ctx) {
      const ownerId = ownerFilter(authorize(ctx, "listAccounts"), req.ownerId);
      const afterId = decodePageToken(req.page?.pageToken ?? "", (key) => key.length <= 64);
      if (afterId === undefined) throw pageTokenViolation(ListAccountsRequestSchema);
      const limit = req.page?.pageSize || pageSizeDefault;
      const accounts = await store.listAccounts({ currency: req.currency, type: req.accountType, ownerId, afterId, limit });
      const last = accounts.length === limit ? accounts.at(-1) : undefined;
      return { accounts: accounts.map(accountMessage), page: { nextPageToken: last ? encodePageToken(last.id) : "" } };
    },

    async closeAccount(req, ctx) {
      authorize(ctx, "closeAccount");
      const account = await store.closeAccount(req.accountId);
      if (!account) throw new DomainError(Code.NotFound, `account ${req.accountId} not found`, "account_id");
      if (account.status !== "CLOSED") {
        throw new DomainError(Code.FailedPrecondition, `account ${account.id} still holds money; move it out before closing`, "account_id");
      }
      return { account: accountMessage(account) };
    },

    async getBalance(req, ctx) {
      const account = await visibleAccount(authorize(ctx, "getBalance"), req.accountId);
      if (!req.asOf) return { balance: balanceMessage(account, new Date()) };
      const asOf = timestampDate(req.asOf);
      const posted = await store.postedAsOf(account.id, asOf);
      return { balance: balanceMessage({ ...account, ...posted, debitsPendingMinor: 0n, creditsPendingMinor: 0n }, asOf) };
    },

    async createTransfer(req, ctx) {
      const caller = authorize(ctx, "createTransfer");
      const parsed = parseTransfer(req);
      rejectIfInvalid(parsed.violations);
      if (!parsed.command) throw new Error("unreachable: parsed without command");
      await requireOwnSources(store, caller, [parsed.command]);
      return single(await committer.submit([parsed.command]));
    },

    async createTransfers(req, ctx) {
      const caller = authorize(ctx, "createTransfers");
      const field = CreateTransfersRequestSchema.field.transfers;
      if (!field) throw new Error("schema without transfers field");
      const { commands, violations } = parseAll(req.transfers, field, parseTransfer);
      rejectIfInvalid(violations);
      await requireOwnSources(store, caller, commands);
      const { outcomes, created, createdAt } = await committer.submit(commands);
      return { results: outcomes.map((outcome, index) => transferResult(outcome, index, created, createdAt)) };
    },

    async getTransfer(req, ctx) {
      const caller = authorize(ctx, "getTransfer");
      const transfer = await store.getTransfer(req.transferId);
      await requireParty(store, caller, transfer);
      if (!transfer) throw new DomainError(Code.NotFound, `transfer ${req.transferId} not found`, "transfer_id");
      return { transfer: transferMessage(transfer) };
    },

    async listTransfers(req, ctx) {
      await visibleAccount(authorize(ctx, "listTransfers"), req.accountId);
      const after = decodePageToken(req.page?.pageToken ?? "", (key) => /^[0-9]{1,19}$/.test(key));
      if (after === undefined) throw pageTokenViolation(ListTransfersRequestSchema);
      const limit = req.page?.pageSize || pageSizeDefault;
      const transfers = await store.listTransfers({
        accountId: req.accountId,
        fromTime: req.startTime ? timestampDate(req.startTime) : null,
        toTime: req.endTime ? timestampDate(req.endTime) : null,
        afterSeq: BigInt(after || "0"),
        limit,
      });
      const last = transfers.length === limit ? transfers.at(-1) : undefined;
      return {
        transfers: transfers.map((t) => transferMessage(t)),
        page: { nextPageToken: last ? encodePageToken(last.sequence.toString()) : "" },
      };
    },

    async reopenAccount(req, ctx) {
      authorize(ctx, "reopenAccount");
      const account = await store.reopenAccount(req.accountId);
      if (!account) throw new DomainError(Code.NotFound, `account ${req.accountId} not found`, "account_id");
      return { account: accountMessage(account) };
    },

    async reverseTransfer(req, ctx) {
      authorize(ctx, "reverseTransfer");
      const original = await store.getTransfer(req.transferId);
      if (!original) throw new DomainError(Code.NotFound, `transfer ${req.transferId} not found`, "transfer_id");
      const amount = parseAmount(req.amount, original.currency, [], true);
      if ("violations" in amount) throw new ValidationError(amount.violations);
      const command = {
        ...simpleTransfer({
          id: req.reversalId || randomUUID(),
          debitAccountId: "",
          creditAccountId: "",
          amountMinor: amount.amountMinor,
          currency: "",
          reference: req.reference,
          kind: Kind.REVERSAL,
        }),
        reversalOf: original.id,
      };
      const { transfer, existed } = await single(await committer.submit([command]));
      return { ...(transfer ? { reversal: transfer } : {}), existed };
    },

    async verifyAudit(_req, ctx) {
      authorize(ctx, "verifyAudit");
      const verdict = await store.verifyAudit();
      return {
        intact: verdict.intact,
        entriesChecked: verdict.entriesChecked,
        firstBrokenSequence: verdict.firstBrokenSequence,
        reason: verdict.reason,
      };
    },

    async *watchTransfers(req, ctx) {
      const caller = authorize(ctx, "watchTransfers");
      if (caller.ownAccountsOnly) requireWatchable(caller, req.accountId, await store.getAccount(req.accountId));
      if (watchers >= watchersMax) throw new DomainError(Code.ResourceExhausted, `at most ${watchersMax} watchers per ledger process`);
      watchers++;
      try {
        let after = req.afterSequence;
        while (!ctx.signal.aborted) {
          const transfers = await store.transfersAfter(after, req.accountId, watchPageSize);
          for (const transfer of transfers) {
            yield { transfer: transferMessage(transfer) };
            after = transfer.sequence;
          }
          if (transfers.length < watchPageSize) await notifier.next(ctx.signal, watchPollMs);
        }
      } finally {
        watchers--;
      }
    },
  };
}
