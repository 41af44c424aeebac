// Wakes WatchTransfers streams when any replica commits transfers. The database NOTIFY
// only says "something new"; streams always read by cursor (commit_seq), so a lost or
// merged notification delays delivery by at most the poll interval and never loses a
// transfer.
import type { Db, Logger } from "@qenex/platform";

export type Notifier = {
  /** Resolves at the next commit notification, after `timeoutMs`, or when `signal` aborts. */
  next(signal: AbortSignal, timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
};

export const watchChannel = "ledger_transfers";

export function createNotifier(db: Db, logger: Logger): Notifier {
  const waiters = new Set<() => void>();
  const wakeAll = () => {
    for (const wake of [...waiters]) wake();
  };
  let unlisten: Promise<(() => Promise<void>) | undefined> | undefined;
  const ensureListening = () => {
    unlisten ??= db.listen(watchChannel, wakeAll).catch((error: unknown) => {
      logger.warn({ err: error }, "LISTEN failed; watchers fall back to polling");
      return undefined;
    });
    return unlisten;
  };
  return {
    async next(signal, timeoutMs) {
      await ensureListening();
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          waiters.delete(done);
          signal.removeEventListener("abort", done);
          resolve();
        };
        const timer = setTimeout(done, timeoutMs);
        waiters.add(done);
        signal.addEventListener("abort", done, { once: true });
      });
    },
    async stop() {
      wakeAll();
      const stopListening = await unlisten;
      await stopListening?.();
    },
  };
}
