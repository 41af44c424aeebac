// The PaymentsService RPCs, thin: each authorizes, then reads or writes through the store;
// CreatePayment answers at VALIDATED and everything after happens in the workers.
import { create } from "@bufbuild/protobuf";
import { type Timestamp, timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { DeadLetterSchema, PaymentState, type PaymentsService, Rail } from "@qenex/gen/qenex/payments/v1/payments_pb.js";
import { Disposition } from "@qenex/gen/qenex/risk/v1/risk_pb.js";
import {
  DomainError,
  decodePageToken,
  encodePageToken,
  type Logger,
  type PaymentsConfig,
  type Principal,
  type Role,
  requireRole,
} from "@qenex/platform";
import { cancellableStates, finalStates } from "../domain/lifecycle.js";
import type { PaymentState as StateName } from "../domain/payment.js";
import { isListKey, type PaymentRow, type PaymentStore } from "../store/payment-store.js";
import type { Rail as RailName } from "../validation/rails.js";
import { messageToProto, paymentToProto, transitionToProto } from "./convert.js";
import { createIngest } from "./ingest.js";
import { badInput, readPaymentRequest } from "./payment-request.js";
import { transferIds } from "./processor.js";
import type { Upstreams } from "./upstreams.js";

// The range google.protobuf.Timestamp defines (and PostgreSQL's timestamptz holds): 0001-01-01 to 9999-12-31.
const timestampSecondsMin = -62_135_596_800n;
const timestampSecondsMax = 253_402_300_799n;

/** A filter's time as a Date, or INVALID_ARGUMENT naming the field when it is outside the Timestamp range. */
function dateWithinRange(timestamp: Timestamp, field: string): Date {
  if (
    timestamp.seconds < timestampSecondsMin ||
    timestamp.seconds > timestampSecondsMax ||
    timestamp.nanos < 0 ||
    timestamp.nanos > 999_999_999
  ) {
    throw badInput(`${field} must be from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z`, field);
  }
  return timestampDate(timestamp);
}

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
  const ingest = createIngest(deps);

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
      const afterKey = decodePageToken(req.page?.pageToken ?? "", isListKey);
      if (afterKey === undefined) throw badInput("page_token is not a token this server issued", "page.page_token");
      const { rows, nextKey } = await store.list({
        ...(req.state !== PaymentState.UNSPECIFIED ? { state: PaymentState[req.state] as StateName } : {}),
        ...(req.rail !== Rail.UNSPECIFIED ? { rail: Rail[req.rail] as RailName } : {}),
        ...(req.debtorAccount ? { debtorAccount: req.debtorAccount } : {}),
        ...(who.customerOnly ? { createdBy: who.principal.subject } : {}),
        ...(req.createdAfter ? { createdAfter: dateWithinRange(req.createdAfter, "created_after") } : {}),
        ...(req.createdBefore ? { createdBefore: dateWithinRange(req.createdBefore, "created_before") } : {}),
        ...(afterKey ? { afterKey } : {}),
        limit,
      });
      return { payments: rows.map((row) => paymentToProto(row)), page: { nextPageToken: nextKey ? encodePageToken(nextKey) : "" } };
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
      return ingest(req.content);
    },
  };
}
