import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPgliteDb, createPostgresDb, type Db, migrate, type Queryable } from "@qenex/platform";
import { freshDatabase } from "@qenex/platform/testing";
import { afterAll, describe, expect, it } from "vitest";
import { achPayment, fedwirePayment, mt103Payment, now, ourBic, sepaPayment, swiftPayment } from "./fixtures.js";
import { readNetworkReply } from "./inbound.js";
import { buildAchFile, buildCreditTransfer } from "./messages.js";
import {
  createSimulatedNetwork,
  decideOutcome,
  receivedMessages,
  type SimulatedNetworkOptions,
  simulatedNetworkMigrations,
} from "./simulated-network.js";
import type { NetworkEvent } from "./types.js";

const opened: { db: Db; drop: () => Promise<void> }[] = [];
afterAll(async () => {
  for (const { db, drop } of opened) {
    await db.close();
    await drop();
  }
});

/** A database of its own per test: PostgreSQL when DATABASE_URL is set, else PGlite in a temp dir. */
async function freshDb(): Promise<Db> {
  const database = await freshDatabase("qenex_simnet");
  let db: Db;
  let drop: () => Promise<void>;
  if (database.url) {
    db = createPostgresDb(database.url, 4);
    drop = database.drop;
  } else {
    const dir = mkdtempSync(join(tmpdir(), "simnet-"));
    db = await createPgliteDb(dir);
    drop = async () => rmSync(dir, { recursive: true, force: true });
  }
  opened.push({ db, drop });
  await migrate(db, "payments-network", simulatedNetworkMigrations);
  return db;
}

function clock(start: Date) {
  let at = start.getTime();
  return { now: () => new Date(at), advance: (ms: number) => (at += ms) };
}

type Base = Omit<SimulatedNetworkOptions, "db" | "rail">;
const base: Base = { seed: 7, rejectRate: 0.2, returnRate: 0.1, latencyMs: 1_000, ourBic };

async function drain(network: ReturnType<typeof createSimulatedNetwork>, limit = 100): Promise<NetworkEvent[]> {
  const all: NetworkEvent[] = [];
  for (let round = 0; round < 50; round++) {
    const n = await network.deliverDue(limit, async (events) => {
      all.push(...events);
    });
    if (n === 0) break;
  }
  return all;
}

