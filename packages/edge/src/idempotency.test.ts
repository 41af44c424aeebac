// The idempotency store on a Redis of the test's own: while Redis is down a keyed request is
// refused UNAVAILABLE at once (it never runs unchecked); when Redis returns, keys work again.
import { Code, ConnectError } from "@connectrpc/connect";
import { createRedisKv, type Kv } from "@qenex/platform";
import { type PrivateRedis, startPrivateRedis } from "@qenex/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Claim, createIdempotencyStore, type IdempotencyStore } from "./idempotency.js";

const failFastMs = 1_000;
const recoveryAttemptsMax = 100;
const recoveryPollMs = 100;

let redis: PrivateRedis;
let kv: Kv;
let store: IdempotencyStore;
beforeAll(async () => {
  redis = await startPrivateRedis();
  kv = createRedisKv(redis.url);
  store = createIdempotencyStore(kv);
});
afterAll(async () => {
  await kv?.close();
  await redis?.destroy();
});

/** Claims, retrying (bounded) while the restarted Redis is not reconnected yet. */
async function claimOnceRedisAnswers(scope: string, body: string): Promise<Claim> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await store.claim(scope, body);
    } catch (error) {
      if (!(error instanceof ConnectError && error.code === Code.Unavailable) || attempt >= recoveryAttemptsMax) throw error;
      await new Promise((resolve) => setTimeout(resolve, recoveryPollMs));
    }
  }
}

describe("idempotency records when Redis fails", () => {
  it("refuses a keyed request UNAVAILABLE while Redis is down, and claims and replays once it is back", async () => {
    await redis.stop();
    try {
      const startMs = performance.now();
      const error = await store.claim("subject\nPOST /v1/transfers\nkey-1", "{}").then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(performance.now() - startMs).toBeLessThan(failFastMs);
      expect(error).toBeInstanceOf(ConnectError);
      expect((error as ConnectError).code).toBe(Code.Unavailable);
      expect((error as ConnectError).rawMessage).toMatch(/^idempotency records cannot be checked/);
    } finally {
      await redis.start();
    }

    const scope = `subject\nPOST /v1/transfers\nkey-${Date.now()}`;
    const claim = await claimOnceRedisAnswers(scope, "{}");
    if (claim.kind !== "claimed") throw new Error(`expected a claim, got ${claim.kind}`);
    await claim.complete({ status: 200, body: '{"ok":true}' });
    expect(await store.claim(scope, "{}")).toEqual({ kind: "replay", response: { status: 200, body: '{"ok":true}' } });
  });
});
