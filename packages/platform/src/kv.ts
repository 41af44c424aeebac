// A small key-value interface for counters, rate limits and short-lived state: Redis when
// REDIS_URL is set, an in-process map otherwise (one process only, lost on restart).
import { Redis } from "ioredis";

export interface Kv {
  readonly kind: "redis" | "memory";
  get(key: string): Promise<string | undefined>;
  /** Sets a value; with ttlMs it expires after that many milliseconds. */
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  /** Adds delta to an integer counter (created at 0) and returns the new value. */
  incrBy(key: string, delta: number, ttlMs?: number): Promise<number>;
  /** Values of several keys in one round trip (at most kvBatchKeysMax). */
  mget(keys: readonly string[]): Promise<(string | undefined)[]>;
  /** Several incrBy at once, atomically on Redis (MULTI), in one round trip. */
  incrByMany(increments: readonly { key: string; delta: number; ttlMs?: number }[]): Promise<number[]>;
  del(key: string): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Longest key accepted, so a caller's bug cannot fill memory with huge keys. */
export const kvKeyBytesMax = 1024;
/** Most keys one mget or incrByMany takes. */
export const kvBatchKeysMax = 1000;

function checkBatch(count: number): void {
  if (count > kvBatchKeysMax) throw new RangeError(`at most ${kvBatchKeysMax} keys per batch, not ${count}`);
}

function checkKey(key: string): void {
  if (key.length === 0 || Buffer.byteLength(key) > kvKeyBytesMax) {
    throw new RangeError(`kv key must be 1 to ${kvKeyBytesMax} bytes`);
  }
}

export function createRedisKv(url: string): Kv {
  const redis = new Redis(url, { maxRetriesPerRequest: 2, lazyConnect: false });
  // Connection errors surface on the commands that fail; ioredis reconnects by itself.
  redis.on("error", () => {});
  return {
    kind: "redis",
    get: async (key) => {
      checkKey(key);
      return (await redis.get(key)) ?? undefined;
    },
    set: async (key, value, ttlMs) => {
      checkKey(key);
      if (ttlMs === undefined) await redis.set(key, value);
      else await redis.set(key, value, "PX", ttlMs);
    },
    incrBy: async (key, delta, ttlMs) => {
      checkKey(key);
      const multi = redis.multi().incrby(key, delta);
      if (ttlMs !== undefined) multi.pexpire(key, ttlMs, "NX");
      const results = await multi.exec();
      const [error, value] = results?.[0] ?? [new Error("redis transaction aborted"), null];
      if (error) throw error;
      return Number(value);
    },
    mget: async (keys) => {
      checkBatch(keys.length);
      for (const key of keys) checkKey(key);
      if (keys.length === 0) return [];
      return (await redis.mget(...keys)).map((value) => value ?? undefined);
    },
    incrByMany: async (increments) => {
      checkBatch(increments.length);
      if (increments.length === 0) return [];
      const multi = redis.multi();
      for (const { key, delta, ttlMs } of increments) {
        checkKey(key);
        multi.incrby(key, delta);
        if (ttlMs !== undefined) multi.pexpire(key, ttlMs, "NX");
      }
      const results = (await multi.exec()) ?? [];
      const values: number[] = [];
      let at = 0;
      for (const { ttlMs } of increments) {
        const [error, value] = results[at] ?? [new Error("redis transaction aborted"), null];
        if (error) throw error;
        values.push(Number(value));
        at += ttlMs === undefined ? 1 : 2;
      }
      return values;
    },
    del: async (key) => {
      checkKey(key);
      await redis.del(key);
    },
    ping: async () => {
      await redis.ping();
    },
    close: async () => {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/** Most keys the in-process store holds; beyond it the oldest key is dropped. */
export const memoryKvKeysMax = 100_000;

export function createMemoryKv(): Kv {
  const entries = new Map<string, { value: string; expiresAtMs: number | undefined }>();
  const live = (key: string) => {
    const entry = entries.get(key);
    if (entry?.expiresAtMs !== undefined && entry.expiresAtMs <= Date.now()) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  };
  const put = (key: string, value: string, expiresAtMs: number | undefined) => {
    entries.delete(key);
    entries.set(key, { value, expiresAtMs });
    if (entries.size > memoryKvKeysMax) {
      const oldest = entries.keys().next().value;
      if (oldest !== undefined) entries.delete(oldest);
    }
  };
  const incr = (key: string, delta: number, ttlMs: number | undefined) => {
    checkKey(key);
    const entry = live(key);
    const value = Number(entry?.value ?? "0") + delta;
    const expiresAtMs = entry ? entry.expiresAtMs : ttlMs === undefined ? undefined : Date.now() + ttlMs;
    put(key, String(value), expiresAtMs);
    return value;
  };
  return {
    kind: "memory",
    get: async (key) => {
      checkKey(key);
      return live(key)?.value;
    },
    mget: async (keys) => {
      checkBatch(keys.length);
      for (const key of keys) checkKey(key);
      return keys.map((key) => live(key)?.value);
    },
    incrByMany: async (increments) => {
      checkBatch(increments.length);
      return increments.map(({ key, delta, ttlMs }) => incr(key, delta, ttlMs));
    },
    set: async (key, value, ttlMs) => {
      checkKey(key);
      put(key, value, ttlMs === undefined ? undefined : Date.now() + ttlMs);
    },
    incrBy: async (key, delta, ttlMs) => incr(key, delta, ttlMs),
    del: async (key) => {
      checkKey(key);
      entries.delete(key);
    },
    ping: async () => {},
    close: async () => {
      entries.clear();
    },
  };
}

export function createKv(redisUrl: string | undefined): Kv {
  return redisUrl ? createRedisKv(redisUrl) : createMemoryKv();
}
