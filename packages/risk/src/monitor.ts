// Transaction monitoring after the fact: follows the ledger's committed transfers from a
// cursor kept in PostgreSQL and scores each one once (ScoreTransaction's idempotency makes a
// transfer seen twice — after a restart, or by two risk replicas — count once). Rule hits
// open alerts as a live score would. The stream reconnects with backoff when the ledger is
// away; the cursor advances only past transfers that were scored or that the scorer refuses
// (a DomainError or ValidationError, such as a currency with no USD reference rate: logged and
// passed over, since retrying cannot change the answer). Any other failure is retried from the
// same transfer.
import { ValidationError } from "@bufbuild/protovalidate";
import type { Transfer } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { type Db, DomainError, type Logger } from "@qenex/platform";
import { type LedgerSource, ledgerClient, scoreRequestOf } from "./ledger-feed.js";
import type { ScoreOnce } from "./score-once.js";

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

export type TransferMonitor = { stop(): Promise<void> /** Transfers scored since start. */; scored(): number };

export function startTransferMonitor(deps: {
  db: Db;
  logger: Logger;
  source: LedgerSource;
  scoreOnce: ScoreOnce;
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
    try {
      for await (const message of client.watchTransfers({ afterSequence: after }, { signal: stopping.signal })) {
        const sequence = await scoreOne(message.transfer);
        if (sequence === undefined) continue;
        unsaved = sequence;
        saveTimer ??= setTimeout(() => void saveNow(), cursorSaveIntervalMs).unref();
      }
    } finally {
      await saveNow();
    }
  };

  /** Scores one streamed transfer; its sequence once the cursor may pass it. */
  const scoreOne = async (transfer: Transfer | undefined): Promise<bigint | undefined> => {
    if (!transfer) return undefined;
    const request = scoreRequestOf(transfer);
    if (request) {
      try {
        await deps.scoreOnce(request);
        scored++;
      } catch (error) {
        // A transfer the scorer refuses (bad input) would stop the monitor forever: it is
        // logged with its id and passed over; any other failure (storage) is retried.
        if (!(error instanceof DomainError || error instanceof ValidationError)) throw error;
        logger.error({ err: error, transferId: transfer.transferId }, "ledger monitor: transfer cannot be scored; skipped");
      }
    }
    return transfer.sequence;
  };

  const done = (async () => {
    let backoffMs = backoffMsMin;
    while (!stopping.signal.aborted) {
      try {
        await follow();
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
