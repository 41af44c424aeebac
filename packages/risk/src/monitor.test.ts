// The risk service following a real ledger: every committed transfer scored once, rule hits
// opening alerts, nothing scored twice across a restart; and a model trained from the
// ledger's history.
import { AccountType } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { startTestLedger, type TestLedger, uniquePrefix } from "@qenex/ledger/testing";
import { type FreshDatabase, freshDatabase, until } from "@qenex/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestRisk, type TestRisk } from "./testing/harness.js";

let ledger: TestLedger;
const started: TestRisk[] = [];
let database: FreshDatabase | undefined;

beforeAll(async () => {
  // On PostgreSQL, a database of this file's own: the monitor follows every transfer of the
  // ledger it watches, and other test files write thousands into the shared one.
  database = await freshDatabase("qenex_monitor");
  ledger = await startTestLedger(database.url ? { databaseUrl: database.url } : {});
});
afterAll(async () => {
  for (const risk of started) await risk.stop();
  await ledger?.stop();
  await database?.drop();
});

describe("monitoring the ledger's committed transfers", () => {
  it("scores each transfer once, opens alerts for rule hits, and resumes after a restart without rescoring", async () => {
    const p = uniquePrefix("mon");
    const admin = ledger.client(["admin"]);
    await admin.createAccount({ accountId: `${p}-a`, accountType: AccountType.CHECKING, currency: "USD", initialBalance: "50000.00" });
    await admin.createAccount({ accountId: `${p}-b`, accountType: AccountType.CHECKING, currency: "USD" });
    // Start after what is already in the ledger (other tests share a database).
    const marker = await admin.createTransfer({ sourceAccount: `${p}-a`, destinationAccount: `${p}-b`, amount: "1.00", currency: "USD" });
    const startAfter = marker.transfer?.sequence ?? 0n;
    const first = await startTestRisk({
      ledgerUrl: ledger.url,
      monitorAfterSequence: startAfter,
      ...(database?.url ? { databaseUrl: database.url } : {}),
    });
    started.push(first);

    const big = await admin.createTransfer({ sourceAccount: `${p}-a`, destinationAccount: `${p}-b`, amount: "12000.00", currency: "USD" });
    const small = await admin.createTransfer({ sourceAccount: `${p}-a`, destinationAccount: `${p}-b`, amount: "20.00", currency: "USD" });
    const alert = await until("the CTR alert", async () => (await first.client(["auditor"]).listAlerts({ accountId: `${p}-a` })).alerts[0]);
    expect(alert.transactionId).toBe(big.transfer?.transferId);
    expect(alert.reasons.map((r) => r.code)).toContain("aml.ctr");
    const smallScore = await until("the small transfer's score", async () => {
      const row = await first.process.db.query<{ result: string }>("SELECT result FROM risk_scores WHERE transaction_id = $1", [
        small.transfer?.transferId,
      ]);
      return row.rows[0]?.result;
    });
    expect(JSON.parse(smallScore).features.count_1h).toBe("2");

    // A second risk process on the same storage continues from the cursor.
    await first.stop();
    started.pop();
    const second = await startTestRisk({
      ledgerUrl: ledger.url,
      monitorAfterSequence: 0n,
      dataDir: first.dataDir,
      ...(database?.url ? { databaseUrl: database.url } : {}),
    });
    started.push(second);
    const third = await admin.createTransfer({ sourceAccount: `${p}-a`, destinationAccount: `${p}-b`, amount: "30.00", currency: "USD" });
    const thirdScore = await until("the third transfer's score", async () => {
      const row = await second.process.db.query<{ result: string }>("SELECT result FROM risk_scores WHERE transaction_id = $1", [
        third.transfer?.transferId,
      ]);
      return row.rows[0]?.result;
    });
    const scored = await second.process.db.query<{ transaction_id: string }>(
      "SELECT transaction_id FROM risk_scores WHERE account_id = $1 ORDER BY created_at",
      [`${p}-a`],
    );
    // The marker was before the start; the rest each once.
    expect(scored.rows.map((r) => r.transaction_id)).toEqual([
      big.transfer?.transferId,
      small.transfer?.transferId,
      third.transfer?.transferId,
    ]);
    expect((await second.client(["auditor"]).listAlerts({ accountId: `${p}-a` })).alerts).toHaveLength(1);
    // The velocity history outlives the process only in Redis (in-process it starts again).
    expect(JSON.parse(thirdScore).features.count_1h).toBe(process.env.REDIS_URL ? "3" : "1");
  });

  it("scores a backlog in batches, each transfer's velocity counting the ones before it", async () => {
    const p = uniquePrefix("monbatch");
    // The only monitor on this ledger: another following it would score the same transfers.
    for (const risk of started.splice(0)) await risk.stop();
    const admin = ledger.client(["admin"]);
    await admin.createAccount({ accountId: `${p}-a`, accountType: AccountType.CHECKING, currency: "USD", initialBalance: "50000.00" });
    await admin.createAccount({ accountId: `${p}-b`, accountType: AccountType.CHECKING, currency: "USD" });
    const marker = await admin.createTransfer({ sourceAccount: `${p}-a`, destinationAccount: `${p}-b`, amount: "1.00", currency: "USD" });
    const startAfter = marker.transfer?.sequence ?? 0n;
    const storage = database?.url ? { databaseUrl: database.url } : {};
    // A first start seeds the rules, so the backlog below is scored with them from its first batch.
    const first = await startTestRisk({ ledgerUrl: ledger.url, monitorAfterSequence: startAfter, ...storage });
    await first.stop();
    // Committed while no monitor runs: the stream then delivers them faster than they are scored.
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) {
      const t = await admin.createTransfer({
        sourceAccount: `${p}-a`,
        destinationAccount: `${p}-b`,
        amount: `${i + 1}.00`,
        currency: "USD",
      });
      ids.push(t.transfer?.transferId ?? "");
    }
    const risk = await startTestRisk({ ledgerUrl: ledger.url, monitorAfterSequence: startAfter, dataDir: first.dataDir, ...storage });
    started.push(risk);
    const results = await until("every transfer's score", async () => {
      const { rows } = await risk.process.db.query<{ transaction_id: string; result: string }>(
        "SELECT transaction_id, result FROM risk_scores WHERE transaction_id = ANY($1::text[])",
        [ids],
      );
      return rows.length === ids.length ? new Map(rows.map((r) => [r.transaction_id, r.result])) : undefined;
    });
    const counts = ids.map((id) => Number(JSON.parse(results.get(id) ?? "{}").features.count_1h));
    // Consecutive from the first (the marker counts too when a cursor left by another test
    // had this monitor start before it).
    expect(counts.map((c) => c - (counts[0] ?? 0))).toEqual(ids.map((_, i) => i));
    expect(counts[0]).toBeLessThanOrEqual(2);
    // From the tenth transfer of the hour on, the velocity rule holds each for review: one alert each.
    const alerts = (await risk.client(["auditor"]).listAlerts({ accountId: `${p}-a` })).alerts;
    expect(alerts).toHaveLength(counts.filter((c) => c >= 10).length);
  });

  it("passes over a transfer in a currency it cannot value, and scores the next one", async () => {
    const p = uniquePrefix("monkrw");
    const admin = ledger.client(["admin"]);
    await admin.createAccount({ accountId: `${p}-a`, accountType: AccountType.CHECKING, currency: "KRW", initialBalance: "5000000" });
    await admin.createAccount({ accountId: `${p}-b`, accountType: AccountType.CHECKING, currency: "KRW" });
    await admin.createAccount({ accountId: `${p}-c`, accountType: AccountType.CHECKING, currency: "USD", initialBalance: "100.00" });
    await admin.createAccount({ accountId: `${p}-d`, accountType: AccountType.CHECKING, currency: "USD" });
    const marker = await admin.createTransfer({ sourceAccount: `${p}-c`, destinationAccount: `${p}-d`, amount: "1.00", currency: "USD" });
    const risk = await startTestRisk({
      ledgerUrl: ledger.url,
      monitorAfterSequence: marker.transfer?.sequence ?? 0n,
      ...(database?.url ? { databaseUrl: database.url } : {}),
    });
    started.push(risk);
    const won = await admin.createTransfer({ sourceAccount: `${p}-a`, destinationAccount: `${p}-b`, amount: "1000000", currency: "KRW" });
    const after = await admin.createTransfer({ sourceAccount: `${p}-c`, destinationAccount: `${p}-d`, amount: "5.00", currency: "USD" });
    const scoreOf = async (transactionId: string | undefined) =>
      (await risk.process.db.query<{ result: string }>("SELECT result FROM risk_scores WHERE transaction_id = $1", [transactionId])).rows[0]
        ?.result;
    // Transfers are scored in commit order, so the later one scored means the monitor got past the first.
    await until("the transfer after the KRW one", () => scoreOf(after.transfer?.transferId));
    expect(await scoreOf(won.transfer?.transferId)).toBeUndefined();
    expect((await risk.client(["auditor"]).listAlerts({ accountId: `${p}-a` })).alerts).toEqual([]);
  });
});

