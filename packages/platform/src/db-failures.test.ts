// Statement timeouts on a PostgreSQL of the test's own: a statement ends by the call's
// deadline (or the default), its connection is discarded, and the pool goes on working.
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createPostgresDb, type Db } from "./db.js";
import { runWithDeadline, runWithTimeout } from "./deadline.js";
import { type PrivatePostgres, startPrivatePostgres, timedFailure } from "./testing/private-servers.js";
import { UnavailableError } from "./unavailable.js";

const slackMs = 2_000;
let postgres: PrivatePostgres;
let db: Db;
beforeAll(async () => {
  postgres = await startPrivatePostgres();
  db = createPostgresDb(postgres.url, 2, { schema: "failures" });
});
afterAll(async () => {
  await db?.close();
  await postgres?.destroy();
});

describe("PostgreSQL statement timeouts", () => {
  it("sets a server-side statement_timeout backstop beside the schema's search_path", async () => {
    expect((await db.query<{ statement_timeout: string }>("SHOW statement_timeout")).rows[0]?.statement_timeout).toBe("1min");
    expect((await db.query<{ search_path: string }>("SHOW search_path")).rows[0]?.search_path).toBe("failures");
  });

  it("ends a statement at the call's deadline and discards its connection", async () => {
    const { error, elapsedMs } = await timedFailure(runWithTimeout(300, () => db.query("SELECT pg_sleep(30)")));
    // The caller's deadline cut it short: DEADLINE_EXCEEDED, with the database's timeout as the cause.
    expect(ConnectError.from(error).code).toBe(Code.DeadlineExceeded);
    expect((error as ConnectError).cause).toBeInstanceOf(UnavailableError);
    expect(elapsedMs).toBeLessThan(300 + slackMs);
    // The pool of two serves on: the timed-out connection was dropped, not handed out again.
    for (let i = 0; i < 4; i++) expect((await db.query<{ n: number }>("SELECT 1 AS n")).rows[0]?.n).toBe(1);
  });

  it("ends a transaction at the call's deadline and rolls it back", async () => {
    await db.exec("CREATE SCHEMA IF NOT EXISTS failures; CREATE TABLE IF NOT EXISTS failures.t (n int)");
    const { error } = await timedFailure(
      runWithTimeout(300, () =>
        db.transaction(async (tx) => {
          await tx.query("INSERT INTO failures.t VALUES (1)");
          await tx.query("SELECT pg_sleep(30)");
        }),
      ),
    );
    expect(ConnectError.from(error).code).toBe(Code.DeadlineExceeded);
    expect((await db.query("SELECT n FROM failures.t")).rowCount).toBe(0);
  });

  it("takes a statement its deadline's timer ended for DEADLINE_EXCEEDED even before Date.now() reaches the deadline", async () => {
    // Node's timers may fire a few ms before Date.now() reaches the time they were set for (their
    // clock is read once per turn of the event loop); a clock that stops just short of the
    // deadline makes that certain.
    const realNow = Date.now.bind(Date);
    const deadlineAtMs = realNow() + 300;
    const clock = vi.spyOn(Date, "now").mockImplementation(() => Math.min(realNow(), deadlineAtMs - 1));
    try {
      const { error } = await timedFailure(runWithDeadline(deadlineAtMs, () => db.query("SELECT pg_sleep(30)")));
      expect(ConnectError.from(error).code).toBe(Code.DeadlineExceeded);
      expect((error as ConnectError).cause).toBeInstanceOf(UnavailableError);
    } finally {
      clock.mockRestore();
    }
    expect((await db.query<{ n: number }>("SELECT 1 AS n")).rows[0]?.n).toBe(1);
  });

  it("refuses a statement whose call's deadline has already passed, without using a connection", async () => {
    const { error } = await timedFailure(runWithTimeout(-1, () => db.query("SELECT 1")));
    // The caller's own deadline, not the database, is why: DEADLINE_EXCEEDED, not UNAVAILABLE.
    expect(ConnectError.from(error).code).toBe(Code.DeadlineExceeded);
  });
});
