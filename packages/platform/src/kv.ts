// A small key-value interface for counters, rate limits and short-lived state: Redis when
// REDIS_URL is set, an in-process map otherwise (one process only, lost on restart).
import { Redis } from "ioredis";
import { asUnavailable } from "./unavailable.js";

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

/** Longest a kv command waits for Redis's answer before it fails (UNAVAILABLE). */
export const kvCommandTimeoutMs = 500;
/** Longest a connection attempt to Redis takes. */
export const kvConnectTimeoutMs = 1_000;
/** Reconnection attempts back off to this delay between tries, and keep trying. */
export const kvReconnectDelayMsMax = 1_000;

export function createRedisKv(url: string, options: { keyPrefix?: string | undefined } = {}): Kv {
  const redis = new Redis(url, {
    // ioredis puts it before every key a command names (scripts' KEYS too).
    ...(options.keyPrefix ? { keyPrefix: options.keyPrefix } : {}),
    connectTimeout: kvConnectTimeoutMs,
    commandTimeout: kvCommandTimeoutMs,
    // Fail fast while disconnected instead of queueing commands until Redis returns.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    // A server that accepts commands but stops answering: drop the socket and reconnect.
    socketTimeout: 2 * kvCommandTimeoutMs,
    retryStrategy: (attempts) => Math.min(attempts * 100, kvReconnectDelayMsMax),
    // Commands issued in one turn of the event loop go out in one write: under load a write
    // per command was a tenth of the edge's CPU (the syscall, not Redis).
    enableAutoPipelining: true,
  });
  // Connection errors surface on the commands that fail; ioredis reconnects by itself.
  redis.on("error", () => {});
  // Commands issued while the first connection is being made wait for it (a bounded wait);
  // after that a command never waits for a connection: Redis is there or it is down.
  let firstConnect: Promise<void> | undefined = new Promise<void>((resolve) => {
    const settle = () => {
      firstConnect = undefined;
      for (const event of ["ready", "error", "end"]) redis.off(event, settle);
      resolve();
    };
    for (const event of ["ready", "error", "end"]) redis.on(event, settle);
  });
  /** Runs one command, a failure to reach Redis becoming an UnavailableError. */
  const call = async <T>(command: () => Promise<T>): Promise<T> => {
    try {
      if (firstConnect) await firstConnect;
      return await command();
    } catch (error) {
      throw asUnavailable(error, "redis");
    }
  };
  return {
    kind: "redis",
    get: async (key) => {
      checkKey(key);
      return (await call(() => redis.get(key))) ?? undefined;
    },
    set: async (key, value, ttlMs) => {
      checkKey(key);
      await call(() => (ttlMs === undefined ? redis.set(key, value) : redis.set(key, value, "PX", ttlMs)));
    },
    incrBy: async (key, delta, ttlMs) => {
      checkKey(key);
      const results = await call(() => {
        const multi = redis.multi().incrby(key, delta);
        if (ttlMs !== undefined) multi.pexpire(key, ttlMs, "NX");
        return multi.exec();
      });
      const [error, value] = results?.[0] ?? [new Error("redis transaction aborted"), null];
      if (error) throw error;
      return Number(value);
    },
    mget: async (keys) => {
      checkBatch(keys.length);
      for (const key of keys) checkKey(key);
      if (keys.length === 0) return [];
      return (await call(() => redis.mget(...keys))).map((value) => value ?? undefined);
    },
    incrByMany: async (increments) => {
      checkBatch(increments.length);
      if (increments.length === 0) return [];
      for (const { key } of increments) checkKey(key);
      const results =
        (await call(() => {
          const multi = redis.multi();
          for (const { key, delta, ttlMs } of increments) {
            multi.incrby(key, delta);
            if (ttlMs !== undefined) multi.pexpire(key, ttlMs, "NX");
          }
          return multi.exec();
        })) ?? [];
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
      await call(() => redis.del(key));
    },
    ping: async () => {
      await call(() => redis.ping());
    },
    close: async () => {
      // Closing stops the reconnection attempts too.
      if (redis.status === "ready") await redis.quit().catch(() => redis.disconnect());
      else redis.disconnect();
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

export function createKv(redisUrl: string | undefined, options: { keyPrefix?: string | undefined } = {}): Kv {
  return redisUrl ? createRedisKv(redisUrl, options) : createMemoryKv();
}
