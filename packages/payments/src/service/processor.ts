// What the workers do for each job, each network event and each ACH cut-off. Every handler
// is safe to run twice: ledger transfers and risk scores are keyed by the payment id, network
// submissions by the message id, and each state change re-checks the state under a row lock.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { AccountType, CreateTransferRequestSchema, CreateTransferStatus, TransferKind } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { Decision } from "@qenex/gen/qenex/risk/v1/risk_pb.js";
import { formatMoney, type Logger, type PaymentsConfig, type Queryable } from "@qenex/platform";
import { checkTransition } from "../domain/lifecycle.js";
import type { PaymentRecord, PaymentState } from "../domain/payment.js";
import { readNetworkReply } from "../rails/inbound.js";
import { achFilePaymentsMax, buildAchFile, buildCreditTransfer, buildReturn, isMessageRefusal } from "../rails/messages.js";
import { readSubmission } from "../rails/submission.js";
import type { ClearingNetwork, NetworkEvent, WireMessage } from "../rails/types.js";
import type { Job, JobKind, Move, NewJob, PaymentMessage, PaymentPatch, PaymentRow, PaymentStore } from "../store/payment-store.js";
import type { Rail } from "../validation/rails.js";
import type { PaymentsMetrics } from "./metrics.js";
import type { Upstreams } from "./upstreams.js";

export const transferIds = {
  hold: (paymentId: string) => `${paymentId}.hold`,
  post: (paymentId: string) => `${paymentId}.post`,
  /** A void whose pending transfer might not exist yet is a second id: the ledger keeps a failed id failing. */
  void: (paymentId: string, attempt: "first" | "after-reserve") => `${paymentId}.${attempt === "first" ? "void" : "void2"}`,
  return: (paymentId: string) => `${paymentId}.return`,
};

export function settlementAccount(rail: Rail, currency: string): string {
  return `settlement-${rail.toLowerCase()}-${currency}`;
}

export type ProcessorDeps = {
  store: PaymentStore;
  upstreams: Upstreams;
  networks: Readonly<Record<Rail, ClearingNetwork>>;
  config: PaymentsConfig;
  logger: Logger;
  metrics: Pick<PaymentsMetrics, "deadLettered">;
  now?: () => Date;
};

/** A job that cannot make progress yet (the payment has not reached the state it needs): try later. */
class NotYet extends Error {}
/** A network event this service cannot apply (unknown payment, an answer that does not name it, an impossible move). */
class UnreadableEvent extends Error {}

type TransferFields = MessageInitShape<typeof CreateTransferRequestSchema>;
type TransferResult = { status: CreateTransferStatus; message: string };
/**
 * What a batch's applies write, gathered and stored together when they are done: a statement
 * per kind of write for the whole batch, not one per payment.
 */
type BatchWrites = {
  /** Checks the move now and returns the payment as it will be; stored in order per payment. */
  move(payment: PaymentRow, to: PaymentState, reason: string, actor: string, patch?: PaymentPatch): PaymentRow;
  saveSent(message: WireMessage, rail: Rail, paymentId: string): void;
  schedule(job: NewJob): void;
};
/** A job's effect on its payment, decided in the batch's transaction on the locked row. */
type Apply = (tx: Queryable, locked: PaymentRow, writes: BatchWrites) => Promise<void>;
type Prepared = { job: Job; apply: Apply };
type Step = Prepared | { job: Job; error: unknown };
/** A job's apply, or the ledger transfer it needs first and how to read the ledger's answer. */
type Plan = Apply | { transfer: TransferFields; onResult: (result: TransferResult) => Apply };
export type JobFailure = { job: Job; error: unknown };
const done: Apply = async () => {};

const ledgerFailuresThatReject = new Map<CreateTransferStatus, string>([
  [CreateTransferStatus.SOURCE_ACCOUNT_NOT_FOUND, "the debtor account does not exist"],
  [CreateTransferStatus.SOURCE_ACCOUNT_CLOSED, "the debtor account is closed"],
  [CreateTransferStatus.INSUFFICIENT_FUNDS, "insufficient funds in the debtor account"],
  [CreateTransferStatus.CURRENCY_MISMATCH, "the debtor account holds another currency"],
]);

