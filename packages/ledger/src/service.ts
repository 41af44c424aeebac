// LedgerService RPC handlers: thin translations between wire messages, the domain and the
// store.
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
  type LedgerService,
  ListAccountsRequestSchema,
  ListTransfersRequestSchema,
} from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { DomainError, type Role, requireRole } from "@qenex/platform";
import { accountMessage, balanceMessage, transferMessage } from "./convert.js";
import type { TransferOutcome } from "./domain/transfer.js";
import { decodePageToken, encodePageToken, parseAccount, parseAll, parseTransfer } from "./requests.js";
import type { AccountOutcome, LedgerStore, TransfersResult } from "./store/ledger-store.js";

const readers: readonly Role[] = ["admin", "operator", "auditor", "service"];
const writers: readonly Role[] = ["admin", "operator", "service"];
const pageSizeDefault = 100;

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
const transferErrorCodes: Record<number, { code: Code; field?: string }> = {
  [CreateTransferStatus.EXISTS_WITH_DIFFERENT_FIELDS]: { code: Code.AlreadyExists },
  [CreateTransferStatus.SOURCE_ACCOUNT_NOT_FOUND]: { code: Code.NotFound, field: "source_account" },
  [CreateTransferStatus.DESTINATION_ACCOUNT_NOT_FOUND]: { code: Code.NotFound, field: "destination_account" },
  [CreateTransferStatus.CURRENCY_MISMATCH]: { code: Code.InvalidArgument, field: "currency" },
  [CreateTransferStatus.SOURCE_ACCOUNT_CLOSED]: { code: Code.FailedPrecondition, field: "source_account" },
  [CreateTransferStatus.DESTINATION_ACCOUNT_CLOSED]: { code: Code.FailedPrecondition, field: "destination_account" },
  [CreateTransferStatus.INSUFFICIENT_FUNDS]: { code: Code.FailedPrecondition, field: "amount" },
  [CreateTransferStatus.OVERFLOW]: { code: Code.OutOfRange, field: "amount" },
};

