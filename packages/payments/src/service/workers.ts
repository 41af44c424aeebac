// The background loops of one payments process: the job runner (outbox), one event poller
// per clearing network, and the ACH cut-off. Several processes may run them against one
// database: claims use leases and FOR UPDATE SKIP LOCKED, and every handler is idempotent.
import type { Logger, PaymentsConfig } from "@qenex/platform";
import type { ClearingNetwork } from "../rails/types.js";
import type { Job, PaymentStore } from "../store/payment-store.js";
import type { PaymentsMetrics } from "./metrics.js";
import type { Processor } from "./processor.js";
import { createWakeSignal, type WakeSignal } from "./wake-signal.js";

/** How failing jobs are retried: exponential backoff, then the dead-letter table. */
export type RetryPolicy = { attemptsMax: number; backoffBaseMs: number; backoffMaxMs: number };

/** Twelve attempts over about two minutes, so an upstream restart is ridden out. */
export const defaultRetryPolicy: RetryPolicy = { attemptsMax: 12, backoffBaseMs: 100, backoffMaxMs: 30_000 };
const eventsPerPoll = 200;
/**
 * Most jobs one claim leases. A batch of one kind makes one ledger call and commits in one
 * transaction, so under load a claim takes what queued up meanwhile; when idle it is one job.
 */
export const jobBatchMax = 100;

export function backoffMs(attempts: number, policy: RetryPolicy = defaultRetryPolicy): number {
  const ceiling = Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** Math.max(0, attempts - 1));
  // Half jitter: replicas retrying the same failing upstream spread out.
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

export type Workers = { stop(): Promise<void> };

export function startWorkers(deps: {
  store: PaymentStore;
  processor: Pick<Processor, "runJobs" | "isNotYet" | "applyEvents" | "achCutoff">;
  networks: readonly ClearingNetwork[];
  config: PaymentsConfig;
  logger: Logger;
  metrics: PaymentsMetrics;
  retry?: RetryPolicy;
  /** Woken when this process scheduled a job (the store's onJobsScheduled), so it runs at once. */
  jobsReady?: WakeSignal;
}): Workers {
  const { store, processor, config, logger, metrics } = deps;
  const retry = deps.retry ?? defaultRetryPolicy;
  const jobsReady = deps.jobsReady ?? createWakeSignal();
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

  /** Runs one kind's batch; each failed job is retried on its own schedule or parked. */
  async function runBatch(jobs: readonly Job[]): Promise<void> {
    let failures: { job: Job; error: unknown }[];
    try {
      failures = await processor.runJobs(jobs);
    } catch (error) {
      failures = jobs.map((job) => ({ job, error }));
    }
    for (const { job, error } of failures) {
      // Unrecorded, the job's lease runs out and it is taken over.
      await failed(job, error).catch((recordError: unknown) => logger.error({ err: recordError }, "cannot record a job's failure"));
    }
  }

  async function failed(job: Job, error: unknown): Promise<void> {
    const message = error instanceof Error ? error.message : String(error);
    const notYet = processor.isNotYet(error);
    if (!notYet && job.attempts >= retry.attemptsMax) {
      if (await store.deadLetter(job.jobId, message)) {
        metrics.deadLettered(job.kind);
        logger.error({ job: { ...job, jobId: String(job.jobId) }, err: error }, "job failed too often; parked in payment_dead_letters");
      }
      return;
    }
    if (!notYet) logger.warn({ kind: job.kind, paymentId: job.paymentId, attempts: job.attempts, err: message }, "job failed; will retry");
    const delayMs = backoffMs(notYet ? 1 : job.attempts, retry);
    try {
      await store.retryJob(job.jobId, message, delayMs);
    } catch (retryError) {
      // The lease runs out and another worker takes the job over.
      logger.error({ err: retryError }, "cannot record a job's failure");
      return;
    }
    // The retry runs when it falls due, not at the next idle poll after.
    setTimeout(jobsReady.wake, delayMs).unref();
  }

  /** Claims batches while fewer than workerConcurrency run; each claim's jobs run as one batch per kind. */
  async function jobLoop(): Promise<void> {
    const running = new Set<Promise<void>>();
    while (!stopping) {
      let claimed: Job[] = [];
      if (running.size < config.workerConcurrency) {
        try {
          claimed = await store.claimJobs(jobBatchMax, config.jobLeaseMs);
        } catch (error) {
          if (!stopping) logger.error({ err: error }, "cannot claim payment jobs");
        }
      }
      const byKind = new Map<Job["kind"], Job[]>();
      for (const job of claimed) {
        const batch = byKind.get(job.kind);
        if (batch) batch.push(job);
        else byKind.set(job.kind, [job]);
      }
      for (const batch of byKind.values()) {
        const run = runBatch(batch).finally(() => running.delete(run));
        running.add(run);
      }
      if (claimed.length === 0) {
        // Full: wait for a free slot. Idle: wait for work announced here, or poll.
        await (running.size >= config.workerConcurrency ? Promise.race(running) : jobsReady.wait(config.pollIntervalMs, stopped.signal));
      }
    }
    await Promise.allSettled(running);
  }

  async function eventLoop(network: ClearingNetwork): Promise<void> {
    const due = createWakeSignal();
    const unwatch = network.watchDue?.(due.wake);
    while (!stopping) {
      let delivered = 0;
      try {
        delivered = await network.deliverDue(eventsPerPoll, processor.applyEvents);
      } catch (error) {
        if (!stopping) logger.error({ err: error, rail: network.rail }, "cannot apply network events; will retry");
      }
      // The answers committed with the jobs they call for (a post, a void): run those now.
      if (delivered > 0) jobsReady.wake();
      if (delivered < eventsPerPoll) await due.wait(config.pollIntervalMs, stopped.signal);
    }
    unwatch?.();
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