export function createProcessor(deps: ProcessorDeps) {
  const { store, upstreams, networks, config, logger, metrics } = deps;
  const now = deps.now ?? (() => new Date());
  const ensuredAccounts = new Set<string>();
  // A batch's payments ask at once: one CreateAccount per account, not one per payment.
  const ensuring = new Map<string, Promise<string>>();

  function ensureSettlementAccount(rail: Rail, currency: string): Promise<string> {
    const accountId = settlementAccount(rail, currency);
    if (ensuredAccounts.has(accountId)) return Promise.resolve(accountId);
    const pending = ensuring.get(accountId) ?? openSettlementAccount(accountId, currency).finally(() => ensuring.delete(accountId));
    ensuring.set(accountId, pending);
    return pending;
  }

  async function openSettlementAccount(accountId: string, currency: string): Promise<string> {
    try {
      await upstreams.ledger.call((options) =>
        upstreams.ledger.client.createAccount(
          { accountId, accountType: AccountType.SETTLEMENT, currency, ownerId: "qenex-payments", debitsMustNotExceedCredits: false },
          options,
        ),
      );
    } catch (error) {
      if (ConnectError.from(error).code !== Code.AlreadyExists) throw error;
    }
    ensuredAccounts.add(accountId);
    return accountId;
  }

  /** One CreateTransfers call for a whole batch: each item's result, in order. */
  async function ledgerTransfers(items: readonly TransferFields[]): Promise<TransferResult[]> {
    if (items.length === 0) return [];
    const response = await upstreams.ledger.call((options) =>
      upstreams.ledger.client.createTransfers({ transfers: items.map((fields) => create(CreateTransferRequestSchema, fields)) }, options),
    );
    if (response.results.length !== items.length) {
      throw new Error(`the ledger answered ${items.length} transfers with ${response.results.length} results`);
    }
    return response.results.map((result) => ({ status: result.status, message: result.message }));
  }

  const amountOf = (payment: PaymentRecord) => formatMoney(payment.amountMinor, payment.currency);

  /** A job's payment from the batch's one read; a job without one fails (retried, then parked). */
  function paymentOf(job: Job, payments: ReadonlyMap<string, PaymentRow>): PaymentRow {
    if (job.paymentId === null) throw new Error(`job ${job.kind} ${job.jobId} names no payment`);
    const payment = payments.get(job.paymentId);
    if (!payment) throw new Error(`job ${job.kind} ${job.jobId}: payment ${job.paymentId} does not exist`);
    return payment;
  }

  /**
   * Completes a batch in one transaction: locks its payments in one statement, runs each job's
   * apply on its locked payment (which re-checks the state), then stores what they wrote (sent
   * messages, then transitions, one statement per round of moves, then follow-up jobs) and
   * deletes the batch's jobs. A batch that only deletes its jobs needs no transaction.
   */
  async function finish(steps: readonly Prepared[]): Promise<void> {
    if (steps.length === 0) return;
    const jobIds = steps.map(({ job }) => job.jobId);
    if (steps.every(({ apply }) => apply === done)) {
      await store.completeJobs(store.db, jobIds);
      return;
    }
    await store.inTransaction(async (tx) => {
      const locked = await store.lockMany(
        tx,
        steps.flatMap(({ job }) => (job.paymentId === null ? [] : [job.paymentId])),
      );
      const writes = createBatchWrites();
      for (const { job, apply } of steps) {
        const payment = job.paymentId === null ? undefined : locked.get(job.paymentId);
        if (payment) await apply(tx, payment, writes);
      }
      await store.saveMessages(tx, "SENT", writes.sent);
      for (const round of writes.rounds) await store.transitionMany(tx, round);
      await store.scheduleMany(tx, writes.later);
      await store.completeJobs(tx, jobIds);
    });
  }

  function createBatchWrites(): BatchWrites & { sent: PaymentMessage[]; rounds: Move[][]; later: NewJob[] } {
    const sent: PaymentMessage[] = [];
    // A payment's first move goes in round 0, its second in round 1: each round moves a payment once.
    const rounds: Move[][] = [];
    const movesOf = new Map<string, number>();
    const later: NewJob[] = [];
    return {
      sent,
      rounds,
      later,
      move(payment, to, reason, actor, patch = {}) {
        checkTransition(payment.state, to);
        const round = movesOf.get(payment.paymentId) ?? 0;
        movesOf.set(payment.paymentId, round + 1);
        const moves = rounds[round] ?? [];
        rounds[round] = moves;
        moves.push({ payment, to, reason, actor, patch });
        return { ...payment, ...patch, state: to, stateReason: reason };
      },
      saveSent(message, rail, paymentId) {
        sent.push({ message, rail, paymentId });
      },
      schedule(job) {
        later.push(job);
      },
    };
  }

  /** What a return names as the original: the credit transfer's message id, or for ACH the entry's trace number. */
  async function originalReference(tx: Queryable, payment: PaymentRow): Promise<string> {
    const sent = (await store.messagesOf(tx, payment.paymentId)).find((message) => message.direction === "SENT");
    if (!sent) throw new Error(`payment ${payment.paymentId} has no sent message to return`);
    if (payment.rail !== "ACH") return sent.messageId;
    const entries = readSubmission("ACH", sent, await store.paymentIdsOf(tx, sent.messageId, "SENT"));
    const entry = entries.find((submitted) => submitted.paymentId === payment.paymentId)?.achItem?.original;
    if (!entry) throw new Error(`NACHA file ${sent.messageId} carries no entry for payment ${payment.paymentId}`);
    return entry.traceNumber;
  }

  /** Builds the rail's message, stores it as sent and queues its transmission: SUBMITTED. */
  function submit(payment: PaymentRow, writes: BatchWrites): void {
    const message = buildCreditTransfer(payment, { now: now(), ourBic: config.bic });
    writes.saveSent(message, payment.rail, payment.paymentId);
    writes.move(payment, "SUBMITTED", `${message.messageType} ${message.messageId} queued for ${payment.rail}`, "worker");
    writes.schedule({
      kind: "transmit",
      payload: { messageId: message.messageId, rail: payment.rail },
      dedupeKey: `transmit:${message.messageId}`,
    });
  }

  /** Each job's own work outside the transaction (an upstream call, concurrently), as its apply or its failure. */
  const each = (jobs: readonly Job[], work: (job: Job) => Promise<Apply>): Promise<Step[]> =>
    Promise.all(
      jobs.map(async (job): Promise<Step> => {
        try {
          return { job, apply: await work(job) };
        } catch (error) {
          return { job, error };
        }
      }),
    );

  /**
   * A batch whose jobs move money: `plan` gives each job's transfer (or its apply when none is
   * needed), one CreateTransfers call carries all of them, and each plan's `onResult` reads its result.
   * The transfer ids come from the payment ids, so a batch retried after a crash finds its transfers.
   */
  async function withTransfers(jobs: readonly Job[], plan: (job: Job) => Promise<Plan>): Promise<Step[]> {
    const planned = await Promise.all(
      jobs.map(async (job) => {
        try {
          return { job, plan: await plan(job) };
        } catch (error) {
          return { job, error };
        }
      }),
    );
    const transfers = planned.flatMap((p) => ("plan" in p && typeof p.plan !== "function" ? [p.plan] : []));
    let results: TransferResult[] = [];
    let failure: unknown;
    try {
      results = await ledgerTransfers(transfers.map((t) => t.transfer));
    } catch (error) {
      failure = error;
    }
    let next = 0;
    return planned.map((p): Step => {
      if (!("plan" in p)) return p;
      if (typeof p.plan === "function") return { job: p.job, apply: p.plan };
      const result = results[next++];
      if (failure !== undefined || result === undefined) return { job: p.job, error: failure };
      try {
        return { job: p.job, apply: p.plan.onResult(result) };
      } catch (error) {
        return { job: p.job, error };
      }
    });
  }

  function scoreRequest(payment: PaymentRow) {
    const counterparty = payment.creditor.iban || payment.creditor.accountNumber || payment.creditor.bic;
    return {
      // The id of the reservation this screening clears: the risk service's monitor of
      // the ledger sees that transfer later, finds it scored, and counts it only once.
      transactionId: transferIds.hold(payment.paymentId),
      accountId: payment.debtorAccount,
      counterpartyId: counterparty.slice(0, 128),
      amount: amountOf(payment),
      currency: payment.currency,
      counterpartyCountry: payment.creditor.country,
      counterpartyName: payment.creditor.name,
    };
  }

  async function screenOne(payment: PaymentRow): Promise<Apply> {
    if (payment.state !== "VALIDATED") return done;
    let scored: Awaited<ReturnType<typeof upstreams.risk.client.scoreTransaction>>;
    try {
      scored = await upstreams.risk.call((options) => upstreams.risk.client.scoreTransaction(scoreRequest(payment), options));
    } catch (error) {
      // A payment the risk service cannot screen is not sent; other failures are retried.
      if (ConnectError.from(error).code !== Code.InvalidArgument) throw error;
      const refusal = ConnectError.from(error).rawMessage;
      return async (_tx, locked, writes) => {
        if (locked.state === "VALIDATED") writes.move(locked, "REJECTED", `not screened: ${refusal}`, "worker");
      };
    }
    const reasons = scored.reasons.map((reason) => `${reason.code}: ${reason.message}`).join("; ");
    const patch = { riskScore: scored.score, riskDecision: Decision[scored.decision] ?? "UNSPECIFIED", alertId: scored.alertId };
    return async (_tx, locked, writes) => {
      if (locked.state !== "VALIDATED") return;
      if (scored.decision === Decision.ALLOW) {
        writes.move(locked, "SCREENED", `risk ALLOW (score ${scored.score.toFixed(3)})`, "worker", patch);
        writes.schedule({ kind: "reserve", paymentId: locked.paymentId });
      } else if (scored.decision === Decision.REVIEW) {
        writes.move(locked, "HELD_FOR_REVIEW", `risk REVIEW, alert ${scored.alertId}: ${reasons}`, "worker", patch);
      } else {
        writes.move(locked, "REJECTED", `risk ${patch.riskDecision}: ${reasons || "no reason given"}`, "worker", patch);
      }
    };
  }

  async function reserveOne(payment: PaymentRow): Promise<Plan> {
    if (payment.state !== "SCREENED") return done;
    const settlement = await ensureSettlementAccount(payment.rail, payment.currency);
    const holdId = transferIds.hold(payment.paymentId);
    return {
      transfer: {
        transferId: holdId,
        sourceAccount: payment.debtorAccount,
        destinationAccount: settlement,
        amount: amountOf(payment),
        currency: payment.currency,
        reference: `payment ${payment.paymentId} over ${payment.rail}`,
        kind: TransferKind.PENDING,
      },
      onResult(result) {
        const refusal = ledgerFailuresThatReject.get(result.status);
        if (refusal !== undefined) {
          return async (_tx, locked, writes) => {
            if (locked.state === "SCREENED")
              writes.move(locked, "REJECTED", `funds not reserved: ${refusal} (${payment.debtorAccount})`, "worker");
          };
        }
        if (result.status === CreateTransferStatus.DESTINATION_ACCOUNT_NOT_FOUND) ensuredAccounts.delete(settlement);
        if (result.status !== CreateTransferStatus.CREATED && result.status !== CreateTransferStatus.EXISTS) {
          throw new Error(`ledger refused the reservation ${holdId}: ${CreateTransferStatus[result.status]} ${result.message}`);
        }
        return async (_tx, locked, writes) => reserved(locked, writes, `pending transfer ${holdId} to ${settlement}`);
      },
    };
  }

  /** The hold exists: FUNDS_RESERVED, then (not ACH) the message is built and queued: SUBMITTED. */
  function reserved(locked: PaymentRow, writes: BatchWrites, reason: string): void {
    if (locked.state === "CANCELLED") {
      // Cancelled while the reservation was being made: release it.
      writes.schedule({
        kind: "void",
        paymentId: locked.paymentId,
        payload: { transferId: transferIds.void(locked.paymentId, "after-reserve"), to: "", reason: "" },
        dedupeKey: `void-after-reserve:${locked.paymentId}`,
      });
      return;
    }
    if (locked.state !== "SCREENED") return;
    const holdId = transferIds.hold(locked.paymentId);
    const row = writes.move(locked, "FUNDS_RESERVED", reason, "worker", { holdTransferId: holdId });
    // ACH payments wait for the cut-off, which gathers them into one file.
    if (row.rail === "ACH") return;
    try {
      submit(row, writes);
    } catch (error) {
      // CreatePayment built this message once already, so this means the rules changed
      // under a waiting payment: refuse it and release the money rather than retry forever.
      if (!isMessageRefusal(error)) throw error;
      writes.move(row, "REJECTED", `message not built: ${error.message}`, "worker");
      writes.schedule({
        kind: "void",
        paymentId: row.paymentId,
        payload: { transferId: transferIds.void(row.paymentId, "first"), to: "", reason: "" },
      });
    }
  }

  /** Hands each job's message to its network (concurrently; each submission is idempotent by message id). */
  async function transmitAll(jobs: readonly Job[]): Promise<Step[]> {
    const sent = await store.sentMessages(
      store.db,
      jobs.map((job) => job.payload.messageId ?? ""),
    );
    return each(jobs, async (job) => {
      const messageId = job.payload.messageId ?? "";
      const rail = job.payload.rail as Rail;
      const found = sent.get(messageId);
      if (!found) throw new Error(`transmit: no sent message ${messageId}`);
      const { duplicate } = await networks[rail].submit(found.message, found.paymentIds);
      if (duplicate)
        logger.warn({ messageId, rail }, "the network already had this message (a retry after a crash); it was not processed again");
      return done;
    });
  }

  function postOne(job: Job, payment: PaymentRow): Plan {
    // The network's ACCEPTED may still be on its way; any other state means there is nothing to post.
    if (payment.state === "SUBMITTED") throw new NotYet(`payment ${payment.paymentId} is SUBMITTED, not ACCEPTED`);
    if (payment.state !== "ACCEPTED") {
      if (payment.state !== "SETTLED" && payment.state !== "RETURNED")
        logger.error({ paymentId: payment.paymentId, state: payment.state }, "settlement for a payment that cannot settle; dropped");
      return done;
    }
    const postId = transferIds.post(payment.paymentId);
    return {
      transfer: {
        transferId: postId,
        kind: TransferKind.POST_PENDING,
        pendingTransferId: transferIds.hold(payment.paymentId),
        reference: `payment ${payment.paymentId} settled over ${payment.rail}`,
      },
      onResult(result) {
        if (result.status !== CreateTransferStatus.CREATED && result.status !== CreateTransferStatus.EXISTS) {
          throw new Error(`ledger refused the settlement ${postId}: ${CreateTransferStatus[result.status]} ${result.message}`);
        }
        return async (_tx, locked, writes) => {
          if (locked.state !== "ACCEPTED") return;
          writes.move(locked, "SETTLED", job.payload.reason || `settled over ${locked.rail}`, "network", {
            settleTransferId: postId,
          });
        };
      },
    };
  }

  function voidOne(job: Job, payment: PaymentRow): Plan {
    const voidId = job.payload.transferId || transferIds.void(payment.paymentId, "first");
    return {
      transfer: {
        transferId: voidId,
        kind: TransferKind.VOID_PENDING,
        pendingTransferId: transferIds.hold(payment.paymentId),
        reference: `payment ${payment.paymentId} released`,
      },
      onResult(result) {
        const released = result.status === CreateTransferStatus.CREATED || result.status === CreateTransferStatus.EXISTS;
        const nothingHeld = [
          CreateTransferStatus.PENDING_TRANSFER_NOT_FOUND,
          CreateTransferStatus.PENDING_TRANSFER_ALREADY_VOIDED,
          CreateTransferStatus.PENDING_TRANSFER_EXPIRED,
        ].includes(result.status);
        if (!released && !nothingHeld) {
          throw new Error(
            `ledger refused to release ${transferIds.hold(payment.paymentId)}: ${CreateTransferStatus[result.status]} ${result.message}`,
          );
        }
        return async (_tx, locked, writes) => {
          const to = job.payload.to;
          if (to !== "REJECTED" || (locked.state !== "SUBMITTED" && locked.state !== "ACCEPTED")) return;
          writes.move(locked, "REJECTED", job.payload.reason || "rejected by the network", "network", {
            reasonCode: job.payload.reasonCode ?? "",
            ...(released ? { settleTransferId: voidId } : {}),
          });
        };
      },
    };
  }

  async function returnOne(job: Job, payment: PaymentRow): Promise<Apply> {
    if (payment.state === "SUBMITTED" || payment.state === "ACCEPTED")
      throw new NotYet(`payment ${payment.paymentId} is ${payment.state}, not SETTLED yet`);
    if (payment.state !== "SETTLED") {
      if (payment.state !== "RETURNED")
        logger.error({ paymentId: payment.paymentId, state: payment.state }, "return of a payment that never settled; dropped");
      return done;
    }
    const returnId = transferIds.return(payment.paymentId);
    await upstreams.ledger.call((options) =>
      upstreams.ledger.client.reverseTransfer(
        {
          transferId: transferIds.post(payment.paymentId),
          reversalId: returnId,
          reference: `payment ${payment.paymentId} returned ${job.payload.reasonCode ?? ""}`.trim(),
        },
        options,
      ),
    );
    return async (tx, locked, writes) => {
      if (locked.state !== "SETTLED") return;
      if (job.payload.initiator === "sender") {
        // The return message goes out with the state change that promises it.
        const message = buildReturn(locked, {
          now: now(),
          ourBic: config.bic,
          reasonCode: job.payload.reasonCode ?? "",
          originalMessageId: await originalReference(tx, locked),
        });
        writes.saveSent(message, locked.rail, locked.paymentId);
        writes.schedule({
          kind: "transmit",
          payload: { messageId: message.messageId, rail: locked.rail },
          dedupeKey: `transmit:${message.messageId}`,
        });
      }
      writes.move(locked, "RETURNED", job.payload.reason || "returned", job.payload.initiator === "sender" ? "sender" : "network", {
        returnTransferId: returnId,
        reasonCode: job.payload.reasonCode ?? "",
      });
    };
  }

  /** Each kind's batch: its upstream calls (one ledger call for the batch where the ledger has one), as steps. */
  const batchHandlers: Record<JobKind, (jobs: readonly Job[], payments: ReadonlyMap<string, PaymentRow>) => Promise<Step[]>> = {
    screen: (jobs, payments) => each(jobs, (job) => screenOne(paymentOf(job, payments))),
    reserve: (jobs, payments) => withTransfers(jobs, (job) => reserveOne(paymentOf(job, payments))),
    transmit: transmitAll,
    post: (jobs, payments) => withTransfers(jobs, async (job) => postOne(job, paymentOf(job, payments))),
    void: (jobs, payments) => withTransfers(jobs, async (job) => voidOne(job, paymentOf(job, payments))),
    return: (jobs, payments) => each(jobs, (job) => returnOne(job, paymentOf(job, payments))),
  };

  /**
   * Runs a batch of jobs of one kind and completes the ones that succeeded, in one transaction;
   * returns the ones that failed, for the workers to retry. A payment named twice in a batch
   * (a void after a cancelled reservation beside a network's void) waits for a second round,
   * so each apply sees the state the one before it left.
   */
  async function runJobs(jobs: readonly Job[]): Promise<JobFailure[]> {
    const kind = jobs[0]?.kind;
    if (kind === undefined) return [];
    if (jobs.some((job) => job.kind !== kind)) throw new Error("runJobs takes jobs of one kind");
    const seen = new Set<string>();
    const round: Job[] = [];
    const rest: Job[] = [];
    for (const job of jobs) {
      if (job.paymentId !== null && seen.has(job.paymentId)) rest.push(job);
      else round.push(job);
      if (job.paymentId !== null) seen.add(job.paymentId);
    }
    const payments = await store.getMany(
      store.db,
      round.flatMap((job) => (job.paymentId === null ? [] : [job.paymentId])),
    );
    const steps = await batchHandlers[kind](round, payments);
    const failures: JobFailure[] = steps.flatMap((step) => ("error" in step ? [{ job: step.job, error: step.error }] : []));
    const prepared = steps.flatMap((step) => ("apply" in step ? [step] : []));
    try {
      await finish(prepared);
    } catch {
      // One payment's apply failing must not hold up the rest of its batch: each alone.
      for (const step of prepared) {
        await finish([step]).catch((error: unknown) => failures.push({ job: step.job, error }));
      }
    }
    return rest.length > 0 ? [...failures, ...(await runJobs(rest))] : failures;
  }

  // After a delivery whose writes failed (and so rolled back whole), the next applies its events
  // one by one, each under a savepoint, so a bad one is parked and the rest go through.
  let eventByEvent = false;

  /**
   * Applies network events inside the delivering transaction: state changes and the jobs they
   * need. All of a delivery's events together (one lock, one insert of received messages, one of
   * transitions, one of jobs), unless one of them cannot be applied: then one at a time, parking
   * the bad one. An answer that cannot be read is found before anything is written.
   */
  async function applyEvents(events: readonly NetworkEvent[], tx: Queryable): Promise<void> {
    // Payment rows are locked in id order, as a job batch locks them, so the two cannot deadlock;
    // the sort is stable, so one payment's events keep their order.
    const byPayment = [...events].sort((a, b) => (a.paymentId < b.paymentId ? -1 : a.paymentId > b.paymentId ? 1 : 0));
    if (!eventByEvent) {
      const decided = await decideTogether(byPayment, tx).catch((error: unknown) => {
        if (error instanceof UnreadableEvent) return undefined;
        throw error;
      });
      if (decided) {
        try {
          await writeDecided(decided, tx);
        } catch (error) {
          eventByEvent = true;
          throw error;
        }
        return;
      }
    }
    for (const event of byPayment) {
      // One event that cannot be applied (a malformed answer) is parked, not retried forever
      // at the head of the queue, where it would hold up every later answer of its rail.
      await tx.query("SAVEPOINT network_event");
      try {
        await writeDecided(await decideTogether([event], tx), tx);
        await tx.query("RELEASE SAVEPOINT network_event");
      } catch (error) {
        await tx.query("ROLLBACK TO SAVEPOINT network_event");
        const message = error instanceof Error ? error.message : String(error);
        await store.parkNetworkEvent(tx, event, message);
        // Counted before the delivery commits: a rare rollback over-counts an alert, never hides one.
        metrics.deadLettered("network-event");
        logger.error(
          { eventId: event.eventId, paymentId: event.paymentId, err: message },
          "network event cannot be applied; parked in payment_dead_letters",
        );
      }
    }
    eventByEvent = false;
  }

  type Decided = { received: PaymentMessage[]; moves: Move[]; later: NewJob[] };

  /** Locks the events' payments and decides what each event does; an event that cannot be applied throws UnreadableEvent. */
  async function decideTogether(events: readonly NetworkEvent[], tx: Queryable): Promise<Decided> {
    const locked = await store.lockMany(tx, [...new Set(events.map((event) => event.paymentId))]);
    const decided: Decided = { received: [], moves: [], later: [] };
    for (const event of events) {
      const payment = locked.get(event.paymentId);
      if (!payment) throw new UnreadableEvent(`network event for unknown payment ${event.paymentId}`);
      if (event.message) decided.received.push({ message: event.message, rail: event.rail, paymentId: payment.paymentId });
      let outcome: ReturnType<typeof decideEvent>;
      try {
        outcome = decideEvent(event, payment);
        if (outcome.move) checkTransition(payment.state, outcome.move.to);
      } catch (error) {
        throw new UnreadableEvent(error instanceof Error ? error.message : String(error));
      }
      if (outcome.move) {
        decided.moves.push(outcome.move);
        // A later event of this payment in the same delivery sees the state this one left.
        locked.set(payment.paymentId, { ...payment, state: outcome.move.to });
      }
      if (outcome.job) decided.later.push(outcome.job);
    }
    return decided;
  }

  async function writeDecided(decided: Decided, tx: Queryable): Promise<void> {
    await store.saveMessages(tx, "RECEIVED", decided.received);
    await store.transitionMany(tx, decided.moves);
    await store.scheduleMany(tx, decided.later);
  }

  /** What one event does to its payment (in `payment`'s state): a transition, a job, or nothing. */
  function decideEvent(event: NetworkEvent, payment: PaymentRow): { move?: Move; job?: NewJob } {
    let reasonCode = event.reasonCode;
    let via = "";
    if (event.message) {
      // The reason is what the message itself says, not what the adapter summarised.
      const reply = readNetworkReply(event.message);
      if (!reply.paymentIds.includes(payment.paymentId)) {
        throw new Error(`${event.message.messageType} ${event.message.messageId} does not name payment ${payment.paymentId}`);
      }
      reasonCode = reply.reasonCode || reasonCode;
      via = ` (${event.message.messageType} ${event.message.messageId})`;
    }
    const reason = `${event.kind.toLowerCase()} by ${event.rail}${reasonCode ? ` ${reasonCode}` : ""}${event.reasonText ? `: ${event.reasonText}` : ""}${via}`;
    const paymentId = payment.paymentId;
    const accepts = (event.kind === "ACCEPTED" || event.kind === "SETTLED") && payment.state === "SUBMITTED";
    const move: Move | undefined = accepts
      ? { payment, to: "ACCEPTED", reason: event.kind === "ACCEPTED" ? reason : `accepted by ${event.rail}`, actor: "network" }
      : undefined;
    const state = move ? move.to : payment.state;
    const at = move ? { move } : {};
    if (event.kind === "SETTLED" && state === "ACCEPTED") {
      return { ...at, job: { kind: "post", paymentId, payload: { reason } } };
    }
    if (event.kind === "REJECTED" && (state === "SUBMITTED" || state === "ACCEPTED")) {
      return {
        ...at,
        job: { kind: "void", paymentId, payload: { transferId: transferIds.void(paymentId, "first"), to: "REJECTED", reason, reasonCode } },
      };
    }
    if (event.kind === "RETURNED")
      return { ...at, job: { kind: "return", paymentId, payload: { reason, reasonCode, initiator: "network" } } };
    if (event.kind !== "ACCEPTED" && event.kind !== "SETTLED") {
      logger.warn({ event, state }, "network event does not apply to the payment's state; ignored");
    }
    return at;
  }

  /** Gathers reserved ACH payments into one NACHA file, submitted by a transmit job. Returns how many. */
  async function achCutoff(): Promise<number> {
    return store.inTransaction(async (tx) => {
      // One cut-off at a time across replicas, so file id modifiers never collide.
      await tx.query("SELECT pg_advisory_xact_lock(hashtext('qenex-payments-ach-cutoff'))");
      // At most one file's worth; the rest wait for the next cut-off.
      const payments = await store.lockReserved(tx, "ACH", achFilePaymentsMax);
      if (payments.length === 0) return 0;
      const filesToday = await store.sentFilesToday(tx, "ACH");
      const modifiers = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
      const context = {
        now: now(),
        fileIdModifier: modifiers[filesToday % modifiers.length] ?? "A",
        originRouting: config.abaRouting,
        originName: "QENEX",
      };
      const sendable: PaymentRow[] = [];
      for (const payment of payments) {
        // CreatePayment built each entry already; one the rules now refuse must not hold up the file.
        try {
          buildAchFile([payment], context);
          sendable.push(payment);
        } catch (error) {
          if (!isMessageRefusal(error)) throw error;
          await store.transition(tx, payment, "REJECTED", `NACHA entry not built: ${error.message}`, "worker");
          await store.schedule(tx, {
            kind: "void",
            paymentId: payment.paymentId,
            payload: { transferId: transferIds.void(payment.paymentId, "first"), to: "", reason: "" },
          });
        }
      }
      if (sendable.length === 0) return 0;
      const message = buildAchFile(sendable, context);
      await store.saveMessage(
        tx,
        message,
        "SENT",
        "ACH",
        sendable.map((p) => p.paymentId),
      );
      for (const payment of sendable) {
        await store.transition(
          tx,
          payment,
          "SUBMITTED",
          `NACHA file ${message.messageId} (${sendable.length} entries) queued at the ACH cut-off`,
          "worker",
        );
      }
      await store.schedule(tx, {
        kind: "transmit",
        payload: { messageId: message.messageId, rail: "ACH" },
        dedupeKey: `transmit:${message.messageId}`,
      });
      return sendable.length;
    });
  }

  return { runJobs, applyEvents, achCutoff, ensureSettlementAccount, isNotYet: (error: unknown) => error instanceof NotYet };
}

export type Processor = ReturnType<typeof createProcessor>;
