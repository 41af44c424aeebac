// A clearing network simulated in the database: it records each message once, decides every
// payment's fate from (seed, paymentId), and schedules the answers a real network would send
// (pacs.002, pacs.004, NACHA returns) with due times. Delivery is claimed FOR UPDATE SKIP
// LOCKED and marked in the caller's transaction, so each event is applied exactly once.
import type { Db, Migration, Queryable } from "@qenex/platform";
import type { Rail } from "../validation/rails.js";
import { assertPaymentId, derivedMessageId, digestHex } from "./ids.js";
import { readNetworkReply } from "./inbound.js";
import { achReasonCodes, isoReasonTitles, reasonTitle } from "./reasons.js";
import { achReturnFile, paymentReturnOf, statusReport } from "./replies.js";
import { readSubmission, type SubmittedPayment } from "./submission.js";
import type { ClearingNetwork, NetworkEvent, NetworkEventKind, WireMessage } from "./types.js";

/** Largest message accepted (a 10,000-entry NACHA file with addenda is about 1.9 million). */
export const simulatedMessageCharsMax = 4_000_000;
/** Most payments in one submitted message. */
export const simulatedPaymentsMax = 10_000;
/** Most events one deliverDue call hands over. */
export const deliverLimitMax = 1_000;
const insertChunkRows = 500;
/** Most events one payment's outcome produces (ACCEPTED, SETTLED, RETURNED): rounds of one delivery. */
const eventStepsMax = 3;
/** Most wake-up timers pending at once; beyond it the delivering loop's poll finds the answers. */
const dueTimersMax = 10_000;

export const simulatedNetworkMigrations: readonly Migration[] = [
  {
    version: 100,
    name: "simulated network messages and events",
    sql: `
      CREATE TABLE sim_network_messages (
        rail text NOT NULL,
        message_id text NOT NULL,
        format text NOT NULL,
        message_type text NOT NULL,
        content_sha256 text NOT NULL,
        payment_count integer NOT NULL,
        received_count integer NOT NULL DEFAULT 1,
        first_received_at timestamptz NOT NULL,
        last_received_at timestamptz NOT NULL,
        PRIMARY KEY (rail, message_id)
      );
      CREATE TABLE sim_network_events (
        event_id text PRIMARY KEY,
        rail text NOT NULL,
        message_id text NOT NULL,
        payment_id text NOT NULL,
        step integer NOT NULL,
        kind text NOT NULL CHECK (kind IN ('ACCEPTED', 'SETTLED', 'REJECTED', 'RETURNED')),
        reason_code text NOT NULL,
        reason_text text NOT NULL,
        reply_message_id text,
        reply_format text,
        reply_type text,
        reply_content text,
        due_at timestamptz NOT NULL,
        delivered_at timestamptz
      );
      CREATE INDEX sim_network_events_due ON sim_network_events (rail, due_at) WHERE delivered_at IS NULL;
      CREATE INDEX sim_network_events_payment ON sim_network_events (rail, message_id, payment_id, step);
    `,
  },
];

export interface SimulatedNetworkOptions {
  readonly db: Db;
  readonly rail: Rail;
  readonly seed: number;
  /** Fraction of payments rejected, 0 to 1. */
  readonly rejectRate: number;
  /** Fraction of payments settled and later returned, 0 to 1; rejectRate + returnRate ≤ 1. */
  readonly returnRate: number;
  readonly latencyMs: number;
  readonly ourBic: string;
  readonly now?: () => Date;
}

export type Outcome = { readonly kind: "SETTLE" } | { readonly kind: "REJECT" | "RETURN"; readonly reasonCode: string };

const isoReasonCodes = Object.keys(isoReasonTitles);

/** The fate of one payment: a pure function of (seed, rail, paymentId) and the rates. */
export function decideOutcome(
  options: Pick<SimulatedNetworkOptions, "seed" | "rail" | "rejectRate" | "returnRate">,
  paymentId: string,
): Outcome {
  const hash = digestHex(`${options.seed}:${paymentId}`);
  const draw = Number.parseInt(hash.slice(0, 12), 16) / 2 ** 48;
  const codes: readonly string[] = options.rail === "ACH" ? achReasonCodes : isoReasonCodes;
  const reasonCode = codes[Number.parseInt(hash.slice(12, 16), 16) % codes.length] as string;
  if (draw < options.rejectRate) return { kind: "REJECT", reasonCode };
  if (draw < options.rejectRate + options.returnRate) return { kind: "RETURN", reasonCode };
  return { kind: "SETTLE" };
}

