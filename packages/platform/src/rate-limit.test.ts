import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { createLogger } from "./logger.js";
import {
  createMemoryRateLimiter,
  createRateLimiter,
  createRedisRateLimiter,
  type RateLimiter,
  rateLimitKeyBytesMax,
  rateLimitKeyPrefix,
} from "./rate-limit.js";

const redisUrl = process.env.REDIS_URL;
const silent = createLogger("test", "silent");
// Nothing listens on port 1: connections are refused at once.
const closedPortUrl = "redis://127.0.0.1:1";
let keyCount = 0;
/** A key no other test (or earlier run against the same Redis) has used. */
const freshKey = (name: string) => `test:${process.pid}:${Date.now()}:${++keyCount}:${name}`;

/** A pino logger that keeps its lines, to see what an outage logs. */
function recordingLogger() {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, lines, warnings: () => lines.filter((line) => line.level === 40) };
}

type Backend = { name: string; limiter: RateLimiter; advanceMs: (ms: number) => Promise<void> };

function memoryBackend(): Backend {
  let clockMs = 1_000_000;
  const limiter = createMemoryRateLimiter({ nowMs: () => clockMs });
  return {
    name: "memory",
    limiter,
    advanceMs: async (ms) => {
      clockMs += ms;
    },
  };
}

const backends: Backend[] = [memoryBackend()];
if (redisUrl) {
  const limiter = createRedisRateLimiter(redisUrl, { whenStoreDown: "closed", logger: silent, commandTimeoutMs: 2_000 });
  backends.push({ name: "redis", limiter, advanceMs: (ms) => sleep(ms) });
}

afterAll(async () => {
  await Promise.all(backends.map((backend) => backend.limiter.close()));
});

describe.each(backends)("token bucket ($name)", ({ limiter, advanceMs }) => {
  it("allows a burst up to the capacity, then denies with a retry time", async () => {
    const key = freshKey("burst");
    const rule = { capacity: 5, refillPerSecond: 1 };
    const remaining: number[] = [];
    for (let i = 0; i < 5; i++) {
      const decision = await limiter.take(key, rule);
      expect(decision).toMatchObject({ allowed: true, decided: true, retryAfterMs: 0 });
      remaining.push(decision.remaining);
    }
    expect(remaining).toEqual([4, 3, 2, 1, 0]);
    const denied = await limiter.take(key, rule);
    expect(denied).toMatchObject({ allowed: false, decided: true, remaining: 0 });
    // One token at 1 per second: at most a second away, and never "retry now".
    expect(denied.retryAfterMs).toBeGreaterThanOrEqual(1);
    expect(denied.retryAfterMs).toBeLessThanOrEqual(1_000);
  });

  it("refills over time", async () => {
    const key = freshKey("refill");
    const rule = { capacity: 1_000, refillPerSecond: 1_000 };
    expect((await limiter.take(key, rule, 1_000)).allowed).toBe(true);
    expect((await limiter.take(key, rule, 1_000)).allowed).toBe(false);
    await advanceMs(20);
    // 20 ms at 1000 per second brings back at least 20 tokens.
    const decision = await limiter.take(key, rule, 10);
    expect(decision).toMatchObject({ allowed: true, decided: true });
    expect(decision.remaining).toBeGreaterThanOrEqual(10);
  });

  it("takes several tokens at once when cost is above 1", async () => {
    const key = freshKey("cost");
    const rule = { capacity: 10, refillPerSecond: 1 };
    expect(await limiter.take(key, rule, 4)).toMatchObject({ allowed: true, remaining: 6 });
    expect(await limiter.take(key, rule, 4)).toMatchObject({ allowed: true, remaining: 2 });
    const denied = await limiter.take(key, rule, 4);
    expect(denied).toMatchObject({ allowed: false, remaining: 2, decided: true });
    // Two more tokens at 1 per second: over one second, at most two.
    expect(denied.retryAfterMs).toBeGreaterThan(1_000);
    expect(denied.retryAfterMs).toBeLessThanOrEqual(2_000);
    // A denied take spends nothing: a cheaper one still fits.
    expect(await limiter.take(key, rule, 2)).toMatchObject({ allowed: true, remaining: 0 });
  });

  it("keeps each key's bucket separate", async () => {
    const rule = { capacity: 2, refillPerSecond: 1 };
    const spent = freshKey("spent");
    await limiter.take(spent, rule, 2);
    expect((await limiter.take(spent, rule)).allowed).toBe(false);
    expect(await limiter.take(freshKey("other"), rule)).toMatchObject({ allowed: true, remaining: 1 });
  });

  it("rejects bad rules, costs and keys with a RangeError", async () => {
    const key = freshKey("invalid");
    const rule = { capacity: 5, refillPerSecond: 1 };
    await expect(limiter.take(key, { capacity: 0, refillPerSecond: 1 })).rejects.toThrow(/capacity must be a whole number/);
    await expect(limiter.take(key, { capacity: 2.5, refillPerSecond: 1 })).rejects.toThrow(RangeError);
    await expect(limiter.take(key, { capacity: 5, refillPerSecond: 0 })).rejects.toThrow(/refillPerSecond must be a whole number/);
    await expect(limiter.take(key, rule, 6)).rejects.toThrow(/cost must be a whole number from 1 to the capacity 5, got 6/);
    await expect(limiter.take(key, rule, 0)).rejects.toThrow(RangeError);
    await expect(limiter.take(key, rule, 1.5)).rejects.toThrow(RangeError);
    await expect(limiter.take("", rule)).rejects.toThrow(/key must be 1 to 512 bytes/);
    // Counted in bytes: 257 two-byte characters are 514 bytes.
    await expect(limiter.take("é".repeat(257), rule)).rejects.toThrow(RangeError);
    const longest = `${freshKey("long")}:`.padEnd(rateLimitKeyBytesMax, "x");
    expect((await limiter.take(longest, rule)).allowed).toBe(true);
  });
});

