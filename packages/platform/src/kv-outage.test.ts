// The Redis kv against a Redis of the test's own that the test stops and restarts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisKv, type Kv, kvCommandTimeoutMs } from "./kv.js";
import { type PrivateRedis, startPrivateRedis, timedFailure } from "./testing/private-servers.js";
import { isUnavailable } from "./unavailable.js";

/** A failing command waits for no reconnection: it ends well under a second. */
const failFastMs = 1_000;
const recoveryAttemptsMax = 100;
const recoveryPollMs = 100;

let redis: PrivateRedis;
let kv: Kv;
beforeAll(async () => {
  redis = await startPrivateRedis();
  kv = createRedisKv(redis.url);
});
afterAll(async () => {
  await kv?.close();
  await redis?.destroy();
});

describe("Redis kv when Redis stops", () => {
  it("fails every command fast with an unavailable error, and works again once Redis returns", async () => {
    await kv.set("outage:a", "1");
    expect(await kv.get("outage:a")).toBe("1");
    expect(kvCommandTimeoutMs).toBeLessThan(failFastMs);

    await redis.stop();
    try {
      const failures = await Promise.all([
        timedFailure(kv.get("outage:a")),
        timedFailure(kv.set("outage:b", "2", 1_000)),
        timedFailure(kv.incrBy("outage:c", 1, 1_000)),
        timedFailure(kv.mget(["outage:a", "outage:b"])),
        timedFailure(kv.incrByMany([{ key: "outage:d", delta: 1 }])),
        timedFailure(kv.del("outage:a")),
        timedFailure(kv.ping()),
      ]);
      for (const { error, elapsedMs } of failures) {
        expect(isUnavailable(error)).toBe(true);
        expect(String((error as Error).message)).toMatch(/^redis unavailable: /);
        expect(elapsedMs).toBeLessThan(failFastMs);
      }
    } finally {
      await redis.start();
    }

    for (let attempt = 0; ; attempt++) {
      try {
        await kv.ping();
        break;
      } catch (error) {
        expect(isUnavailable(error)).toBe(true);
        if (attempt >= recoveryAttemptsMax) throw error;
        await new Promise((resolve) => setTimeout(resolve, recoveryPollMs));
      }
    }
    expect(await kv.incrBy("outage:e", 2)).toBe(2);
  });
});
