// Risk with a Redis of the test's own that the test stops and restarts: scoring goes on
// without the account's history and says so, and velocity counts again once Redis is back.
import { type PrivateRedis, startPrivateRedis } from "@qenex/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { velocityUnavailableCode } from "./scorer.js";
import { startTestRisk, type TestRisk } from "./testing/harness.js";

/** A score while Redis is down waits for no reconnection: well under a second, plus CI slack. */
const scoreWithoutRedisMsMax = 2_000;
const recoveryAttemptsMax = 100;
const recoveryPollMs = 100;

let redis: PrivateRedis;
let risk: TestRisk;
const run = `ro${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
let n = 0;
const id = (label: string) => `${run}-${label}-${n++}`;

beforeAll(async () => {
  redis = await startPrivateRedis();
  risk = await startTestRisk({ redisUrl: redis.url });
});
afterAll(async () => {
  await risk?.stop();
  await redis?.destroy();
});

const score = (accountId: string) =>
  risk.client().scoreTransaction({ transactionId: id("t"), accountId, counterpartyId: id("cp"), currency: "USD", amount: "42.00" });

describe("risk scoring when Redis fails", () => {
  it("scores without velocity features, stating why, and counts again when Redis returns", async () => {
    const account = id("acct");
    expect((await score(account)).features.count_1h).toBe("1");
    expect((await score(account)).features.count_1h).toBe("2");

    await redis.stop();
    try {
      const startMs = performance.now();
      const blind = await score(account);
      expect(performance.now() - startMs).toBeLessThan(scoreWithoutRedisMsMax);
      // Only the transfer itself is known.
      expect(blind.features.count_1h).toBe("1");
      const reason = blind.reasons.find((r) => r.code === velocityUnavailableCode);
      expect(reason?.message).toMatch(/^velocity features unavailable: redis down/);
      expect(blind.transactionId).not.toBe("");
    } finally {
      await redis.start();
    }

    // A Redis started again is empty (no persistence here): counting starts over, and the
    // same process reconnects by itself.
    const other = id("acct");
    for (let attempt = 0; ; attempt++) {
      const scored = await score(other);
      if (!scored.reasons.some((r) => r.code === velocityUnavailableCode)) break;
      if (attempt >= recoveryAttemptsMax) throw new Error("risk did not read Redis again");
      await new Promise((resolve) => setTimeout(resolve, recoveryPollMs));
    }
    const counted = await score(other);
    expect(counted.reasons.map((r) => r.code)).not.toContain(velocityUnavailableCode);
    expect(Number(counted.features.count_1h)).toBeGreaterThanOrEqual(2);
  });
});
