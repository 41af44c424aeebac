import { afterAll, describe, expect, it } from "vitest";
import { createKv } from "./kv.js";

// Runs against real Redis when REDIS_URL is set (CI sets it), in-process otherwise.
const kv = createKv(process.env.REDIS_URL);
const prefix = `test:kv:${process.pid}:${Date.now()}`;

afterAll(() => kv.close());

describe(`Kv (${kv.kind})`, () => {
  it("stores, reads and deletes values", async () => {
    await kv.set(`${prefix}:a`, "1");
    expect(await kv.get(`${prefix}:a`)).toBe("1");
    await kv.del(`${prefix}:a`);
    expect(await kv.get(`${prefix}:a`)).toBeUndefined();
  });

  it("counts atomically under concurrent increments", async () => {
    const key = `${prefix}:counter`;
    await Promise.all(Array.from({ length: 50 }, () => kv.incrBy(key, 2, 60_000)));
    expect(await kv.incrBy(key, 0)).toBe(100);
  });

  it("expires values after their ttl", async () => {
    await kv.set(`${prefix}:ttl`, "x", 30);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(await kv.get(`${prefix}:ttl`)).toBeUndefined();
  });

  it("reads several keys at once and increments several atomically", async () => {
    const [a, b, c] = [`${prefix}:m:a`, `${prefix}:m:b`, `${prefix}:m:c`];
    await kv.set(a, "x");
    expect(await kv.mget([a, b])).toEqual(["x", undefined]);
    await Promise.all(
      Array.from({ length: 20 }, () =>
        kv.incrByMany([
          { key: b, delta: 1, ttlMs: 60_000 },
          { key: c, delta: 5 },
        ]),
      ),
    );
    expect(
      await kv.incrByMany([
        { key: b, delta: 0 },
        { key: c, delta: 0 },
      ]),
    ).toEqual([20, 100]);
    expect(await kv.mget([b, c])).toEqual(["20", "100"]);
    await expect(kv.mget(Array.from({ length: 1001 }, (_, i) => `${prefix}:${i}`))).rejects.toThrow(/at most 1000/);
  });

  it("rejects empty keys", async () => {
    await expect(kv.get("")).rejects.toThrow(/kv key/);
  });
});

describe.skipIf(!process.env.REDIS_URL)("Redis key prefix (QENEX_REDIS_KEY_PREFIX)", () => {
  it("keeps two meshes sharing one Redis apart", async () => {
    const url = process.env.REDIS_URL as string;
    const [staging, production] = [createKv(url, { keyPrefix: `${prefix}:staging:` }), createKv(url, { keyPrefix: `${prefix}:prod:` })];
    try {
      await staging.set("signin:alice", "5");
      await production.incrBy("signin:alice", 1);
      expect(await staging.get("signin:alice")).toBe("5");
      expect(await production.get("signin:alice")).toBe("1");
      // Unprefixed, the keys are where the prefixes say.
      expect(await kv.mget([`${prefix}:staging:signin:alice`, `${prefix}:prod:signin:alice`])).toEqual(["5", "1"]);
    } finally {
      await Promise.all([staging.close(), production.close()]);
    }
  });
});
