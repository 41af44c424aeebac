// The PaymentsService RPCs. CreatePayment validates and routes synchronously (bad input is a
// 400 and nothing is stored); everything after VALIDATED happens in the workers.
import { createHash } from "node:crypto";
import { create, fromJsonString, toJsonString } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { CreateTransferStatus, TransferKind } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import {
  DeadLetterSchema,
  EntryStatus,
  type IngestedEntry,
  IngestedEntrySchema,
  IngestMessageResponseSchema,
  MessageFormat,
  PaymentState,
  type PaymentsService,
  Rail,
} from "@qenex/gen/qenex/payments/v1/payments_pb.js";
import { Disposition } from "@qenex/gen/qenex/risk/v1/risk_pb.js";
import {
  DomainError,
  decodePageToken,
  encodePageToken,
  formatMoney,
  type Logger,
  type PaymentsConfig,
  type Principal,
  type Role,
  requireRole,
} from "@qenex/platform";
import { cancellableStates, finalStates } from "../domain/lifecycle.js";
import type { PaymentState as StateName } from "../domain/payment.js";
import { InboundError, parseInbound } from "../rails/inbound.js";
import type { PaymentRow, PaymentStore } from "../store/payment-store.js";
import type { Rail as RailName } from "../validation/rails.js";
import { messageToProto, paymentToProto, railByEnum, transitionToProto } from "./convert.js";
import { badInput, ledgerAccountId, readPaymentRequest } from "./payment-request.js";
import { settlementAccount, transferIds } from "./processor.js";
import type { Upstreams } from "./upstreams.js";

const staff: readonly Role[] = ["admin", "operator", "service"];
const readers: readonly Role[] = ["admin", "operator", "auditor", "service"];
const analysts: readonly Role[] = ["admin", "operator"];

/** Who may call what; customers act only on payments from accounts they own. */
export const paymentsAccess = {
  createPayment: { roles: staff, customer: true },
  getPayment: { roles: readers, customer: true },
  listPayments: { roles: readers, customer: true },
  watchPayment: { roles: readers, customer: true },
  getPaymentMessage: { roles: readers, customer: true },
  reversePayment: { roles: staff, customer: true },
  reviewPayment: { roles: analysts, customer: false },
  ingestMessage: { roles: staff, customer: false },
  listDeadLetters: { roles: analysts, customer: false },
  requeueDeadLetter: { roles: analysts, customer: false },
} as const satisfies Record<keyof typeof PaymentsService.method, { roles: readonly Role[]; customer: boolean }>;

type Method = keyof typeof paymentsAccess;

function authorize(ctx: HandlerContext, method: Method): { principal: Principal; customerOnly: boolean } {
  const access = paymentsAccess[method];
  const principal = requireRole(ctx, access.customer ? [...access.roles, "customer"] : access.roles);
  return { principal, customerOnly: !principal.roles.some((role) => access.roles.includes(role)) };
}

const pageSizeDefault = 100;
const pageSizeMax = 1000;
/** Entries credited per ledger call when ingesting a file. */
const ingestBatchSize = 1000;
const watchRecheckMs = 1000;
/** Open WatchPayment streams per process; more are refused rather than slow everyone. */
export const watchersMax = 1000;

export type HandlerDeps = {
  store: PaymentStore;
  upstreams: Upstreams;
  config: PaymentsConfig;
  logger: Logger;
  ensureSettlementAccount(rail: RailName, currency: string): Promise<string>;
  /** Resolves when `paymentId` may have a new transition (NOTIFY), or after `timeoutMs`. */
  waitForTransition(paymentId: string, timeoutMs: number, signal: AbortSignal): Promise<void>;
};