describe("training from the ledger's history", () => {
  it("replays the committed transfers' features and trains a model on them", async () => {
    const p = uniquePrefix("train");
    const admin = ledger.client(["admin"]);
    await admin.createAccount({ accountId: `${p}-a`, accountType: AccountType.CHECKING, currency: "USD", initialBalance: "100000.00" });
    await admin.createAccount({ accountId: `${p}-b`, accountType: AccountType.CHECKING, currency: "USD" });
    const marker = await admin.createTransfer({ sourceAccount: `${p}-a`, destinationAccount: `${p}-b`, amount: "1.00", currency: "USD" });
    for (let i = 0; i < 30; i++) {
      await admin.createTransfer({ sourceAccount: `${p}-a`, destinationAccount: `${p}-b`, amount: `${10 + i}.00`, currency: "USD" });
    }
    const risk = await startTestRisk({
      ledgerUrl: ledger.url,
      monitorAfterSequence: marker.transfer?.sequence ?? 0n,
      ...(database?.url ? { databaseUrl: database.url } : {}),
    });
    started.push(risk);
    const trained = await risk.client().trainModel({
      name: `ledger-${p}`,
      features: ["amount_usd", "count_1h"],
      fromLedger: { afterSequence: marker.transfer?.sequence ?? 0n },
      seed: 5,
    });
    // At least this test's 30 transfers (other tests may add theirs to a shared ledger).
    expect(Number(trained.model?.trainingRows)).toBeGreaterThanOrEqual(30);
    expect(trained.model?.features).toEqual(["amount_usd", "count_1h"]);
  });

  it("says so when the risk service knows no ledger", async () => {
    const risk = await startTestRisk(database?.url ? { databaseUrl: database.url } : {});
    started.push(risk);
    const error = await risk
      .client()
      .trainModel({ name: "x", features: ["amount_usd"], fromLedger: {} })
      .catch((e: unknown) => e as { rawMessage: string });
    expect((error as { rawMessage: string }).rawMessage).toContain("QENEX_LEDGER_URL");
  });
});