describe("simulated network", () => {
  it("records a message once: a repeat is a duplicate, counted, and schedules nothing again", async () => {
    const db = await freshDb();
    const time = clock(now);
    const network = createSimulatedNetwork({ ...base, db, rail: "SEPA", rejectRate: 0, returnRate: 0, now: time.now });
    const message = buildCreditTransfer(sepaPayment, { now, ourBic });
    expect(await network.submit(message, [sepaPayment.paymentId])).toEqual({ duplicate: false });
    expect(await network.submit(message, [sepaPayment.paymentId])).toEqual({ duplicate: true });
    expect(await receivedMessages(db)).toEqual([{ rail: "SEPA", messageId: message.messageId, receivedCount: 2 }]);
    time.advance(10_000);
    const events = await drain(network);
    expect(events.map((e) => e.kind)).toEqual(["ACCEPTED", "SETTLED"]);
    expect(events.map((e) => readNetworkReply(e.message ?? message).kind)).toEqual(["ACCEPTED", "SETTLED"]);
  });

  it("refuses a malformed message and a reused id with other content, recording neither", async () => {
    const db = await freshDb();
    const network = createSimulatedNetwork({ ...base, db, rail: "SEPA" });
    const message = buildCreditTransfer(sepaPayment, { now, ourBic });
    const broken = { ...message, content: message.content.replace("<IntrBkSttlmAmt", "<IntrBkSttlmAmtX") };
    await expect(network.submit(broken, [sepaPayment.paymentId])).rejects.toThrow(/malformed/);
    await expect(network.submit(message, ["someone-else"])).rejects.toThrow(/carries payment pay_sepa-1, not someone-else/);
    expect(await receivedMessages(db)).toEqual([]);
    await network.submit(message, [sepaPayment.paymentId]);
    const other = buildCreditTransfer({ ...sepaPayment, amountMinor: 1n }, { now, ourBic });
    await expect(network.submit(other, [sepaPayment.paymentId])).rejects.toThrow(/different content/);
    expect((await receivedMessages(db))[0]?.receivedCount).toBe(1);
  });

  it("decides outcomes from (seed, paymentId): the same seed gives the same fates, another seed others", () => {
    const ids = Array.from({ length: 200 }, (_, i) => `p${i}`);
    const fates = (seed: number) => ids.map((id) => decideOutcome({ ...base, rail: "SEPA", seed }, id));
    expect(fates(7)).toEqual(fates(7));
    expect(fates(8)).not.toEqual(fates(7));
  });

  it("honours the rates roughly over 500 ACH payments, with R-code return files naming each payment", async () => {
    const db = await freshDb();
    const time = clock(now);
    const network = createSimulatedNetwork({ ...base, db, rail: "ACH", now: time.now });
    const payments = Array.from({ length: 500 }, (_, i) => achPayment(`ach-${i}`));
    const file = buildAchFile(payments, { now, fileIdModifier: "A", originRouting: "121042882", originName: "QENEX" });
    await network.submit(
      file,
      payments.map((p) => p.paymentId),
    );
    expect(await drain(network)).toEqual([]);
    time.advance(3_000);
    const events = await drain(network, 1_000);
    const count = (kind: string) => events.filter((e) => e.kind === kind).length;
    expect(count("REJECTED")).toBeGreaterThan(70);
    expect(count("REJECTED")).toBeLessThan(130);
    expect(count("RETURNED")).toBeGreaterThan(30);
    expect(count("RETURNED")).toBeLessThan(70);
    expect(count("SETTLED")).toBe(500 - count("REJECTED"));
    for (const event of events.filter((e) => e.kind === "REJECTED" || e.kind === "RETURNED")) {
      const reply = readNetworkReply(event.message ?? file);
      expect(reply).toMatchObject({ kind: event.kind, paymentIds: [event.paymentId], reasonCode: event.reasonCode });
      expect(reply.reasonCode).toMatch(/^R\d\d$/);
    }
  });

  it("schedules SWIFT answers at +latency, +2x and +3x, in order per payment, with pacs.002/pacs.004 reasons", async () => {
    const db = await freshDb();
    const time = clock(now);
    const network = createSimulatedNetwork({ ...base, db, rail: "SWIFT", rejectRate: 0, returnRate: 1, now: time.now });
    const message = buildCreditTransfer(swiftPayment, { now, ourBic });
    await network.submit(message, [swiftPayment.paymentId]);
    const mt = buildCreditTransfer(mt103Payment, { now, ourBic });
    await network.submit(mt, [mt103Payment.paymentId]);
    const kinds = async () => (await drain(network)).map((e) => `${e.paymentId} ${e.kind} ${e.message?.messageType ?? ""}`);
    time.advance(999);
    expect(await kinds()).toEqual([]);
    time.advance(1);
    expect(await kinds()).toHaveLength(2);
    time.advance(2_000);
    const later = await drain(network);
    expect(later.map((e) => e.kind).sort()).toEqual(["RETURNED", "RETURNED", "SETTLED", "SETTLED"]);
    for (const event of later) {
      const reply = readNetworkReply(event.message ?? message);
      expect(reply.paymentIds).toEqual([event.paymentId]);
      if (event.kind === "RETURNED") {
        expect(event.message?.messageType).toBe("pacs.004.001.09");
        expect(reply.reasonCode).toBe(event.reasonCode);
        expect(reply.reasonCode).toMatch(/^[A-Z]{2}\d\d$/);
      }
    }
  });

  it("settles Fedwire at once without a message", async () => {
    const db = await freshDb();
    const network = createSimulatedNetwork({ ...base, db, rail: "FEDWIRE", rejectRate: 0, returnRate: 0, now: () => now });
    await network.submit(buildCreditTransfer(fedwirePayment, { now, ourBic }), [fedwirePayment.paymentId]);
    const events = await drain(network);
    expect(events.map((e) => [e.kind, e.message])).toEqual([
      ["ACCEPTED", undefined],
      ["SETTLED", undefined],
    ]);
  });

  it("delivers a later step already due in the same delivery as the step it waited for", async () => {
    const db = await freshDb();
    const network = createSimulatedNetwork({ ...base, db, rail: "FEDWIRE", rejectRate: 0, returnRate: 0, now: () => now });
    await network.submit(buildCreditTransfer(fedwirePayment, { now, ourBic }), [fedwirePayment.paymentId]);
    const deliveries: string[][] = [];
    // One call: nothing would wake a second before the poll.
    await network.deliverDue(10, async (events) => {
      deliveries.push(events.map((e) => e.kind));
    });
    expect(deliveries).toEqual([["ACCEPTED", "SETTLED"]]);
  });

  it("delivers each event once with two concurrent callers", async () => {
    const db = await freshDb();
    const time = clock(now);
    const network = createSimulatedNetwork({ ...base, db, rail: "ACH", now: time.now });
    const payments = Array.from({ length: 200 }, (_, i) => achPayment(`c-${i}`));
    const file = buildAchFile(payments, { now, fileIdModifier: "B", originRouting: "121042882", originName: "QENEX" });
    await network.submit(
      file,
      payments.map((p) => p.paymentId),
    );
    time.advance(10_000);
    const seen: string[] = [];
    const caller = async () => {
      for (let round = 0; round < 100; round++) {
        const n = await network.deliverDue(25, async (events, tx: Queryable) => {
          await tx.query("SELECT 1");
          seen.push(...events.map((e) => e.eventId));
        });
        if (n === 0) return;
      }
    };
    await Promise.all([caller(), caller()]);
    await caller();
    const total = await db.query<{ n: string }>("SELECT count(*) AS n FROM sim_network_events");
    expect(seen.length).toBe(Number(total.rows[0]?.n));
    expect(new Set(seen).size).toBe(seen.length);
  });

  it("leaves events undelivered when apply throws, and delivers them on the next call", async () => {
    const db = await freshDb();
    const time = clock(now);
    const network = createSimulatedNetwork({ ...base, db, rail: "SEPA", rejectRate: 1, returnRate: 0, now: time.now });
    await network.submit(buildCreditTransfer(sepaPayment, { now, ourBic }), [sepaPayment.paymentId]);
    time.advance(1_000);
    await expect(
      network.deliverDue(10, async () => {
        throw new Error("crash while applying");
      }),
    ).rejects.toThrow("crash while applying");
    const events = await drain(network);
    expect(events.map((e) => e.kind)).toEqual(["REJECTED"]);
    const reply = readNetworkReply(events[0]?.message ?? { messageId: "", format: "ISO20022", messageType: "", content: "" });
    expect(reply).toMatchObject({ kind: "REJECTED", paymentIds: [sepaPayment.paymentId], reasonCode: events[0]?.reasonCode });
    expect(await drain(network)).toEqual([]);
  });
});