interface PlannedEvent {
  readonly eventId: string;
  readonly paymentId: string;
  readonly step: number;
  readonly kind: NetworkEventKind;
  readonly reasonCode: string;
  readonly dueAt: Date;
  readonly reply?: WireMessage;
}

function checkOptions(options: SimulatedNetworkOptions): void {
  const rate = (value: number) => Number.isFinite(value) && value >= 0 && value <= 1;
  if (!rate(options.rejectRate) || !rate(options.returnRate) || options.rejectRate + options.returnRate > 1) {
    throw new Error("rejectRate and returnRate are fractions 0 to 1 that add up to at most 1");
  }
  if (!Number.isSafeInteger(options.latencyMs) || options.latencyMs < 0) throw new Error("latencyMs is a whole number ≥ 0");
  if (!Number.isSafeInteger(options.seed)) throw new Error("seed is a safe integer");
}

function checkSubmission(message: WireMessage, paymentIds: readonly string[]): void {
  if (message.content.length > simulatedMessageCharsMax) {
    throw new Error(`message ${message.messageId} is ${message.content.length} characters; at most ${simulatedMessageCharsMax}`);
  }
  if (message.messageId === "" || message.messageId.length > 100) throw new Error("a messageId is 1 to 100 characters");
  if (paymentIds.length === 0 || paymentIds.length > simulatedPaymentsMax) {
    throw new Error(`a message carries 1 to ${simulatedPaymentsMax} payments, not ${paymentIds.length}`);
  }
  for (const id of paymentIds) assertPaymentId(id);
  if (new Set(paymentIds).size !== paymentIds.length) throw new Error(`message ${message.messageId} names a payment twice`);
}

/** Reads a return we send; it must name exactly `paymentIds`. */
function readReturnSubmission(rail: Rail, message: WireMessage, paymentIds: readonly string[]): readonly string[] {
  if ((rail === "ACH") !== (message.messageType === "NACHA return")) throw new Error(`${rail} does not take ${message.messageType}`);
  const reply = readNetworkReply(message);
  if (reply.paymentIds.join(",") !== paymentIds.join(",")) {
    throw new Error(`${message.messageType} ${message.messageId} names ${reply.paymentIds.join(", ")}, not ${paymentIds.join(", ")}`);
  }
  return reply.paymentIds;
}

