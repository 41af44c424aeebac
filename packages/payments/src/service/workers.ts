// The background loops of one payments process: the job runner (outbox), one event poller
// per clearing network, and the ACH cut-off. Several processes may run them against one
// database: claims use leases and FOR UPDATE SKIP LOCKED, and every handler is idempotent.
import type { Logger, PaymentsConfig } from "@qenex/platform";
import type { ClearingNetwork } from "../rails/types.js";
import type { Job, PaymentStore } from "../store/payment-store.js";
import type { PaymentsMetrics } from "./metrics.js";
import type { Processor } from "./processor.js";

/** How failing jobs are retried: exponential backoff, then the dead-letter table. */
export type RetryPolicy = { attemptsMax: number; backoffBaseMs: number; backoffMaxMs: number };

/** Twelve attempts over about two minutes, so an upstream restart is ridden out. */
export const defaultRetryPolicy: RetryPolicy = { attemptsMax: 12, backoffBaseMs: 100, backoffMaxMs: 30_000 };
const idlePollMs = 50;
const eventsPerPoll = 200;

export function backoffMs(attempts: number, policy: RetryPolicy = defaultRetryPolicy): number {
  const ceiling = Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** Math.max(0, attempts - 1));
  // Half jitter: replicas retrying the same failing upstream spread out.
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

export type Workers = { stop(): Promise<void> };

export function startWorkers(deps: {
  store: PaymentStore;
  processor: Pick<Processor, "handlers" | "isNotYet" | "applyEvents" | "achCutoff">;
  networks: readonly ClearingNetwork[];
  config: PaymentsConfig;
  logger: Logger;
  metrics: PaymentsMetrics;
  retry?: RetryPolicy;
}): Workers {
  const { store, processor, config, logger, metrics } = deps;
  const retry = deps.retry ?? defaultRetryPolicy;
  let stopping = false;
  const stopped = new AbortController();
  // Every wait ends at stop, so shutdown never waits out an ACH cut-off interval.
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        stopped.signal.removeEventListener("abort", done);
        resolve();
      }
      stopped.signal.addEventListener("abort", done);
    });

  async function runJob(job: Job): Promise<void> {
    try {
      await processor.handlers[job.kind](job);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const notYet = processor.isNotYet(error);
      if (!notYet && job.attempts >= retry.attemptsMax) {
        if (await store.deadLetter(job.jobId, message)) {
          metrics.deadLettered(job.kind);
          logger.error({ job: { ...job, jobId: String(job.jobId) }, err: error }, "job failed too often; parked in payment_dead_letters");
        }
        return;
      }
      if (!notYet)
        logger.warn({ kind: job.kind, paymentId: job.paymentId, attempts: job.attempts, err: message }, "job failed; will retry");
      await store.retryJob(job.jobId, message, backoffMs(notYet ? 1 : job.attempts, retry)).catch((retryError: unknown) => {
        // The lease runs out and another worker takes the job over.
        logger.error({ err: retryError }, "cannot record a job's failure");
      });
    }
  }

  async function jobLoop(): Promise<void> {
    const running = new Set<Promise<void>>();
    while (!stopping) {
      const free = config.workerConcurrency - running.size;
      let claimed: Job[] = [];
      if (free > 0) {
        try {
          claimed = await store.claimJobs(free, config.jobLeaseMs);
        } catch (error) {
          if (!stopping) logger.error({ err: error }, "cannot claim payment jobs");
        }
      }
      for (const job of claimed) {
        const run = runJob(job).finally(() => running.delete(run));
        running.add(run);
      }
      if (claimed.length === 0) {
        await Promise.race([sleep(idlePollMs), ...(running.size >= config.workerConcurrency ? running : [])]);
      }
    }
    await Promise.allSettled(running);
  }

  async function eventLoop(network: ClearingNetwork): Promise<void> {
    while (!stopping) {
      let delivered = 0;
      try {
        delivered = await network.deliverDue(eventsPerPoll, processor.applyEvents);
      } catch (error) {
        if (!stopping) logger.error({ err: error, rail: network.rail }, "cannot apply network events; will retry");
      }
      if (delivered < eventsPerPoll) await sleep(idlePollMs);
    }
  }

  async function achLoop(): Promise<void> {
    while (!stopping) {
      await sleep(config.achCutoffMs);
      if (stopping) break;
      try {
        const gathered = await processor.achCutoff();
        if (gathered > 0) logger.info({ payments: gathered }, "ACH cut-off: NACHA file built");
      } catch (error) {
        if (!stopping) logger.error({ err: error }, "ACH cut-off failed; the payments wait for the next one");
      }
    }
  }

  const loops = [jobLoop(), achLoop(), ...deps.networks.map(eventLoop)];
  return {
    async stop() {
      stopping = true;
      stopped.abort();
      await Promise.allSettled(loops);
    },
  };
}