describe("memory rate limiter", () => {
  it("computes retry times and refill exactly from its clock", async () => {
    let clockMs = 0;
    const limiter = createMemoryRateLimiter({ nowMs: () => clockMs });
    const rule = { capacity: 3, refillPerSecond: 2 };
    await limiter.take("k", rule, 3);
    expect(await limiter.take("k", rule)).toEqual({ allowed: false, remaining: 0, retryAfterMs: 500, decided: true });
    clockMs += 499;
    expect((await limiter.take("k", rule)).retryAfterMs).toBe(1);
    clockMs += 1;
    expect(await limiter.take("k", rule)).toEqual({ allowed: true, remaining: 0, retryAfterMs: 0, decided: true });
    clockMs += 60_000;
    // Refill stops at the capacity however long the key was idle.
    expect(await limiter.take("k", rule)).toMatchObject({ allowed: true, remaining: 2 });
    await limiter.close();
  });

  it("refills nothing when its clock steps back", async () => {
    let clockMs = 10_000;
    const limiter = createMemoryRateLimiter({ nowMs: () => clockMs });
    const rule = { capacity: 1, refillPerSecond: 1 };
    await limiter.take("k", rule);
    clockMs -= 5_000;
    expect(await limiter.take("k", rule)).toMatchObject({ allowed: false, retryAfterMs: 1_000 });
    await limiter.close();
  });

  it("evicts the least recently touched bucket when full", async () => {
    const limiter = createMemoryRateLimiter({ keysMax: 2, nowMs: () => 0 });
    const rule = { capacity: 1, refillPerSecond: 1 };
    await limiter.take("a", rule);
    await limiter.take("b", rule);
    await limiter.take("a", rule); // a is now the most recently touched
    await limiter.take("c", rule); // evicts b
    expect((await limiter.take("a", rule)).allowed).toBe(false);
    expect((await limiter.take("b", rule)).allowed).toBe(true);
    await limiter.close();
  });

  it("is what createRateLimiter gives without a Redis URL", async () => {
    const limiter = createRateLimiter(undefined, { whenStoreDown: "closed", logger: silent });
    expect(limiter.kind).toBe("memory");
    await limiter.close();
  });
});