export function createSimulatedNetwork(options: SimulatedNetworkOptions): ClearingNetwork {
  checkOptions(options);
  const { db, rail } = options;
  const now = options.now ?? (() => new Date());
  // Wakes the delivering loops of this process when an answer falls due; a replica that did not
  // send the message finds its answers at its next poll.
  const watchers = new Set<() => void>();
  const dueTimers = new Map<number, NodeJS.Timeout>();
  const wakeWatchers = () => {
    for (const wake of watchers) wake();
  };
  function wakeAt(dueTimes: readonly number[]): void {
    if (watchers.size === 0) return;
    for (const dueMs of new Set(dueTimes)) {
      const delayMs = dueMs - now().getTime();
      if (delayMs <= 0) {
        wakeWatchers();
        continue;
      }
      // One timer per due instant (a NACHA file's answers share theirs), never holding the process open.
      if (dueTimers.has(dueMs) || dueTimers.size >= dueTimersMax) continue;
      armDueTimer(dueMs, delayMs);
    }
  }
  function armDueTimer(dueMs: number, delayMs: number): void {
    const timer = setTimeout(() => {
      // Node's timers run on the event loop's clock, read at the start of a loop turn, so one can
      // fire a millisecond or more before the wall clock reaches dueMs: a wake then would find the
      // answer not yet due and leave it to the next poll. Wait out the rest instead.
      const earlyMs = dueMs - now().getTime();
      if (earlyMs > 0) return armDueTimer(dueMs, earlyMs);
      dueTimers.delete(dueMs);
      wakeWatchers();
    }, delayMs);
    timer.unref();
    dueTimers.set(dueMs, timer);
  }

  /** The events one payment's outcome produces, with due times after `at`. */
  function plan(submitted: SubmittedPayment, messageId: string, at: Date): PlannedEvent[] {
    const outcome = decideOutcome(options, submitted.paymentId);
    const after = (latencies: number) => new Date(at.getTime() + latencies * options.latencyMs);
    const events: PlannedEvent[] = [];
    const add = (kind: NetworkEventKind, latencies: number, reasonCode: string, reply?: (eventId: string, dueAt: Date) => WireMessage) => {
      const eventId = `${rail}:${messageId}:${submitted.paymentId}:${kind}`;
      const dueAt = after(latencies);
      events.push({
        eventId,
        paymentId: submitted.paymentId,
        step: events.length,
        kind,
        reasonCode,
        dueAt,
        ...(reply ? { reply: reply(eventId, dueAt) } : {}),
      });
    };
    const status = (status: "ACSP" | "ACSC" | "RJCT", reasonCode?: string) => (eventId: string, dueAt: Date) =>
      statusReport(submitted.subject, {
        messageId: derivedMessageId("STS", eventId),
        now: dueAt,
        status,
        ...(reasonCode ? { reasonCode } : {}),
      });
    const achReturn = (reasonCode: string, afterSettlement: boolean) => (eventId: string, dueAt: Date) => {
      if (submitted.achItem === undefined) throw new Error("unreachable: an ACH payment without its entry");
      return achReturnFile(submitted.achItem, { now: dueAt, reasonCode, afterSettlement, messageId: derivedMessageId("RET", eventId) });
    };
    if (rail === "ACH") {
      if (outcome.kind === "REJECT") add("REJECTED", 1, outcome.reasonCode, achReturn(outcome.reasonCode, false));
      else {
        add("ACCEPTED", 1, "");
        add("SETTLED", 2, "");
        if (outcome.kind === "RETURN") add("RETURNED", 3, outcome.reasonCode, achReturn(outcome.reasonCode, true));
      }
      return events;
    }
    const immediate = rail === "FEDWIRE";
    if (outcome.kind === "REJECT") {
      add("REJECTED", immediate ? 0 : 1, outcome.reasonCode, status("RJCT", outcome.reasonCode));
      return events;
    }
    add("ACCEPTED", immediate ? 0 : 1, "", immediate ? undefined : status("ACSP"));
    add("SETTLED", immediate ? 0 : 2, "", immediate ? undefined : status("ACSC"));
    if (outcome.kind === "RETURN") {
      const returnCode = outcome.reasonCode;
      add("RETURNED", 3, returnCode, (eventId, dueAt) =>
        paymentReturnOf(submitted.subject, { messageId: derivedMessageId("RTR", eventId), now: dueAt, reasonCode: returnCode }),
      );
    }
    return events;
  }

  /** The columns of an insert of `events`, as the unnest parameters of insertEventsSql. */
  function eventColumns(events: readonly PlannedEvent[]): unknown[] {
    const column = <T>(pick: (e: PlannedEvent) => T) => events.map(pick);
    return [
      column((e) => e.eventId),
      column((e) => e.paymentId),
      column((e) => e.step),
      column((e) => e.kind),
      column((e) => e.reasonCode),
      column((e) => reasonTitle(e.reasonCode)),
      column((e) => e.reply?.messageId ?? null),
      column((e) => e.reply?.format ?? null),
      column((e) => e.reply?.messageType ?? null),
      column((e) => e.reply?.content ?? null),
      column((e) => e.dueAt.toISOString()),
    ];
  }

  /** Inserts events: rail $1, message id $2, then eventColumns' eleven arrays from $`first`. */
  const insertEventsSql = (first: number) => {
    const types = ["text", "text", "int", "text", "text", "text", "text", "text", "text", "text", "timestamptz"];
    const arrays = types.map((type, i) => `$${first + i}::${type}[]`).join(", ");
    return `INSERT INTO sim_network_events
         (event_id, rail, message_id, payment_id, step, kind, reason_code, reason_text,
          reply_message_id, reply_format, reply_type, reply_content, due_at)
       SELECT e.event_id, $1, $2, e.payment_id, e.step, e.kind, e.reason_code, e.reason_text,
              e.reply_message_id, e.reply_format, e.reply_type, e.reply_content, e.due_at
       FROM unnest(${arrays})
         AS e(event_id, payment_id, step, kind, reason_code, reason_text,
              reply_message_id, reply_format, reply_type, reply_content, due_at)`;
  };

  // Rail $1, message id $2, then $3..$7. A message seen before counts one more receipt, unless
  // its content differs: then nothing changes and no row comes back.
  const recordMessageSql = `INSERT INTO sim_network_messages
       (rail, message_id, format, message_type, content_sha256, payment_count, first_received_at, last_received_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
     ON CONFLICT (rail, message_id) DO UPDATE
       SET received_count = sim_network_messages.received_count + 1, last_received_at = EXCLUDED.last_received_at
       WHERE sim_network_messages.content_sha256 = EXCLUDED.content_sha256
     RETURNING received_count`;

  /**
   * Records the message and, the first time it is received, its events: in one statement when
   * they fit one insert, else in a transaction. Returns how often it was received, or undefined
   * when a message with other content came under this id before.
   */
  async function record(message: WireMessage, paymentCount: number, events: readonly PlannedEvent[], at: Date) {
    const messageParams = [
      rail,
      message.messageId,
      message.format,
      message.messageType,
      digestHex(message.content),
      paymentCount,
      at.toISOString(),
    ];
    const countOf = (rows: { received_count: number }[]) => (rows[0] === undefined ? undefined : Number(rows[0].received_count));
    if (events.length <= insertChunkRows) {
      const { rows } = await db.query<{ received_count: number }>(
        `WITH recorded AS (${recordMessageSql}),
              planned AS (${insertEventsSql(8)} WHERE (SELECT received_count FROM recorded) = 1)
         SELECT received_count FROM recorded`,
        [...messageParams, ...eventColumns(events)],
      );
      return countOf(rows);
    }
    return db.transaction(async (tx) => {
      const receivedCount = countOf((await tx.query<{ received_count: number }>(recordMessageSql, messageParams)).rows);
      if (receivedCount !== 1) return receivedCount;
      for (let from = 0; from < events.length; from += insertChunkRows) {
        await tx.query(insertEventsSql(3), [rail, message.messageId, ...eventColumns(events.slice(from, from + insertChunkRows))]);
      }
      return receivedCount;
    });
  }

  async function submit(message: WireMessage, paymentIds: readonly string[]): Promise<{ duplicate: boolean }> {
    checkSubmission(message, paymentIds);
    // A return we send (pacs.004, an ACH return file) is recorded; the network answers nothing.
    const isReturn = message.messageType === "pacs.004.001.09" || message.messageType === "NACHA return";
    const returned = isReturn ? readReturnSubmission(rail, message, paymentIds) : [];
    const payments = isReturn ? [] : readSubmission(rail, message, paymentIds);
    const at = now();
    const events = payments.flatMap((p) => plan(p, message.messageId, at));
    const receivedCount = await record(message, payments.length + returned.length, events, at);
    // A different message under a used id is refused, and not counted.
    if (receivedCount === undefined) throw new Error(`${rail} message ${message.messageId} was received before with different content`);
    if (receivedCount > 1) return { duplicate: true };
    // After the commit: the events are claimable now.
    wakeAt(events.map((e) => e.dueAt.getTime()));
    return { duplicate: false };
  }

  /**
   * Claims up to `limit` due events whose earlier steps are delivered, and marks them delivered.
   * Each row says whether a later step of its payment is due too: that one is claimable once this
   * is marked, in the same transaction (other callers see this one undelivered until it commits).
   */
  async function claimDue(tx: Queryable, at: string, limit: number) {
    const { rows } = await tx.query<EventRow & { unblocks: boolean }>(
      `SELECT e.event_id, e.payment_id, e.kind, e.reason_code, e.reason_text,
              e.reply_message_id, e.reply_format, e.reply_type, e.reply_content,
              EXISTS (
                SELECT 1 FROM sim_network_events n
                WHERE n.rail = e.rail AND n.message_id = e.message_id AND n.payment_id = e.payment_id
                  AND n.step > e.step AND n.due_at <= $2) AS unblocks
       FROM sim_network_events e
       WHERE e.rail = $1 AND e.delivered_at IS NULL AND e.due_at <= $2
         AND NOT EXISTS (
           SELECT 1 FROM sim_network_events p
           WHERE p.rail = e.rail AND p.message_id = e.message_id AND p.payment_id = e.payment_id
             AND p.step < e.step AND p.delivered_at IS NULL)
       ORDER BY e.due_at, e.event_id
       LIMIT $3
       FOR UPDATE OF e SKIP LOCKED`,
      [rail, at, limit],
    );
    if (rows.length > 0) {
      await tx.query("UPDATE sim_network_events SET delivered_at = $2 WHERE event_id = ANY($1::text[])", [rows.map((r) => r.event_id), at]);
    }
    return rows;
  }

  async function deliverDue(limit: number, apply: (events: readonly NetworkEvent[], tx: Queryable) => Promise<void>): Promise<number> {
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > deliverLimitMax) throw new Error(`limit is 1 to ${deliverLimitMax}`);
    return db.transaction(async (tx) => {
      const at = now().toISOString();
      // An event waits until the earlier steps of its payment are delivered, so a payment's
      // events arrive in order (ACCEPTED before SETTLED) even with several callers. A later step
      // already due (Fedwire answers both at once; under load a settlement's time passes before
      // its acceptance is delivered) comes in this delivery, after the step it waited for: left
      // to the next delivery, nothing would wake it before the poll.
      const claimed: EventRow[] = [];
      for (let round = 0; claimed.length < limit; round++) {
        const rows = await claimDue(tx, at, limit - claimed.length);
        claimed.push(...rows);
        if (!rows.some((row) => row.unblocks) || round + 1 >= eventStepsMax) break;
      }
      if (claimed.length === 0) return 0;
      await apply(claimed.map(toEvent(rail)), tx);
      return claimed.length;
    });
  }

  function watchDue(wake: () => void): () => void {
    watchers.add(wake);
    return () => {
      watchers.delete(wake);
      if (watchers.size > 0) return;
      for (const timer of dueTimers.values()) clearTimeout(timer);
      dueTimers.clear();
    };
  }

  return { rail, submit, deliverDue, watchDue };
}

