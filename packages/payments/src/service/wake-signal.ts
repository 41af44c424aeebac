// A wake-up for a polling loop: work that becomes ready in this process wakes the loop at
// once; the poll interval is left only as the fallback for work that appears elsewhere
// (another replica, a delayed retry falling due).

export type WakeSignal = {
  /** Ready work exists: the current or the next wait returns at once. */
  wake(): void;
  /** Resolves after `timeoutMs`, on wake() (also one that came before this wait) or on abort. */
  wait(timeoutMs: number, abort: AbortSignal): Promise<void>;
};

export function createWakeSignal(): WakeSignal {
  // A wake with no one waiting is kept, so work enqueued between a poll and its wait is not missed.
  let pending = false;
  let waiting: (() => void) | undefined;
  return {
    wake() {
      if (waiting) waiting();
      else pending = true;
    },
    wait(timeoutMs, abort) {
      if (pending || abort.aborted) {
        pending = false;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          abort.removeEventListener("abort", done);
          if (waiting === done) waiting = undefined;
          resolve();
        };
        const timer = setTimeout(done, timeoutMs);
        abort.addEventListener("abort", done);
        // One waiter per signal: each loop owns its own.
        waiting = done;
      });
    },
  };
}