function transferResult(outcome: TransferOutcome, index: number, createdAt: Date) {
  switch (outcome.status) {
    case CreateTransferStatus.CREATED:
      return create(CreateTransferResultSchema, { index, status: outcome.status, transfer: transferMessage(outcome.transfer, createdAt) });
    case CreateTransferStatus.EXISTS: {
      const at = "createdAt" in outcome.transfer ? outcome.transfer.createdAt : createdAt;
      return create(CreateTransferResultSchema, { index, status: outcome.status, transfer: transferMessage(outcome.transfer, at) });
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

export function createLedgerHandlers(store: LedgerStore): Partial<ServiceImpl<typeof LedgerService>> {
  const accountOrThrow = async (id: string) => {
    const account = await store.getAccount(id);
    if (!account) throw new DomainError(Code.NotFound, `account ${id} not found`, "account_id");
    return account;
  };
  const single = async ({ plan, createdAt }: TransfersResult) => {
    const outcome = plan.outcomes[0];
    if (!outcome) throw new Error("a single create produced no outcome");
    const result = transferResult(outcome, 0, createdAt);
    if (outcome.status === CreateTransferStatus.CREATED || outcome.status === CreateTransferStatus.EXISTS) {
      return { transfer: result.transfer, existed: outcome.status === CreateTransferStatus.EXISTS };
    }
    const mapped = transferErrorCodes[outcome.status] ?? { code: Code.FailedPrecondition };
    const field = "field" in outcome ? outcome.field : mapped.field;
    throw new DomainError(mapped.code, result.message, field);
  };

  return {
    async createAccount(req, ctx: HandlerContext) {
      requireRole(ctx, writers);
      const parsed = parseAccount(req);
      rejectIfInvalid(parsed.violations);
      if (!parsed.command) throw new Error("unreachable: parsed without command");
      const [outcome] = await store.createAccounts([parsed.command]);
      if (!outcome) throw new Error("a single create produced no outcome");
      if (outcome.status === "different") {
        throw new DomainError(Code.AlreadyExists, accountResult(outcome, 0).message, outcome.field);
      }
      return {
        account: accountMessage(outcome.account),
        balance: balanceMessage(outcome.account, new Date()),
        ...(outcome.opening ? { openingTransfer: transferMessage(outcome.opening, outcome.opening.createdAt) } : {}),
      };
    },

    async createAccounts(req, ctx) {
      requireRole(ctx, writers);
      const field = CreateAccountsRequestSchema.field.accounts;
      if (!field) throw new Error("schema without accounts field");
      const { commands, violations } = parseAll(req.accounts, field, parseAccount);
      rejectIfInvalid(violations);
      const outcomes = await store.createAccounts(commands);
      return { results: outcomes.map(accountResult) };
    },

    async getAccount(req, ctx) {
      requireRole(ctx, readers);
      const account = await accountOrThrow(req.accountId);
      return { account: accountMessage(account), balance: balanceMessage(account, new Date()) };
    },

    async listAccounts(req, ctx) {
      requireRole(ctx, readers);
      const afterId = decodePageToken(req.page?.pageToken ?? "", (key) => key.length <= 64);
      if (afterId === undefined) throw pageTokenViolation(ListAccountsRequestSchema);
      const limit = req.page?.pageSize || pageSizeDefault;
      const accounts = await store.listAccounts({ currency: req.currency, type: req.accountType, ownerId: req.ownerId, afterId, limit });
      const last = accounts.length === limit ? accounts.at(-1) : undefined;
      return { accounts: accounts.map(accountMessage), page: { nextPageToken: last ? encodePageToken(last.id) : "" } };
    },

    async closeAccount(req, ctx) {
      requireRole(ctx, writers);
      const account = await store.closeAccount(req.accountId);
      if (!account) throw new DomainError(Code.NotFound, `account ${req.accountId} not found`, "account_id");
      if (account.status !== "CLOSED") {
        throw new DomainError(Code.FailedPrecondition, `account ${account.id} still holds money; move it out before closing`, "account_id");
      }
      return { account: accountMessage(account) };
    },

    async getBalance(req, ctx) {
      requireRole(ctx, readers);
      const account = await accountOrThrow(req.accountId);
      if (!req.asOf) return { balance: balanceMessage(account, new Date()) };
      const asOf = timestampDate(req.asOf);
      const posted = await store.postedAsOf(account.id, asOf);
      return { balance: balanceMessage({ ...account, ...posted, debitsPendingMinor: 0n, creditsPendingMinor: 0n }, asOf) };
    },

    async createTransfer(req, ctx) {
      requireRole(ctx, writers);
      const parsed = parseTransfer(req);
      rejectIfInvalid(parsed.violations);
      if (!parsed.command) throw new Error("unreachable: parsed without command");
      return single(await store.createTransfers([parsed.command]));
    },

    async createTransfers(req, ctx) {
      requireRole(ctx, writers);
      const field = CreateTransfersRequestSchema.field.transfers;
      if (!field) throw new Error("schema without transfers field");
      const { commands, violations } = parseAll(req.transfers, field, parseTransfer);
      rejectIfInvalid(violations);
      const { plan, createdAt } = await store.createTransfers(commands);
      return { results: plan.outcomes.map((outcome, index) => transferResult(outcome, index, createdAt)) };
    },

    async getTransfer(req, ctx) {
      requireRole(ctx, readers);
      const transfer = await store.getTransfer(req.transferId);
      if (!transfer) throw new DomainError(Code.NotFound, `transfer ${req.transferId} not found`, "transfer_id");
      return { transfer: transferMessage(transfer, transfer.createdAt) };
    },

    async listTransfers(req, ctx) {
      requireRole(ctx, readers);
      await accountOrThrow(req.accountId);
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
        transfers: transfers.map((t) => transferMessage(t, t.createdAt)),
        page: { nextPageToken: last ? encodePageToken(last.seq.toString()) : "" },
      };
    },
  };
}
