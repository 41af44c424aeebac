// The job runner on a real database: failing work is retried with backoff and then parked in
// the dead-letter table; two runners on one database never run the same job twice.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createDb, createLogger, type Db, loadConfig, migrate } from "@qenex/platform";
import { freshDatabase, until } from "@qenex/platform/testing";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { paymentsMigrations } from "../index.js";
import { createPaymentStore, type Job, type PaymentStore } from "../store/payment-store.js";
import { createPaymentsMetrics } from "./metrics.js";
import type { Processor } from "./processor.js";
import { startWorkers } from "./workers.js";

let db: Db;
let store: PaymentStore;
let drop: (() => Promise<void>) | undefined;

beforeAll(async () => {
  const fresh = await freshDatabase("qenex_payments_workers");
  drop = fresh.drop;
  db = await createDb({ databaseUrl: fresh.url, dataDir: fs.mkdtempSync(path.join(os.tmpdir(), "qenex-workers-")), poolMax: 8 });
  await migrate(db, "payments", paymentsMigrations);
  store = createPaymentStore(db);
});

afterAll(async () => {
  await db?.close();
  await drop?.();
});

const config = {
  ...loadConfig({ QENEX_PAYMENTS_WORKERS: "8", QENEX_ACH_CUTOFF_MS: "3600000" }, { forServer: false }).payments,
  jobLeaseMs: 60_000,
};
const logger = createLogger("payments-test", "silent");

/** A processor whose batches run `transmit` for each job; a job that throws is reported failed. */
function processorWith(transmit: (job: Job) => Promise<void>): Pick<Processor, "runJobs" | "isNotYet" | "applyEvents" | "achCutoff"> {
  return {
    async runJobs(jobs) {
      const failures: { job: Job; error: unknown }[] = [];
      for (const job of jobs) {
        if (job.kind !== "transmit") throw new Error("not in this test");
        await transmit(job).catch((error: unknown) => failures.push({ job, error }));
      }
      return failures;
    },
    isNotYet: (_error: unknown): _error is never => false,
    applyEvents: async () => {},
    achCutoff: async () => 0,
  };
}

describe("payment job workers", () => {
  it("retry failing work with backoff, park it in payment_dead_letters with its last error, and run it again once requeued", async () => {
    const registry = new Registry();
    const attemptsAt: number[] = [];
    const workers = startWorkers({
      store,
      processor: processorWith(async () => {
        attemptsAt.push(Date.now());
        throw new Error(`network down (attempt ${attemptsAt.length})`);
      }),
      networks: [],
      config,
      logger,
      metrics: createPaymentsMetrics(registry),
      retry: { attemptsMax: 4, backoffBaseMs: 40, backoffMaxMs: 1000 },
    });
    await db.transaction((tx) => store.schedule(tx, { kind: "transmit", payload: { messageId: "m-dead" }, dedupeKey: "transmit:m-dead" }));
    await until("m-dead in payment_dead_letters", async () =>
      (await store.deadLetters(db)).some((row) => row.payload === JSON.stringify({ messageId: "m-dead" })) ? true : undefined,
    );
    await workers.stop();
    expect(attemptsAt).toHaveLength(4);
    // Each wait is at least half its ceiling: 20, 40, 80 ms.
    const waits = attemptsAt.slice(1).map((at, i) => at - (attemptsAt[i] ?? at));
    expect(waits.every((wait, i) => wait >= 20 * 2 ** i - 5)).toBe(true);
    const parked = (await store.deadLetters(db)).find((row) => row.payload === JSON.stringify({ messageId: "m-dead" }));
    expect(parked).toMatchObject({ kind: "transmit", attempts: 4, lastError: "network down (attempt 4)" });
    expect(await store.pendingJobs(db)).toBe(0);
    expect((await registry.getSingleMetricAsString("qenex_payments_dead_letters_total")).trim()).toMatch(/kind="transmit"} 1$/);
    // Once the cause is fixed, an operator puts it back in the queue, and it runs.
    expect(await store.requeueDeadLetter(parked?.deadLetterId ?? 0n)).toBe("requeued");
    expect(await store.requeueDeadLetter(parked?.deadLetterId ?? 0n)).toBe("missing");
    expect(await store.pendingJobs(db)).toBe(1);
    const fixed = startWorkers({
      store,
      processor: processorWith(async (job) => {
        await db.transaction((tx) => store.completeJob(tx, job.jobId));
      }),
      networks: [],
      config,
      logger,
      metrics: createPaymentsMetrics(new Registry()),
    });
    await until("no pending jobs", async () => ((await store.pendingJobs(db)) === 0 ? true : undefined));
    await fixed.stop();
  });

  it("two runners on one database run each job exactly once", async () => {
    const runs = new Map<string, number>();
    const transmit = (runner: string) => async (job: Job) => {
      const messageId = job.payload.messageId ?? "";
      runs.set(messageId, (runs.get(messageId) ?? 0) + 1);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
      await db.transaction((tx) => store.completeJob(tx, job.jobId));
      void runner;
    };
    const metrics = createPaymentsMetrics(new Registry());
    const jobs = 300;
    await db.transaction(async (tx) => {
      for (let i = 0; i < jobs; i++)
        await store.schedule(tx, { kind: "transmit", payload: { messageId: `m-${i}` }, dedupeKey: `transmit:m-${i}` });
    });
    const runners = ["a", "b"].map((runner) =>
      startWorkers({ store, processor: processorWith(transmit(runner)), networks: [], config, logger, metrics }),
    );
    await until("no pending jobs", async () => ((await store.pendingJobs(db)) === 0 ? true : undefined));
    await Promise.all(runners.map((r) => r.stop()));
    expect(runs.size).toBe(jobs);
    expect([...runs.values()].every((count) => count === 1)).toBe(true);
  });
});
