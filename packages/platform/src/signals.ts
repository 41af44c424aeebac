// Stopping a process on a signal, once: shared by every service process and the supervisor.
// Kept free of heavy imports so the supervisor can load it without the services' runtime.
import type { Logger } from "./logger.js";

/**
 * Stops the processes on SIGTERM or SIGINT (and any other `signals`), then exits 0 (1 if a
 * stop failed). A signal that comes while stopping is ignored: stop runs once. Returns the
 * trigger, for a caller that has another reason to stop (its parent went away).
 */
export function stopOnSignals(
  processes: readonly { stop(): Promise<void> }[],
  logger: Logger,
  signals: readonly NodeJS.Signals[] = ["SIGTERM", "SIGINT"],
): (signal: NodeJS.Signals) => void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "draining");
    Promise.all(processes.map((p) => p.stop())).then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  for (const signal of signals) process.on(signal, onSignal);
  return onSignal;
}

/** Resolves when `signal` aborts (at once if it already has): for a stream held open until its caller ends it. */
export function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener("abort", () => resolve(), { once: true });
  });
}
