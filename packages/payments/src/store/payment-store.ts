// SQL for payments: rows, transitions, the job outbox, messages and ingested files. State
// changes lock the payment row and check the state machine, so two workers (or a worker and
// an RPC) racing on one payment cannot both move it.
import type { Db, Queryable, Row } from "@qenex/platform";
import { checkTransition } from "../domain/lifecycle.js";
import type { Charges, MessageFormat, PartyRecord, PaymentRecord, PaymentState } from "../domain/payment.js";
import type { NetworkEvent, WireMessage } from "../rails/types.js";
import type { Rail } from "../validation/rails.js";

/** A payment as stored: the record the rails need plus what processing added. */
export interface PaymentRow extends PaymentRecord {
  readonly riskScore: number;
  readonly riskDecision: string;
  readonly alertId: string;
  readonly reasonCode: string;
  readonly holdTransferId: string;
  readonly settleTransferId: string;
  readonly returnTransferId: string;
  readonly createdBy: string;
  readonly requestHash: string;
  readonly updatedAt: Date;
}

export interface TransitionRow {
  readonly sequence: bigint;
  readonly paymentId: string;
  /** "" for the first transition, into RECEIVED. */
  readonly from: PaymentState | "";
  readonly to: PaymentState;
  readonly reason: string;
  readonly actor: string;
  readonly at: Date;
}

export type JobKind = "screen" | "reserve" | "transmit" | "post" | "void" | "return";

export interface Job {
  readonly jobId: bigint;
  readonly kind: JobKind;
  readonly paymentId: string | null;
  readonly payload: Record<string, string>;
  readonly attempts: number;
  readonly createdAt: Date;
}

export interface DeadLetterRow {
  readonly deadLetterId: bigint;
  /** A job kind, or "network-event" for an answer that could not be applied. */
  readonly kind: string;
  readonly paymentId: string;
  readonly payload: string;
  readonly attempts: number;
  readonly lastError: string;
  readonly createdAt: Date;
  readonly deadAt: Date;
}

export interface NewJob {
  readonly kind: JobKind;
  readonly paymentId?: string;
  readonly payload?: Record<string, string>;
  /** Defaults to "{kind}:{paymentId}". */
  readonly dedupeKey?: string;
  readonly delayMs?: number;
}

/** Columns processing may set along with a transition. */
export type PaymentPatch = Partial<
  Pick<PaymentRow, "riskScore" | "riskDecision" | "alertId" | "reasonCode" | "holdTransferId" | "settleTransferId" | "returnTransferId">
>;

const patchColumns: Readonly<Record<keyof PaymentPatch, string>> = {
  riskScore: "risk_score",
  riskDecision: "risk_decision",
  alertId: "alert_id",
  reasonCode: "reason_code",
  holdTransferId: "hold_transfer_id",
  settleTransferId: "settle_transfer_id",
  returnTransferId: "return_transfer_id",
};

/** One payment's move to another state, for transitionMany. */
export interface Move {
  readonly payment: PaymentRow;
  readonly to: PaymentState;
  readonly reason: string;
  readonly actor: string;
  readonly patch?: PaymentPatch;
}

/** A message sent or received about one payment, for saveMessages. */
export interface PaymentMessage {
  readonly message: WireMessage;
  readonly rail: Rail;
  readonly paymentId: string;
}

/** NOTIFY channel carrying the payment id of each stored transition (WatchPayment wakes on it). */
export const transitionsChannel = "payment_transitions";

function toDate(value: unknown): Date {
  return value instanceof Date ? value : new Date(String(value));
}