describe.skipIf(!redisUrl)("redis rate limiter", () => {
  const url = redisUrl ?? "";

  it("is what createRateLimiter gives with a Redis URL", async () => {
    const limiter = createRateLimiter(url, { whenStoreDown: "closed", logger: silent });
    expect(limiter.kind).toBe("redis");
    await limiter.close();
  });

  it("allows exactly the capacity under 200 concurrent takes", async () => {
    const limiter = createRedisRateLimiter(url, { whenStoreDown: "closed", logger: silent, commandTimeoutMs: 5_000 });
    const key = freshKey("concurrent");
    const rule = { capacity: 50, refillPerSecond: 1 };
    const decisions = await Promise.all(Array.from({ length: 200 }, () => limiter.take(key, rule)));
    expect(decisions.every((decision) => decision.decided)).toBe(true);
    expect(decisions.filter((decision) => decision.allowed)).toHaveLength(50);
    await limiter.close();
  });

  it("stores each bucket under the prefix with a TTL of the time to refill", async () => {
    const limiter = createRedisRateLimiter(url, { whenStoreDown: "closed", logger: silent });
    const redis = new Redis(url);
    const key = freshKey("ttl");
    await limiter.take(key, { capacity: 10, refillPerSecond: 1 }, 10);
    const ttlMs = await redis.pttl(rateLimitKeyPrefix + key);
    // Ten tokens at 1 per second: the hash lives about ten seconds, then vanishes.
    expect(ttlMs).toBeGreaterThan(1_000);
    expect(ttlMs).toBeLessThanOrEqual(10_000);
    expect(await redis.hkeys(rateLimitKeyPrefix + key)).toEqual(["tokensMicro", "atUs"]);
    await redis.quit();
    await limiter.close();
  });

  it("logs an outage once and its recovery, and decides again once Redis is back", async () => {
    const target = new URL(url);
    const proxy = await startProxy(target.hostname, Number(target.port || 6379));
    const { logger, lines, warnings } = recordingLogger();
    const limiter = createRedisRateLimiter(`redis://127.0.0.1:${proxy.port}`, { whenStoreDown: "open", logger, commandTimeoutMs: 2_000 });
    const rule = { capacity: 100, refillPerSecond: 1 };
    const key = freshKey("recovery");
    expect((await limiter.take(key, rule)).decided).toBe(true);

    await proxy.stop();
    for (let i = 0; i < 5; i++) expect(await limiter.take(key, rule)).toMatchObject({ decided: false, allowed: true });
    expect(warnings()).toHaveLength(1);

    await proxy.restart();
    let decision = await limiter.take(key, rule);
    // ioredis reconnects on its own schedule (at most 2 s apart); poll, bounded.
    for (let attempt = 0; attempt < 100 && !decision.decided; attempt++) {
      await sleep(100);
      decision = await limiter.take(key, rule);
    }
    expect(decision).toMatchObject({ decided: true, allowed: true });
    expect(lines.filter((line) => line.msg === "rate limit store answering again")).toHaveLength(1);
    await limiter.close();
    await proxy.stop();
  });
});

describe("redis rate limiter while Redis is unreachable", () => {
  it.each(["open", "closed"] as const)("answers undecided at once and fails %s", async (whenStoreDown) => {
    const { logger, warnings } = recordingLogger();
    const limiter = createRedisRateLimiter(closedPortUrl, { whenStoreDown, logger });
    const rule = { capacity: 5, refillPerSecond: 1 };
    const decisions = await Promise.all(Array.from({ length: 20 }, () => limiter.take("k", rule)));
    for (const decision of decisions) {
      expect(decision).toMatchObject({ decided: false, allowed: whenStoreDown === "open" });
    }
    // Once more after the first failure is known, when takes no longer wait for a connection.
    expect(await limiter.take("k", rule)).toMatchObject({ decided: false, allowed: whenStoreDown === "open" });
    const logged = warnings();
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ whenStoreDown });
    await limiter.close();
  });

  it("answers undecided when Redis accepts the connection but never replies", async () => {
    const sockets = new Set<Socket>();
    const silentServer = createServer((socket) => {
      sockets.add(socket);
      socket.on("error", () => {});
    });
    await new Promise<void>((resolve) => silentServer.listen(0, "127.0.0.1", resolve));
    const address = silentServer.address();
    if (address === null || typeof address === "string") throw new Error("server has no port");
    const { logger, warnings } = recordingLogger();
    const limiter = createRedisRateLimiter(`redis://127.0.0.1:${address.port}`, { whenStoreDown: "closed", logger, commandTimeoutMs: 50 });
    expect(await limiter.take("k", { capacity: 5, refillPerSecond: 1 })).toMatchObject({ decided: false, allowed: false });
    expect(warnings()[0]?.msg).toMatch(/requests are refused/);
    await limiter.close();
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => silentServer.close(() => resolve()));
  });

  it("still validates its input", async () => {
    const limiter = createRedisRateLimiter(closedPortUrl, { whenStoreDown: "open", logger: silent });
    await expect(limiter.take("k", { capacity: 1, refillPerSecond: 1 }, 2)).rejects.toThrow(RangeError);
    await limiter.close();
  });
});

/** A TCP relay to Redis that can be stopped and started again on the same port: a real outage. */
async function startProxy(host: string, targetPort: number) {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const listen = async () => {
    const listening = createServer((client) => {
      const upstream = tcpConnect(targetPort, host);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on("error", () => {});
        socket.on("close", () => sockets.delete(socket));
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => listening.listen(port, "127.0.0.1", resolve));
    const address = listening.address();
    if (address === null || typeof address === "string") throw new Error("proxy has no port");
    port = address.port;
    server = listening;
  };
  await listen();
  return {
    port,
    restart: listen,
    stop: async () => {
      const closing = server;
      server = undefined;
      for (const socket of sockets) socket.destroy();
      if (closing) await new Promise<void>((resolve) => closing.close(() => resolve()));
    },
  };
}