interface EventRow extends Record<string, unknown> {
  event_id: string;
  payment_id: string;
  kind: NetworkEventKind;
  reason_code: string;
  reason_text: string;
  reply_message_id: string | null;
  reply_format: WireMessage["format"] | null;
  reply_type: string | null;
  reply_content: string | null;
}

function toEvent(rail: Rail) {
  return (row: EventRow): NetworkEvent => ({
    eventId: row.event_id,
    rail,
    paymentId: row.payment_id,
    kind: row.kind,
    reasonCode: row.reason_code,
    reasonText: row.reason_text,
    ...(row.reply_content === null || row.reply_message_id === null || row.reply_format === null || row.reply_type === null
      ? {}
      : {
          message: { messageId: row.reply_message_id, format: row.reply_format, messageType: row.reply_type, content: row.reply_content },
        }),
  });
}

export interface ReceivedMessage {
  readonly rail: Rail;
  readonly messageId: string;
  readonly receivedCount: number;
}

/** Every message the simulated networks received, with how often (test support: proves nothing ran twice). */
export async function receivedMessages(db: Queryable): Promise<ReceivedMessage[]> {
  const result = await db.query<{ rail: Rail; message_id: string; received_count: number }>(
    "SELECT rail, message_id, received_count FROM sim_network_messages ORDER BY first_received_at, rail, message_id",
  );
  return result.rows.map((r) => ({ rail: r.rail, messageId: r.message_id, receivedCount: Number(r.received_count) }));
}