function paymentOf(row: Row): PaymentRow {
  return {
    paymentId: String(row.payment_id),
    rail: row.rail as Rail,
    railReason: String(row.rail_reason),
    state: row.state as PaymentState,
    stateReason: String(row.state_reason),
    debtorAccount: String(row.debtor_account),
    amountMinor: BigInt(String(row.amount_minor)),
    currency: String(row.currency),
    reference: String(row.reference),
    debtor: JSON.parse(String(row.debtor)) as PartyRecord,
    creditor: JSON.parse(String(row.creditor)) as PartyRecord,
    urgent: row.urgent === true,
    charges: row.charges as Charges,
    messageFormat: row.message_format as MessageFormat,
    uetr: String(row.uetr),
    riskScore: Number(row.risk_score),
    riskDecision: String(row.risk_decision),
    alertId: String(row.alert_id),
    reasonCode: String(row.reason_code),
    holdTransferId: String(row.hold_transfer_id),
    settleTransferId: String(row.settle_transfer_id),
    returnTransferId: String(row.return_transfer_id),
    createdBy: String(row.created_by),
    requestHash: String(row.request_hash),
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
  };
}

function transitionOf(row: Row): TransitionRow {
  return {
    sequence: BigInt(String(row.sequence)),
    paymentId: String(row.payment_id),
    from: row.from_state as PaymentState | "",
    to: row.to_state as PaymentState,
    reason: String(row.reason),
    actor: String(row.actor),
    at: toDate(row.at),
  };
}

export interface NewPayment extends Omit<PaymentRecord, "state" | "stateReason" | "createdAt"> {
  readonly requestHash: string;
  readonly createdBy: string;
}

/** Whether `key` has the shape of a key list() hands out (created_at|payment_id). */
export function isListKey(key: string): boolean {
  return /^\d{4}-\d\d-\d\dT[\d:.]+Z\|[A-Za-z0-9_-]{1,40}$/.test(key);
}

export interface ListFilter {
  readonly state?: PaymentState;
  readonly rail?: Rail;
  readonly debtorAccount?: string;
  readonly createdBy?: string;
  readonly createdAfter?: Date;
  readonly createdBefore?: Date;
  /** Resume after this key (a previous page's nextKey); newest first. */
  readonly afterKey?: string;
  readonly limit: number;
}

export interface StoredMessage extends WireMessage {
  readonly direction: "SENT" | "RECEIVED";
  readonly rail: Rail;
  readonly at: Date;
}

export type StoreOptions = {
  /** Called once per state a payment reached, after the transaction that stored it committed. */
  onTransition?: (payment: PaymentRow) => void;
  /** Called after a transaction that scheduled a job committed: the job is claimable now. */
  onJobsScheduled?: () => void;
};

