// Transaction monitoring after the fact: follows the ledger's committed transfers from a
// cursor kept in PostgreSQL and scores each one once (ScoreTransaction's idempotency makes a
// transfer seen twice — after a restart, or by two risk replicas — count once). What the
// stream has delivered while a batch was scored is scored next as one batch, with the results
// one-at-a-time scoring would give. Rule hits open alerts as a live score would. The stream
// reconnects with backoff when the ledger is away; the cursor advances only past transfers
// that were scored or that the scorer refuses (a DomainError or ValidationError, such as a
// currency with no USD reference rate: logged and passed over, since retrying cannot change
// the answer). Any other failure retries the batch from its first transfer.
import { ValidationError } from "@bufbuild/protovalidate";
import type { Transfer } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { type Db, DomainError, type Logger } from "@qenex/platform";
import { deliveredBatches } from "./delivered-batches.js";
import { type LedgerSource, ledgerClient, scoreRequestOf } from "./ledger-feed.js";
import type { ScoreBatch } from "./score-once.js";

const cursorName = "ledger";
const backoffMsMin = 500;
const backoffMsMax = 30_000;
/**
 * The cursor is written at most this often (and when the stream ends), not after every
 * transfer: a statement per transfer was a third of the monitor's database work. Transfers
 * scored after the last write are scored again after a restart, which ScoreTransaction's
 * idempotency makes count once.
 */
export const cursorSaveIntervalMs = 250;
/**
 * Most transfers scored as one batch (and read ahead of the scoring). Per-batch statements and
 * round trips are already a small share at 50; larger batches cost more CPU per transfer, not
 * less (0.58 ms at 100, 0.72 ms at 500 on this box: a batch's ~150 history keys per transfer
 * outlive V8's young generation), so the cap is small.
 */
export const monitorBatchSizeMax = 100;

export type TransferMonitor = { stop(): Promise<void> /** Transfers scored since start. */; scored(): number };

export function startTransferMonitor(deps: {
  db: Db;
  logger: Logger;
  source: LedgerSource;
  scoreBatch: ScoreBatch;
  /** Used when no cursor is stored yet. */
  startAfter: bigint;
}): TransferMonitor {
  const { db, logger } = deps;
  const client = ledgerClient(deps.source);
  const stopping = new AbortController();
  let scored = 0;

  const readCursor = async () => {
    const { rows } = await db.query<{ after_sequence: string }>("SELECT after_sequence FROM risk_monitor_cursor WHERE name = $1", [
      cursorName,
    ]);
    return rows[0] ? BigInt(rows[0].after_sequence) : deps.startAfter;
  };
  const saveCursor = (sequence: bigint) =>
    db.query(
      `INSERT INTO risk_monitor_cursor (name, after_sequence) VALUES ($1, $2)
       ON CONFLICT (name) DO UPDATE SET after_sequence = GREATEST(risk_monitor_cursor.after_sequence, excluded.after_sequence)`,
      [cursorName, sequence.toString()],
    );

  // The newest sequence scored and not yet written; a timer writes it, so a burst's last
  // transfers are recorded even when nothing follows them. Writes run one after another, and
  // the end of a stream waits for the one in flight: stop() returns with the cursor written.
  let unsaved: bigint | undefined;
  let saveTimer: NodeJS.Timeout | undefined;
  let saving: Promise<void> = Promise.resolve();
  const saveNow = (): Promise<void> => {
    clearTimeout(saveTimer);
    saveTimer = undefined;
    const sequence = unsaved;
    unsaved = undefined;
    if (sequence === undefined) return saving;
    saving = saving.then(() =>
      saveCursor(sequence).then(
        () => {},
        (error: unknown) => {
          // Written with the next one; until then a restart scores these again, which counts once.
          if (unsaved === undefined) unsaved = sequence;
          logger.warn({ err: error }, "ledger monitor: cursor not saved; will retry");
        },
      ),
    );
    return saving;
  };

  const follow = async () => {
    const after = await readCursor();
    // Ends the stream when this connection is left (a failure), not only on stop().
    const connection = new AbortController();
    const signal = AbortSignal.any([stopping.signal, connection.signal]);
    try {
      const stream = client.watchTransfers({ afterSequence: after }, { signal });
      for await (const messages of deliveredBatches(stream, monitorBatchSizeMax)) {
        if (stopping.signal.aborted) break;
        const sequence = await scoreBatch(messages.flatMap((m) => (m.transfer ? [m.transfer] : [])));
        if (sequence === undefined) continue;
        unsaved = sequence;
        saveTimer ??= setTimeout(() => void saveNow(), cursorSaveIntervalMs).unref();
      }
    } finally {
      connection.abort();
      await saveNow();
    }
  };

  /** Scores streamed transfers as one batch; the last one's sequence once the cursor may pass them all. */
  const scoreBatch = async (transfers: readonly Transfer[]): Promise<bigint | undefined> => {
    const scorable = transfers.flatMap((transfer) => {
      const request = scoreRequestOf(transfer);
      return request ? [{ transfer, request }] : [];
    });
    const outcomes = scorable.length > 0 ? await deps.scoreBatch(scorable.map((s) => s.request)) : [];
    // A transfer the scorer refuses (bad input) would stop the monitor forever: it is logged
    // with its id and passed over; any other failure (a bug) retries the batch.
    for (const outcome of outcomes) {
      if (outcome.kind === "refused" && !(outcome.error instanceof DomainError || outcome.error instanceof ValidationError))
        throw outcome.error;
    }
    outcomes.forEach((outcome, i) => {
      if (outcome.kind !== "refused") scored++;
      else
        logger.error(
          { err: outcome.error, transferId: scorable[i]?.transfer.transferId },
          "ledger monitor: transfer cannot be scored; skipped",
        );
    });
    return transfers.at(-1)?.sequence;
  };

  const done = (async () => {
    let backoffMs = backoffMsMin;
    while (!stopping.signal.aborted) {
      try {
        await follow();
        if (stopping.signal.aborted) break;
        // The ledger ended the stream (a restart, a drain): reconnect after a pause.
        backoffMs = backoffMsMin;
        await new Promise((resolve) => setTimeout(resolve, backoffMs).unref());
      } catch (error) {
        if (stopping.signal.aborted) break;
        logger.warn({ err: error, retryInMs: backoffMs }, "ledger monitor: stream ended; reconnecting");
        await new Promise((resolve) => setTimeout(resolve, backoffMs).unref());
        backoffMs = Math.min(backoffMs * 2, backoffMsMax);
      }
    }
  })();

  return {
    async stop() {
      stopping.abort();
      await done;
    },
    scored: () => scored,
  };
}
