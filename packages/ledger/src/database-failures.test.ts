// The ledger on a PostgreSQL of the test's own, which the test cuts off, stops and freezes:
// the process never crashes, calls end UNAVAILABLE (or DEADLINE_EXCEEDED) within their
// deadline, and once the database is back calls succeed without a restart.
import { Code, ConnectError } from "@connectrpc/connect";
import { AccountType } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { createAuth, createLogger, type Server, serve, storageProbes } from "@qenex/platform";
import { type PrivatePostgres, startPrivatePostgres } from "@qenex/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestLedger, type TestLedger, testJwtSecret, uniquePrefix } from "./testing/harness.js";

/** Slack on top of a call's deadline for a loaded 2-core CI machine; the calls end far sooner. */
const slackMs = 2_000;
/** Bounded polling for recovery: attempts × interval. */
const recoveryAttemptsMax = 100;
const recoveryPollMs = 100;

let postgres: PrivatePostgres;
let ledger: TestLedger;
/** A server with the ledger's storage probes, for GET /health (the runtime wires them into every service). */
let health: Server;

beforeAll(async () => {
  postgres = await startPrivatePostgres();
  ledger = await startTestLedger({ databaseUrl: postgres.url });
  const { db, kv } = ledger.process;
  health = await serve({
    services: [],
    host: "127.0.0.1",
    port: 0,
    auth: createAuth(testJwtSecret),
    logger: createLogger("test", "silent"),
    ready: async () => {
      await db.ping();
      return true;
    },
    probes: storageProbes(db, kv),
  });
});

afterAll(async () => {
  await health?.close(0);
  await ledger?.stop();
  await postgres?.destroy();
});

const openAccount = (id: string, options: { timeoutMs?: number } = {}) =>
  ledger.client().createAccount({ accountId: id, accountType: AccountType.CHECKING, currency: "USD", initialBalance: "10.00" }, options);

/** How a call ended and how long it took. */
async function outcome(call: Promise<unknown>): Promise<{ code: Code | "ok"; message: string; elapsedMs: number }> {
  const startMs = performance.now();
  try {
    await call;
    return { code: "ok", message: "", elapsedMs: performance.now() - startMs };
  } catch (error) {
    const connectError = ConnectError.from(error);
    return { code: connectError.code, message: connectError.rawMessage, elapsedMs: performance.now() - startMs };
  }
}

async function healthOf(): Promise<{ httpStatus: number; body: { status: string; dependencies: { name: string; ok: boolean }[] } }> {
  const res = await fetch(`${health.url}/health`, { signal: AbortSignal.timeout(5_000) });
  return { httpStatus: res.status, body: (await res.json()) as { status: string; dependencies: { name: string; ok: boolean }[] } };
}

/** Polls until a call succeeds (the database is back); fails after recoveryAttemptsMax. */
async function untilCallsSucceed(): Promise<void> {
  for (let attempt = 0; attempt < recoveryAttemptsMax; attempt++) {
    const result = await outcome(openAccount(uniquePrefix("recover"), { timeoutMs: 2_000 }));
    if (result.code === "ok") return;
    expect([Code.Unavailable, Code.DeadlineExceeded]).toContain(result.code);
    await new Promise((resolve) => setTimeout(resolve, recoveryPollMs));
  }
  throw new Error(`calls did not succeed again within ${recoveryAttemptsMax} attempts`);
}

describe("ledger when its database fails", () => {
  it("survives its connections being terminated mid-call, and the next calls succeed", async () => {
    const prefix = uniquePrefix("term");
    let stop = false;
    const results: Awaited<ReturnType<typeof outcome>>[] = [];
    const worker = async (w: number) => {
      for (let n = 0; !stop; n++) {
        results.push(await outcome(openAccount(`${prefix}-${w}-${n}`, { timeoutMs: 5_000 })));
      }
    };
    const workers = Promise.all([0, 1, 2, 3, 4, 5].map(worker));
    let terminated = 0;
    for (let round = 0; round < 5; round++) {
      // Let each round find calls in flight: wait for some to finish, not for a fixed time.
      const seen = results.length;
      for (let i = 0; i < 100 && results.length < seen + 6; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      terminated += await postgres.terminateBackends();
    }
    stop = true;
    await workers;
    expect(terminated).toBeGreaterThan(0);
    for (const result of results) {
      if (result.code !== "ok") {
        expect(result.code).toBe(Code.Unavailable);
        expect(result.message).toMatch(/^database unavailable: /);
      }
    }
    // The pool dropped the terminated connections: new calls find new ones.
    const next = await openAccount(`${prefix}-after`);
    expect(next.balance?.balance?.amount).toBe("10.00");
    expect((await ledger.client().getBalance({ accountId: `${prefix}-after` })).balance?.balance?.amount).toBe("10.00");
  });

  it("answers UNAVAILABLE within the deadline while the database is stopped, and recovers when it returns", async () => {
    const id = uniquePrefix("stopped");
    await openAccount(id);
    await postgres.stop();
    try {
      const read = await outcome(ledger.client().getBalance({ accountId: id }, { timeoutMs: 1_000 }));
      expect(read.code).toBe(Code.Unavailable);
      expect(read.message).toMatch(/^database unavailable: /);
      expect(read.elapsedMs).toBeLessThan(1_000 + slackMs);
      const write = await outcome(openAccount(uniquePrefix("stopped"), { timeoutMs: 1_000 }));
      expect(write.code).toBe(Code.Unavailable);
      expect(write.elapsedMs).toBeLessThan(1_000 + slackMs);

      const down = await healthOf();
      expect(down.httpStatus).toBe(503);
      expect(down.body.status).toBe("degraded");
      expect(down.body.dependencies.find((d) => d.name === "postgresql")?.ok).toBe(false);
    } finally {
      await postgres.start();
    }
    // The same process, not restarted: its pool connects again.
    await untilCallsSucceed();
    expect((await ledger.client().getBalance({ accountId: id })).balance?.balance?.amount).toBe("10.00");
    const up = await healthOf();
    expect(up.httpStatus).toBe(200);
    expect(up.body.dependencies.find((d) => d.name === "postgresql")?.ok).toBe(true);
  });

  it("ends a call by its deadline while the database is frozen, and recovers when it thaws", async () => {
    const id = uniquePrefix("frozen");
    await openAccount(id);
    postgres.freeze();
    try {
      const [read, write, frozenHealth] = await Promise.all([
        outcome(ledger.client().getBalance({ accountId: id }, { timeoutMs: 1_500 })),
        outcome(openAccount(uniquePrefix("frozen"), { timeoutMs: 1_500 })),
        healthOf(),
      ]);
      for (const result of [read, write]) {
        expect([Code.Unavailable, Code.DeadlineExceeded]).toContain(result.code);
        expect(result.elapsedMs).toBeLessThan(1_500 + slackMs);
      }
      expect(frozenHealth.httpStatus).toBe(503);
      expect(frozenHealth.body.dependencies.find((d) => d.name === "postgresql")?.ok).toBe(false);
    } finally {
      postgres.thaw();
    }
    await untilCallsSucceed();
    expect((await ledger.client().getBalance({ accountId: id })).balance?.balance?.amount).toBe("10.00");
  });
});