export function createPaymentStore(db: Db, options: StoreOptions = {}) {
  // What each transaction attempt did; only the attempt that commits is reported.
  type Attempt = { reached: PaymentRow[]; scheduled: boolean };
  const attempts = new WeakMap<Queryable, Attempt>();

  async function inTransaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    let attempt: Attempt = { reached: [], scheduled: false };
    const result = await db.transaction(async (tx) => {
      attempt = { reached: [], scheduled: false };
      attempts.set(tx, attempt);
      return fn(tx);
    });
    for (const payment of attempt.reached) options.onTransition?.(payment);
    if (attempt.scheduled) options.onJobsScheduled?.();
    return result;
  }

  async function lock(tx: Queryable, paymentId: string): Promise<PaymentRow | undefined> {
    const { rows } = await tx.query("SELECT * FROM payments WHERE payment_id = $1 FOR UPDATE", [paymentId]);
    return rows[0] ? paymentOf(rows[0]) : undefined;
  }

  const store = {
    db,
    inTransaction,

    /**
     * Stores a new payment at RECEIVED, then VALIDATED (it was validated before this), and
     * schedules screening: one statement, so no transaction round trips (its parts commit together).
     */
    async create(payment: NewPayment, actor: string): Promise<{ row: PaymentRow; existed: boolean }> {
      const reason = `valid for ${payment.rail}`;
      const { rows } = await db.query(
        `WITH inserted AS (
           INSERT INTO payments (payment_id, rail, rail_reason, state, state_reason, debtor_account, amount_minor, currency,
             reference, debtor, creditor, urgent, charges, message_format, uetr, request_hash, created_by)
           VALUES ($1, $2, $3, 'VALIDATED', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
           ON CONFLICT (payment_id) DO NOTHING RETURNING *),
         recorded AS (
           INSERT INTO payment_transitions (payment_id, from_state, to_state, reason, actor)
           SELECT inserted.payment_id, t.from_state, t.to_state, t.reason, $17
           FROM inserted CROSS JOIN (VALUES (1, '', 'RECEIVED', 'received'), (2, 'RECEIVED', 'VALIDATED', $4::text))
             AS t(position, from_state, to_state, reason)
           ORDER BY t.position RETURNING payment_id),
         scheduled AS (
           INSERT INTO payment_jobs (kind, payment_id, payload, dedupe_key)
           SELECT 'screen', payment_id, '{}', 'screen:' || payment_id FROM inserted ON CONFLICT (dedupe_key) DO NOTHING)
         SELECT inserted.*, (SELECT count(pg_notify($18, payment_id)) FROM recorded) AS notified FROM inserted`,
        [
          payment.paymentId,
          payment.rail,
          payment.railReason,
          reason,
          payment.debtorAccount,
          payment.amountMinor.toString(),
          payment.currency,
          payment.reference,
          JSON.stringify(payment.debtor),
          JSON.stringify(payment.creditor),
          payment.urgent,
          payment.charges,
          payment.messageFormat,
          payment.uetr,
          payment.requestHash,
          payment.createdBy,
          actor,
          transitionsChannel,
        ],
      );
      const inserted = rows[0];
      if (!inserted) {
        const existing = await store.get(db, payment.paymentId);
        if (!existing) throw new Error(`payment ${payment.paymentId} vanished while being created`);
        return { row: existing, existed: true };
      }
      const row = paymentOf(inserted);
      options.onTransition?.({ ...row, state: "RECEIVED" });
      options.onTransition?.(row);
      options.onJobsScheduled?.();
      return { row, existed: false };
    },

    /** Many payments in one statement, by id; ids that do not exist are absent. */
    async getMany(q: Queryable, paymentIds: readonly string[]): Promise<Map<string, PaymentRow>> {
      if (paymentIds.length === 0) return new Map();
      const { rows } = await q.query("SELECT * FROM payments WHERE payment_id = ANY($1::text[])", [paymentIds]);
      return new Map(rows.map((row) => [String(row.payment_id), paymentOf(row)]));
    },

    /** Locks many payments in one statement, in id order so two batches cannot deadlock. */
    async lockMany(tx: Queryable, paymentIds: readonly string[]): Promise<Map<string, PaymentRow>> {
      if (paymentIds.length === 0) return new Map();
      const { rows } = await tx.query(
        // Byte order (COLLATE "C"), the order the workers sort network events in before locking.
        'SELECT * FROM payments WHERE payment_id = ANY($1::text[]) ORDER BY payment_id COLLATE "C" FOR UPDATE',
        [paymentIds],
      );
      return new Map(rows.map((row) => [String(row.payment_id), paymentOf(row)]));
    },

    async get(q: Queryable, paymentId: string): Promise<PaymentRow | undefined> {
      const { rows } = await q.query("SELECT * FROM payments WHERE payment_id = $1", [paymentId]);
      return rows[0] ? paymentOf(rows[0]) : undefined;
    },

    lock,

    /**
     * Moves a locked payment to `to` (refused by the state machine when impossible), with
     * the columns in `patch`, and records the transition.
     */
    async transition(
      tx: Queryable,
      payment: PaymentRow,
      to: PaymentState,
      reason: string,
      actor: string,
      patch: PaymentPatch = {},
    ): Promise<PaymentRow> {
      checkTransition(payment.state, to);
      const sets = ["state = $2", "state_reason = $3", "updated_at = now()"];
      const params: unknown[] = [payment.paymentId, to, reason];
      for (const [key, value] of Object.entries(patch) as [keyof PaymentPatch, unknown][]) {
        params.push(value);
        sets.push(`${patchColumns[key]} = $${params.length}`);
      }
      params.push(payment.state, actor, transitionsChannel);
      const [fromParam, actorParam, channelParam] = [params.length - 2, params.length - 1, params.length];
      // The update, its history row and the NOTIFY in one statement: a payment goes through
      // seven or more transitions, each a round trip saved twice over.
      const { rows } = await tx.query(
        `WITH updated AS (UPDATE payments SET ${sets.join(", ")} WHERE payment_id = $1 RETURNING *),
              recorded AS (
                INSERT INTO payment_transitions (payment_id, from_state, to_state, reason, actor)
                SELECT payment_id, $${fromParam}, $2, $3, $${actorParam} FROM updated RETURNING payment_id)
         SELECT updated.*, pg_notify($${channelParam}, recorded.payment_id) AS notified FROM updated JOIN recorded USING (payment_id)`,
        params,
      );
      const row = rows[0];
      if (!row) throw new Error(`payment ${payment.paymentId} vanished during a transition`);
      const updated = paymentOf(row);
      attempts.get(tx)?.reached.push(updated);
      return updated;
    },

    /**
     * Moves several locked payments (each at most once), every move checked by the state
     * machine, with the columns in its patch, in one statement: the updates, their history rows
     * and the NOTIFYs.
     */
    async transitionMany(tx: Queryable, moves: readonly Move[]): Promise<PaymentRow[]> {
      if (moves.length === 0) return [];
      for (const move of moves) checkTransition(move.payment.state, move.to);
      const ids = moves.map((move) => move.payment.paymentId);
      if (new Set(ids).size !== ids.length) throw new Error("transitionMany moves each payment at most once");
      const column = <T>(pick: (move: Move) => T) => moves.map(pick);
      // A patch column left out is NULL here and keeps its value.
      const { rows } = await tx.query(
        `WITH input AS (
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::float8[], $7::text[],
                                $8::text[], $9::text[], $10::text[], $11::text[], $12::text[]) WITH ORDINALITY
             AS i(payment_id, from_state, to_state, reason, actor, risk_score, risk_decision,
                  alert_id, reason_code, hold_transfer_id, settle_transfer_id, return_transfer_id, position)),
         updated AS (
           UPDATE payments p SET state = i.to_state, state_reason = i.reason, updated_at = now(),
             risk_score = coalesce(i.risk_score, p.risk_score), risk_decision = coalesce(i.risk_decision, p.risk_decision),
             alert_id = coalesce(i.alert_id, p.alert_id), reason_code = coalesce(i.reason_code, p.reason_code),
             hold_transfer_id = coalesce(i.hold_transfer_id, p.hold_transfer_id),
             settle_transfer_id = coalesce(i.settle_transfer_id, p.settle_transfer_id),
             return_transfer_id = coalesce(i.return_transfer_id, p.return_transfer_id)
           FROM input i WHERE p.payment_id = i.payment_id RETURNING p.*),
         recorded AS (
           INSERT INTO payment_transitions (payment_id, from_state, to_state, reason, actor)
           SELECT payment_id, from_state, to_state, reason, actor FROM input ORDER BY position RETURNING payment_id)
         SELECT updated.*, pg_notify($13, recorded.payment_id) AS notified FROM updated JOIN recorded USING (payment_id)`,
        [
          ids,
          column((move) => move.payment.state),
          column((move) => move.to),
          column((move) => move.reason),
          column((move) => move.actor),
          column((move) => move.patch?.riskScore ?? null),
          column((move) => move.patch?.riskDecision ?? null),
          column((move) => move.patch?.alertId ?? null),
          column((move) => move.patch?.reasonCode ?? null),
          column((move) => move.patch?.holdTransferId ?? null),
          column((move) => move.patch?.settleTransferId ?? null),
          column((move) => move.patch?.returnTransferId ?? null),
          transitionsChannel,
        ],
      );
      if (rows.length !== moves.length) throw new Error(`${moves.length - rows.length} payments vanished during a transition`);
      const updated = rows.map(paymentOf);
      attempts.get(tx)?.reached.push(...updated);
      return updated;
    },

    async transitions(q: Queryable, paymentId: string, afterSequence = 0n, limit = 1000): Promise<TransitionRow[]> {
      const { rows } = await q.query(
        "SELECT * FROM payment_transitions WHERE payment_id = $1 AND sequence > $2 ORDER BY sequence LIMIT $3",
        [paymentId, afterSequence.toString(), limit],
      );
      return rows.map(transitionOf);
    },

    /** One page, newest first, and the key the next page starts after (undefined on the last page). */
    async list(filter: ListFilter): Promise<{ rows: PaymentRow[]; nextKey: string | undefined }> {
      const where: string[] = [];
      const params: unknown[] = [];
      const add = (sql: string, value: unknown) => {
        params.push(value);
        where.push(sql.replace("?", `$${params.length}`));
      };
      if (filter.state) add("state = ?", filter.state);
      if (filter.rail) add("rail = ?", filter.rail);
      if (filter.debtorAccount) add("debtor_account = ?", filter.debtorAccount);
      if (filter.createdBy !== undefined) add("created_by = ?", filter.createdBy);
      if (filter.createdAfter) add("created_at >= ?", filter.createdAfter);
      if (filter.createdBefore) add("created_at < ?", filter.createdBefore);
      if (filter.afterKey) {
        const [createdAt, paymentId] = filter.afterKey.split("|");
        params.push(createdAt, paymentId);
        where.push(`(created_at, payment_id) < ($${params.length - 1}::timestamptz, $${params.length})`);
      }
      // One row more than the page tells whether another page follows.
      params.push(filter.limit + 1);
      const { rows } = await db.query(
        `SELECT *, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_at_text FROM payments
         ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
         ORDER BY created_at DESC, payment_id DESC LIMIT $${params.length}`,
        params,
      );
      const page = rows.slice(0, filter.limit);
      const last = page[page.length - 1];
      const nextKey = rows.length > filter.limit && last ? `${last.created_at_text}|${last.payment_id}` : undefined;
      return { rows: page.map(paymentOf), nextKey };
    },

    /** Schedules a job unless one with the same dedupe key is already waiting. */
    async schedule(tx: Queryable, job: NewJob): Promise<void> {
      await store.scheduleMany(tx, [job]);
    },

    /** Schedules jobs in one statement; each is skipped if one with its dedupe key is already waiting. */
    async scheduleMany(tx: Queryable, jobs: readonly NewJob[]): Promise<void> {
      if (jobs.length === 0) return;
      const attempt = attempts.get(tx);
      if (attempt) attempt.scheduled = true;
      const column = <T>(pick: (job: NewJob) => T) => jobs.map(pick);
      // ON CONFLICT DO NOTHING also skips a repeated key within the statement.
      await tx.query(
        `INSERT INTO payment_jobs (kind, payment_id, payload, dedupe_key, run_at)
         SELECT kind, payment_id, payload, dedupe_key, now() + delay_ms * interval '1 millisecond'
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[]) AS j(kind, payment_id, payload, dedupe_key, delay_ms)
         ON CONFLICT (dedupe_key) DO NOTHING`,
        [
          column((job) => job.kind),
          column((job) => job.paymentId ?? null),
          column((job) => JSON.stringify(job.payload ?? {})),
          column((job) => job.dedupeKey ?? `${job.kind}:${job.paymentId}`),
          column((job) => job.delayMs ?? 0),
        ],
      );
    },

    /** Leases up to `limit` due jobs for `leaseMs`; other workers skip them meanwhile. */
    async claimJobs(limit: number, leaseMs: number): Promise<Job[]> {
      const { rows } = await db.query(
        `UPDATE payment_jobs SET leased_until = now() + $2 * interval '1 millisecond', attempts = attempts + 1
         WHERE job_id IN (
           SELECT job_id FROM payment_jobs
           WHERE run_at <= now() AND (leased_until IS NULL OR leased_until < now())
           ORDER BY run_at LIMIT $1 FOR UPDATE SKIP LOCKED)
         RETURNING job_id, kind, payment_id, payload, attempts, created_at`,
        [limit, leaseMs],
      );
      return rows.map((row) => ({
        jobId: BigInt(String(row.job_id)),
        kind: row.kind as JobKind,
        paymentId: row.payment_id === null ? null : String(row.payment_id),
        payload: JSON.parse(String(row.payload)) as Record<string, string>,
        attempts: Number(row.attempts),
        createdAt: toDate(row.created_at),
      }));
    },

    async completeJob(tx: Queryable, jobId: bigint): Promise<void> {
      await store.completeJobs(tx, [jobId]);
    },

    async completeJobs(tx: Queryable, jobIds: readonly bigint[]): Promise<void> {
      if (jobIds.length === 0) return;
      await tx.query("DELETE FROM payment_jobs WHERE job_id = ANY($1::bigint[])", [jobIds.map(String)]);
    },

    /** Schedules the job's next attempt after `delayMs`, keeping the error. */
    async retryJob(jobId: bigint, error: string, delayMs: number): Promise<void> {
      await db.query(
        "UPDATE payment_jobs SET leased_until = NULL, run_at = now() + $2 * interval '1 millisecond', last_error = $3 WHERE job_id = $1",
        [jobId.toString(), delayMs, error.slice(0, 4000)],
      );
    },

    /** Parks a job that keeps failing; returns false if it was already gone. */
    async deadLetter(jobId: bigint, error: string): Promise<boolean> {
      return db.transaction(async (tx) => {
        const { rows } = await tx.query("DELETE FROM payment_jobs WHERE job_id = $1 RETURNING *", [jobId.toString()]);
        const job = rows[0];
        if (!job) return false;
        await tx.query(
          `INSERT INTO payment_dead_letters (job_id, kind, payment_id, payload, attempts, last_error, created_at, dedupe_key)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
          [job.job_id, job.kind, job.payment_id, job.payload, job.attempts, error.slice(0, 4000), job.created_at, job.dedupe_key],
        );
        return true;
      });
    },

    /** Parks a network answer that could not be applied, with the error, for an operator. */
    async parkNetworkEvent(tx: Queryable, event: NetworkEvent, error: string): Promise<void> {
      await tx.query(
        `INSERT INTO payment_dead_letters (job_id, kind, payment_id, payload, attempts, last_error, created_at)
         VALUES (nextval('payment_jobs_job_id_seq'), 'network-event', $1, $2, 1, $3, now())`,
        [event.paymentId, JSON.stringify(event), error.slice(0, 4000)],
      );
    },

    async deadLetters(q: Queryable, afterId = 0n, limit = 1000): Promise<DeadLetterRow[]> {
      const { rows } = await q.query("SELECT * FROM payment_dead_letters WHERE job_id > $1 ORDER BY job_id LIMIT $2", [
        afterId.toString(),
        limit,
      ]);
      return rows.map((row) => ({
        deadLetterId: BigInt(String(row.job_id)),
        kind: String(row.kind),
        paymentId: row.payment_id === null ? "" : String(row.payment_id),
        payload: String(row.payload),
        attempts: Number(row.attempts),
        lastError: String(row.last_error),
        createdAt: toDate(row.created_at),
        deadAt: toDate(row.dead_at),
      }));
    },

    /**
     * Moves a parked job back into the queue, due now with its attempts reset. Returns
     * "requeued", "missing", "network-event" (never requeued) or "waiting" (the same work is
     * already queued again).
     */
    async requeueDeadLetter(jobId: bigint): Promise<"requeued" | "missing" | "network-event" | "waiting"> {
      return inTransaction(async (tx) => {
        const { rows } = await tx.query("SELECT * FROM payment_dead_letters WHERE job_id = $1 FOR UPDATE", [jobId.toString()]);
        const parked = rows[0];
        if (!parked) return "missing";
        if (parked.kind === "network-event") return "network-event";
        const payload = JSON.parse(String(parked.payload)) as Record<string, string>;
        const dedupeKey =
          String(parked.dedupe_key) ||
          (parked.kind === "transmit" ? `transmit:${payload.messageId}` : `${parked.kind}:${parked.payment_id}`);
        const inserted = await tx.query(
          "INSERT INTO payment_jobs (kind, payment_id, payload, dedupe_key) VALUES ($1, $2, $3, $4) ON CONFLICT (dedupe_key) DO NOTHING",
          [parked.kind, parked.payment_id, parked.payload, dedupeKey],
        );
        if (inserted.rowCount === 0) return "waiting";
        await tx.query("DELETE FROM payment_dead_letters WHERE job_id = $1", [jobId.toString()]);
        return "requeued";
      });
    },

    async pendingJobs(q: Queryable): Promise<number> {
      const { rows } = await q.query("SELECT count(*) AS n FROM payment_jobs");
      return Number(rows[0]?.n ?? 0);
    },

    /**
     * Stores a message and links it to its payments. A sent message id is never reused (a
     * collision fails the transaction rather than link the wrong bytes); a received one may
     * arrive again (one return file for several payments) and is stored once.
     */
    async saveMessage(
      tx: Queryable,
      message: WireMessage,
      direction: "SENT" | "RECEIVED",
      rail: Rail,
      paymentIds: readonly string[],
    ): Promise<void> {
      // The message and its links to every payment of a file (up to 10,000 for ACH) in one statement.
      await tx.query(
        `WITH saved AS (
           INSERT INTO payment_messages (message_id, direction, rail, format, message_type, content)
           VALUES ($1, $2, $3, $4, $5, $6) ${direction === "RECEIVED" ? "ON CONFLICT DO NOTHING" : ""})
         INSERT INTO payment_message_links (message_id, direction, payment_id)
         SELECT $1, $2, unnest($7::text[]) ON CONFLICT DO NOTHING`,
        [message.messageId, direction, rail, message.format, message.messageType, message.content, paymentIds],
      );
    },

    /**
     * Stores messages, each linked to its payment, in one statement: a message named by several
     * items is stored once. A sent message id is never reused (a collision fails the transaction);
     * a received one may arrive again and is stored once.
     */
    async saveMessages(tx: Queryable, direction: "SENT" | "RECEIVED", items: readonly PaymentMessage[]): Promise<void> {
      if (items.length === 0) return;
      const messages = [...new Map(items.map((item) => [item.message.messageId, item])).values()];
      const column = <T>(list: readonly PaymentMessage[], pick: (item: PaymentMessage) => T) => list.map(pick);
      await tx.query(
        `WITH saved AS (
           INSERT INTO payment_messages (message_id, direction, rail, format, message_type, content)
           SELECT message_id, $1, rail, format, message_type, content
           FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) AS m(message_id, rail, format, message_type, content)
           ${direction === "RECEIVED" ? "ON CONFLICT DO NOTHING" : ""})
         INSERT INTO payment_message_links (message_id, direction, payment_id)
         SELECT message_id, $1, payment_id FROM unnest($7::text[], $8::text[]) AS l(message_id, payment_id)
         ON CONFLICT DO NOTHING`,
        [
          direction,
          column(messages, (item) => item.message.messageId),
          column(messages, (item) => item.rail),
          column(messages, (item) => item.message.format),
          column(messages, (item) => item.message.messageType),
          column(messages, (item) => item.message.content),
          column(items, (item) => item.message.messageId),
          column(items, (item) => item.paymentId),
        ],
      );
    },

    async paymentIdsOf(q: Queryable, messageId: string, direction: "SENT" | "RECEIVED"): Promise<string[]> {
      const { rows } = await q.query(
        "SELECT payment_id FROM payment_message_links WHERE message_id = $1 AND direction = $2 ORDER BY payment_id",
        [messageId, direction],
      );
      return rows.map((row) => String(row.payment_id));
    },

    /** Locks up to `limit` payments of a rail waiting at FUNDS_RESERVED, oldest first, skipping ones another replica holds. */
    async lockReserved(tx: Queryable, rail: Rail, limit: number): Promise<PaymentRow[]> {
      const { rows } = await tx.query(
        "SELECT * FROM payments WHERE rail = $1 AND state = 'FUNDS_RESERVED' ORDER BY created_at, payment_id LIMIT $2 FOR UPDATE SKIP LOCKED",
        [rail, limit],
      );
      return rows.map(paymentOf);
    },

    async sentFilesToday(q: Queryable, rail: Rail): Promise<number> {
      const { rows } = await q.query(
        "SELECT count(*) AS n FROM payment_messages WHERE rail = $1 AND direction = 'SENT' AND at >= date_trunc('day', now())",
        [rail],
      );
      return Number(rows[0]?.n ?? 0);
    },

    /** Sent messages with the ids of the payments each carries, in one statement; ids not found are absent. */
    async sentMessages(
      q: Queryable,
      messageIds: readonly string[],
    ): Promise<Map<string, { message: StoredMessage; paymentIds: string[] }>> {
      if (messageIds.length === 0) return new Map();
      // Payment ids never hold a comma (assertPaymentId), so one joined string carries the list.
      const { rows } = await q.query(
        `SELECT m.*, coalesce(string_agg(l.payment_id, ',' ORDER BY l.payment_id), '') AS payment_ids
         FROM payment_messages m LEFT JOIN payment_message_links l USING (message_id, direction)
         WHERE m.message_id = ANY($1::text[]) AND m.direction = 'SENT'
         GROUP BY m.message_id, m.direction`,
        [messageIds],
      );
      return new Map(
        rows.map((row) => [
          String(row.message_id),
          { message: storedMessageOf(row), paymentIds: String(row.payment_ids) === "" ? [] : String(row.payment_ids).split(",") },
        ]),
      );
    },

    async message(q: Queryable, messageId: string, direction: "SENT" | "RECEIVED"): Promise<StoredMessage | undefined> {
      const { rows } = await q.query("SELECT * FROM payment_messages WHERE message_id = $1 AND direction = $2", [messageId, direction]);
      return rows[0] ? storedMessageOf(rows[0]) : undefined;
    },

    async messagesOf(q: Queryable, paymentId: string): Promise<StoredMessage[]> {
      const { rows } = await q.query(
        `SELECT m.* FROM payment_message_links l JOIN payment_messages m USING (message_id, direction)
         WHERE l.payment_id = $1 ORDER BY m.at, m.message_id`,
        [paymentId],
      );
      return rows.map(storedMessageOf);
    },

    async ingested(q: Queryable, messageId: string): Promise<{ contentHash: string; result: string } | undefined> {
      const { rows } = await q.query("SELECT content_hash, result FROM payment_ingests WHERE message_id = $1", [messageId]);
      return rows[0] ? { contentHash: String(rows[0].content_hash), result: String(rows[0].result) } : undefined;
    },

    /** Records an ingested message; false when another call recorded it first. */
    async recordIngest(messageId: string, format: string, contentHash: string, result: string): Promise<boolean> {
      const { rowCount } = await db.query(
        "INSERT INTO payment_ingests (message_id, format, content_hash, result) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        [messageId, format, contentHash, result],
      );
      return rowCount > 0;
    },
  };
  return store;
}

function storedMessageOf(row: Row): StoredMessage {
  return {
    messageId: String(row.message_id),
    direction: row.direction as "SENT" | "RECEIVED",
    rail: row.rail as Rail,
    format: row.format as MessageFormat,
    messageType: String(row.message_type),
    content: String(row.content),
    at: toDate(row.at),
  };
}

export type PaymentStore = ReturnType<typeof createPaymentStore>;