export function createPaymentsHandlers(deps: HandlerDeps): ServiceImpl<typeof PaymentsService> {
  const { store, upstreams, config } = deps;

  async function ownsAccount(subject: string, accountId: string): Promise<boolean> {
    try {
      const { account } = await upstreams.ledger.call((options) => upstreams.ledger.client.getAccount({ accountId }, options));
      return account?.ownerId === subject;
    } catch (error) {
      if (ConnectError.from(error).code === Code.NotFound) return false;
      throw error;
    }
  }

  /** The payment, or NotFound, also for a customer's look at another's payment (no existence leak). */
  async function visiblePayment(paymentId: string, who: { principal: Principal; customerOnly: boolean }): Promise<PaymentRow> {
    const payment = await store.get(store.db, paymentId);
    if (!payment || (who.customerOnly && payment.createdBy !== who.principal.subject)) {
      throw new DomainError(Code.NotFound, `payment ${paymentId} not found`, "payment_id");
    }
    return payment;
  }

  let watchers = 0;

  async function* watch(paymentId: string, afterSequence: bigint, signal: AbortSignal) {
    let after = afterSequence;
    while (!signal.aborted) {
      const transitions = await store.transitions(store.db, paymentId, after, 100);
      if (transitions.length === 0) {
        await deps.waitForTransition(paymentId, watchRecheckMs, signal);
        continue;
      }
      const payment = await store.get(store.db, paymentId);
      if (!payment) return;
      for (const transition of transitions) {
        yield { transition: transitionToProto(transition), payment: paymentToProto(payment) };
        after = transition.sequence;
        if (finalStates.has(transition.to)) return;
      }
    }
  }

  return {
    async createPayment(req, ctx) {
      const who = authorize(ctx, "createPayment");
      const { fields, requestHash } = readPaymentRequest(req, config);
      if (who.customerOnly && !(await ownsAccount(who.principal.subject, fields.debtorAccount))) {
        throw new DomainError(Code.PermissionDenied, `account ${fields.debtorAccount} is not yours`, "debtor_account");
      }
      const subject = who.principal.subject;
      const { row, existed } = await store.create({ ...fields, requestHash, createdBy: subject }, `api:${subject}`);
      if (existed && (row.requestHash !== requestHash || row.createdBy !== subject)) {
        throw new DomainError(Code.AlreadyExists, `payment ${fields.paymentId} exists with different content`, "payment_id");
      }
      return { payment: paymentToProto(row), existed };
    },

    async getPayment(req, ctx) {
      const payment = await visiblePayment(req.paymentId, authorize(ctx, "getPayment"));
      return { payment: paymentToProto(payment, await store.transitions(store.db, payment.paymentId)) };
    },

    async listPayments(req, ctx) {
      const who = authorize(ctx, "listPayments");
      const limit = Math.min(req.page?.pageSize || pageSizeDefault, pageSizeMax);
      const afterKey = decodePageToken(req.page?.pageToken ?? "", (key) => /^\d{4}-\d\d-\d\dT[\d:.]+Z\|[A-Za-z0-9_-]{1,40}$/.test(key));
      if (afterKey === undefined) throw badInput("page_token is not a token this server issued", "page.page_token");
      const [createdAt = "", paymentId = ""] = afterKey.split("|");
      const rows = await store.list({
        ...(req.state !== PaymentState.UNSPECIFIED ? { state: PaymentState[req.state] as StateName } : {}),
        ...(req.rail !== Rail.UNSPECIFIED ? { rail: railByEnum[req.rail] } : {}),
        ...(req.debtorAccount ? { debtorAccount: req.debtorAccount } : {}),
        ...(who.customerOnly ? { createdBy: who.principal.subject } : {}),
        ...(req.createdAfter ? { createdAfter: timestampDate(req.createdAfter) } : {}),
        ...(req.createdBefore ? { createdBefore: timestampDate(req.createdBefore) } : {}),
        ...(afterKey ? { after: { createdAt, paymentId } } : {}),
        limit: limit + 1,
      });
      const page = rows.slice(0, limit);
      const last = page[page.length - 1] as (PaymentRow & { createdAtText: string }) | undefined;
      const nextPageToken = rows.length > limit && last ? encodePageToken(`${last.createdAtText}|${last.paymentId}`) : "";
      return { payments: page.map((row) => paymentToProto(row)), page: { nextPageToken } };
    },

    async *watchPayment(req, ctx) {
      const who = authorize(ctx, "watchPayment");
      await visiblePayment(req.paymentId, who);
      if (watchers >= watchersMax) {
        throw new DomainError(Code.ResourceExhausted, `${watchersMax} payment streams are open; try again later`);
      }
      watchers++;
      try {
        yield* watch(req.paymentId, req.afterSequence, ctx.signal);
      } finally {
        watchers--;
      }
    },

    async getPaymentMessage(req, ctx) {
      const payment = await visiblePayment(req.paymentId, authorize(ctx, "getPaymentMessage"));
      return { messages: (await store.messagesOf(store.db, payment.paymentId)).map(messageToProto) };
    },

    async reversePayment(req, ctx) {
      const who = authorize(ctx, "reversePayment");
      await visiblePayment(req.paymentId, who);
      const actor = `sender:${who.principal.subject}`;
      const row = await store.inTransaction(async (tx) => {
        const payment = await store.lock(tx, req.paymentId);
        if (!payment) throw new DomainError(Code.NotFound, `payment ${req.paymentId} not found`, "payment_id");
        if (cancellableStates.has(payment.state)) {
          const cancelled = await store.transition(tx, payment, "CANCELLED", `cancelled by the sender: ${req.reason}`, actor);
          if (payment.state === "SCREENED" || payment.state === "FUNDS_RESERVED") {
            await store.schedule(tx, {
              kind: "void",
              paymentId: payment.paymentId,
              payload: { transferId: transferIds.void(payment.paymentId, "first"), to: "", reason: "" },
            });
          }
          return cancelled;
        }
        if (payment.state === "SETTLED") {
          await store.schedule(tx, {
            kind: "return",
            paymentId: payment.paymentId,
            payload: { reason: `returned at the sender's request: ${req.reason}`, reasonCode: "CUST", initiator: "sender" },
          });
          return payment;
        }
        if (payment.state === "SUBMITTED" || payment.state === "ACCEPTED") {
          throw new DomainError(
            Code.FailedPrecondition,
            `payment ${payment.paymentId} is ${payment.state}: the ${payment.rail} network has it; it can be returned once settled`,
            "payment_id",
          );
        }
        throw new DomainError(Code.FailedPrecondition, `payment ${payment.paymentId} is already ${payment.state}`, "payment_id");
      });
      return { payment: paymentToProto(row) };
    },

    async reviewPayment(req, ctx) {
      const who = authorize(ctx, "reviewPayment");
      const held = await store.get(store.db, req.paymentId);
      if (!held) throw new DomainError(Code.NotFound, `payment ${req.paymentId} not found`, "payment_id");
      if (held.state !== "HELD_FOR_REVIEW") {
        throw new DomainError(Code.FailedPrecondition, `payment ${held.paymentId} is ${held.state}, not HELD_FOR_REVIEW`, "payment_id");
      }
      if (held.alertId) {
        // The analyst's own token closes the risk alert, so the alert records who decided.
        try {
          await upstreams.risk.call((options) =>
            upstreams.risk.client.resolveAlert(
              { alertId: held.alertId, disposition: req.approve ? Disposition.FALSE_POSITIVE : Disposition.CONFIRMED, note: req.note },
              { ...options, headers: { authorization: ctx.requestHeader.get("authorization") ?? "" } },
            ),
          );
        } catch (error) {
          // Already resolved in the risk service: the payment decision still stands.
          if (ConnectError.from(error).code !== Code.FailedPrecondition) throw error;
        }
      }
      const actor = `analyst:${who.principal.subject}`;
      const row = await store.inTransaction(async (tx) => {
        const payment = await store.lock(tx, req.paymentId);
        if (payment?.state !== "HELD_FOR_REVIEW") {
          throw new DomainError(Code.FailedPrecondition, `payment ${req.paymentId} is no longer HELD_FOR_REVIEW`, "payment_id");
        }
        if (!req.approve)
          return store.transition(tx, payment, "REJECTED", `rejected by analyst ${who.principal.subject}: ${req.note}`, actor);
        const approved = await store.transition(
          tx,
          payment,
          "SCREENED",
          `approved by analyst ${who.principal.subject}: ${req.note}`,
          actor,
        );
        await store.schedule(tx, { kind: "reserve", paymentId: payment.paymentId });
        return approved;
      });
      return { payment: paymentToProto(row) };
    },

    async listDeadLetters(req, ctx) {
      authorize(ctx, "listDeadLetters");
      const limit = Math.min(req.page?.pageSize || pageSizeDefault, pageSizeMax);
      const afterKey = decodePageToken(req.page?.pageToken ?? "", (key) => /^[1-9][0-9]{0,18}$/.test(key));
      if (afterKey === undefined) throw badInput("page_token is not a token this server issued", "page.page_token");
      const rows = await store.deadLetters(store.db, BigInt(afterKey || "0"), limit + 1);
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        deadLetters: page.map((row) =>
          create(DeadLetterSchema, { ...row, createdAt: timestampFromDate(row.createdAt), deadAt: timestampFromDate(row.deadAt) }),
        ),
        page: { nextPageToken: rows.length > limit && last ? encodePageToken(last.deadLetterId.toString()) : "" },
      };
    },

    async requeueDeadLetter(req, ctx) {
      authorize(ctx, "requeueDeadLetter");
      const outcome = await store.requeueDeadLetter(req.deadLetterId);
      if (outcome === "missing") throw new DomainError(Code.NotFound, `dead letter ${req.deadLetterId} not found`, "dead_letter_id");
      if (outcome === "network-event") {
        throw new DomainError(
          Code.FailedPrecondition,
          `dead letter ${req.deadLetterId} is a network answer; it cannot be requeued`,
          "dead_letter_id",
        );
      }
      if (outcome === "waiting") {
        throw new DomainError(Code.AlreadyExists, `the work of dead letter ${req.deadLetterId} is queued already`, "dead_letter_id");
      }
      return {};
    },

    async ingestMessage(req, ctx) {
      authorize(ctx, "ingestMessage");
      let inbound: ReturnType<typeof parseInbound>;
      try {
        inbound = parseInbound(req.content);
      } catch (error) {
        if (error instanceof InboundError) throw badInput(`message refused: ${error.message}`, "content");
        throw error;
      }
      const messageId = `${inbound.format}:${inbound.messageId}`;
      const contentHash = createHash("sha256").update(req.content).digest("hex");
      const format =
        inbound.format === "MT103" ? MessageFormat.MT103 : inbound.format === "NACHA" ? MessageFormat.NACHA : MessageFormat.ISO20022;
      const earlier = await store.ingested(store.db, messageId);
      if (earlier) return answerFromEarlier(earlier, contentHash, messageId);
      const rail: RailName = inbound.format === "NACHA" ? "ACH" : "SWIFT";
      const idPrefix = `in-${createHash("sha256").update(messageId).digest("hex").slice(0, 24)}`;
      const entries: IngestedEntry[] = [];
      for (let start = 0; start < inbound.entries.length; start += ingestBatchSize) {
        const slice = inbound.entries.slice(start, start + ingestBatchSize);
        // A beneficiary named only by its bank (MT103 :59A:) has no account of ours to credit.
        for (const entry of slice.filter((e) => !ledgerAccountId.test(e.creditorAccount))) {
          entries.push(
            create(IngestedEntrySchema, {
              index: entry.index,
              creditorAccount: entry.creditorAccount,
              creditorName: entry.creditorName,
              amount: { currency: entry.currency, amount: formatMoney(entry.amountMinor, entry.currency) },
              reference: entry.reference,
              status: EntryStatus.NO_ACCOUNT,
              reason:
                entry.creditorAccount === ""
                  ? "the message names no beneficiary account"
                  : `"${entry.creditorAccount}" is not an account id of ours`,
            }),
          );
        }
        const batch = slice.filter((e) => ledgerAccountId.test(e.creditorAccount));
        if (batch.length === 0) continue;
        for (const currency of new Set(batch.map((entry) => entry.currency))) await deps.ensureSettlementAccount(rail, currency);
        const response = await upstreams.ledger.call((options) =>
          upstreams.ledger.client.createTransfers(
            {
              transfers: batch.map((entry) => ({
                transferId: `${idPrefix}-${entry.index}`,
                sourceAccount: settlementAccount(rail, entry.currency),
                destinationAccount: entry.creditorAccount,
                amount: formatMoney(entry.amountMinor, entry.currency),
                currency: entry.currency,
                reference: `inbound ${inbound.format} ${inbound.messageId} #${entry.index} ${entry.reference}`.slice(0, 256),
                kind: TransferKind.TRANSFER,
              })),
            },
            options,
          ),
        );
        batch.forEach((entry, i) => {
          const result = response.results[i];
          const credited = result?.status === CreateTransferStatus.CREATED || result?.status === CreateTransferStatus.EXISTS;
          const noAccount =
            result?.status === CreateTransferStatus.DESTINATION_ACCOUNT_NOT_FOUND ||
            result?.status === CreateTransferStatus.DESTINATION_ACCOUNT_CLOSED ||
            result?.status === CreateTransferStatus.CURRENCY_MISMATCH;
          if (!credited && !noAccount) {
            throw new DomainError(
              Code.Internal,
              `ledger refused entry ${entry.index}: ${result ? CreateTransferStatus[result.status] : "no result"}; ingest again to finish`,
            );
          }
          entries.push(
            create(IngestedEntrySchema, {
              index: entry.index,
              creditorAccount: entry.creditorAccount,
              creditorName: entry.creditorName,
              amount: { currency: entry.currency, amount: formatMoney(entry.amountMinor, entry.currency) },
              reference: entry.reference,
              status: credited ? EntryStatus.CREDITED : EntryStatus.NO_ACCOUNT,
              transferId: credited ? `${idPrefix}-${entry.index}` : "",
              reason: credited ? "" : (result?.message ?? ""),
            }),
          );
        });
      }
      entries.sort((a, b) => a.index - b.index);
      const response = create(IngestMessageResponseSchema, { messageId, format, entries, existed: false });
      if (!(await store.recordIngest(messageId, inbound.format, contentHash, toJsonString(IngestMessageResponseSchema, response)))) {
        const recorded = await store.ingested(store.db, messageId);
        if (recorded) return answerFromEarlier(recorded, contentHash, messageId);
      }
      return response;
    },
  };

  function answerFromEarlier(earlier: { contentHash: string; result: string }, contentHash: string, messageId: string) {
    if (earlier.contentHash !== contentHash) {
      throw new DomainError(Code.AlreadyExists, `message ${messageId} was ingested before with different content`, "content");
    }
    return { ...fromJsonString(IngestMessageResponseSchema, earlier.result), existed: true };
  }
}
