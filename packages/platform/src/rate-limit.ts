// Token-bucket rate limits for the edge: Redis (shared by every replica) when REDIS_URL is set,
// an in-process map otherwise. A Redis outage never crashes or stalls a request: it yields an
// undecided answer that lets the request through or not, as configured.
import { Redis } from "ioredis";
import type { RateLimitRule } from "./config.js";
import type { Logger } from "./logger.js";

export type RateLimitDecision = {
  allowed: boolean;
  /** Whole tokens left in the bucket after this decision. */
  remaining: number;
  /** 0 when allowed; otherwise how long until `cost` tokens are back (at least 1). */
  retryAfterMs: number;
  /** false when the store could not be asked (Redis down) */
  decided: boolean;
};

export interface RateLimiter {
  readonly kind: "redis" | "memory";
  /** Takes `cost` tokens (default 1) from the bucket `key` if it holds that many. */
  take(key: string, rule: RateLimitRule, cost?: number): Promise<RateLimitDecision>;
  close(): Promise<void>;
}

/** Longest caller key accepted (before the prefix), so a bug cannot fill the store with huge keys. */
export const rateLimitKeyBytesMax = 512;
/** Largest capacity and refill rate accepted: keeps the micro-token arithmetic exact in doubles. */
export const rateLimitCapacityMax = 1_000_000_000;
export const rateLimitRefillPerSecondMax = 1_000_000_000;
/** Every bucket in Redis lives under this prefix, one hash per key. */
export const rateLimitKeyPrefix = "qenex:rl:";

/**
 * Buckets count micro-tokens so that refill is integer arithmetic: `refillPerSecond` tokens
 * per second is exactly `refillPerSecond` micro-tokens per microsecond.
 */
const microPerToken = 1_000_000;

function checkTake(key: string, rule: RateLimitRule, cost: number): void {
  if (key.length === 0 || Buffer.byteLength(key) > rateLimitKeyBytesMax) {
    throw new RangeError(`rate limit key must be 1 to ${rateLimitKeyBytesMax} bytes`);
  }
  const wholeInRange = (value: number, max: number) => Number.isSafeInteger(value) && value >= 1 && value <= max;
  if (!wholeInRange(rule.capacity, rateLimitCapacityMax)) {
    throw new RangeError(`rate limit capacity must be a whole number from 1 to ${rateLimitCapacityMax}, got ${rule.capacity}`);
  }
  if (!wholeInRange(rule.refillPerSecond, rateLimitRefillPerSecondMax)) {
    throw new RangeError(
      `rate limit refillPerSecond must be a whole number from 1 to ${rateLimitRefillPerSecondMax}, got ${rule.refillPerSecond}`,
    );
  }
  if (!wholeInRange(cost, rule.capacity)) {
    throw new RangeError(`rate limit cost must be a whole number from 1 to the capacity ${rule.capacity}, got ${cost}`);
  }
}

type Bucket = { tokensMicro: number; atUs: number };

/** The bucket arithmetic; the Lua script below is the same steps, line for line. */
function takeFromBucket(bucket: Bucket | undefined, nowUs: number, rule: RateLimitRule, cost: number) {
  const capacityMicro = rule.capacity * microPerToken;
  const rate = rule.refillPerSecond;
  const costMicro = cost * microPerToken;
  let tokensMicro = capacityMicro;
  if (bucket !== undefined) {
    tokensMicro = Math.min(bucket.tokensMicro, capacityMicro);
    // A clock that steps back refills nothing rather than draining the bucket.
    const elapsedUs = Math.max(0, nowUs - bucket.atUs);
    const untilFullUs = Math.ceil((capacityMicro - tokensMicro) / rate);
    tokensMicro = elapsedUs >= untilFullUs ? capacityMicro : tokensMicro + elapsedUs * rate;
  }
  const allowed = tokensMicro >= costMicro;
  let retryAfterMs = 0;
  if (allowed) tokensMicro -= costMicro;
  else retryAfterMs = Math.max(1, Math.ceil(Math.ceil((costMicro - tokensMicro) / rate) / 1000));
  const untilFullMs = Math.max(1, Math.ceil(Math.ceil((capacityMicro - tokensMicro) / rate) / 1000));
  const decision: RateLimitDecision = { allowed, remaining: Math.floor(tokensMicro / microPerToken), retryAfterMs, decided: true };
  return { bucket: { tokensMicro, atUs: nowUs }, decision, untilFullMs };
}

/** Most buckets the in-process limiter holds. */
export const memoryRateLimitKeysMax = 100_000;

export function createMemoryRateLimiter(options: { keysMax?: number; nowMs?: () => number } = {}): RateLimiter {
  const keysMax = options.keysMax ?? memoryRateLimitKeysMax;
  if (!Number.isSafeInteger(keysMax) || keysMax < 1) throw new RangeError(`keysMax must be a positive whole number, got ${keysMax}`);
  // Monotonic by default: buckets only compare times with each other, and wall clocks step.
  const nowMs = options.nowMs ?? (() => performance.now());
  // Map order is touch order (a touched key is re-inserted at the end). When full, the
  // least recently touched bucket goes: it is the one most likely to have refilled to full,
  // which is what a missing bucket means, so evicting it changes the fewest answers.
  const buckets = new Map<string, Bucket>();
  return {
    kind: "memory",
    take: async (key, rule, cost = 1) => {
      checkTake(key, rule, cost);
      const taken = takeFromBucket(buckets.get(key), Math.floor(nowMs() * 1000), rule, cost);
      buckets.delete(key);
      buckets.set(key, taken.bucket);
      if (buckets.size > keysMax) {
        const oldest = buckets.keys().next().value;
        if (oldest !== undefined) buckets.delete(oldest);
      }
      return taken.decision;
    },
    close: async () => {
      buckets.clear();
    },
  };
}

/**
 * One atomic take. KEYS[1] is the bucket hash; ARGV is capacity, refillPerSecond, cost.
 * Redis's own clock (TIME) so every edge replica measures refill alike. Values are written
 * with %d because Lua's tostring keeps only 14 digits. The hash expires when the bucket
 * would be full again, so idle keys vanish.
 */
const takeScript = `
local capacityMicro = tonumber(ARGV[1]) * 1000000
local rate = tonumber(ARGV[2])
local costMicro = tonumber(ARGV[3]) * 1000000
local time = redis.call('TIME')
local nowUs = tonumber(time[1]) * 1000000 + tonumber(time[2])
local state = redis.call('HMGET', KEYS[1], 'tokensMicro', 'atUs')
local tokensMicro = capacityMicro
if state[1] and state[2] then
  tokensMicro = math.min(tonumber(state[1]), capacityMicro)
  local elapsedUs = math.max(0, nowUs - tonumber(state[2]))
  local untilFullUs = math.ceil((capacityMicro - tokensMicro) / rate)
  if elapsedUs >= untilFullUs then
    tokensMicro = capacityMicro
  else
    tokensMicro = tokensMicro + elapsedUs * rate
  end
end
local allowed = 0
local retryAfterMs = 0
if tokensMicro >= costMicro then
  allowed = 1
  tokensMicro = tokensMicro - costMicro
else
  retryAfterMs = math.max(1, math.ceil(math.ceil((costMicro - tokensMicro) / rate) / 1000))
end
local untilFullMs = math.max(1, math.ceil(math.ceil((capacityMicro - tokensMicro) / rate) / 1000))
redis.call('HSET', KEYS[1], 'tokensMicro', string.format('%d', tokensMicro), 'atUs', string.format('%d', nowUs))
redis.call('PEXPIRE', KEYS[1], untilFullMs)
return {allowed, math.floor(tokensMicro / 1000000), retryAfterMs}
`;

/** The command `defineCommand` adds; ioredis's types cannot know it. */
type WithTakeCommand = { qenexRateLimitTake(key: string, capacity: number, refillPerSecond: number, cost: number): Promise<unknown> };

/** Default time a take may wait for Redis before it is answered without it. */
export const rateLimitCommandTimeoutMsDefault = 200;
/** Store calls outstanding at most; beyond it takes fail fast instead of piling up on a stalled server. */
export const rateLimitInFlightMax = 10_000;
/** An outage is logged at most this often, however many requests it touches. */
const outageLogIntervalMs = 10_000;
/** Retry hint when Redis is down and requests are refused: soon enough to notice recovery, not a hammering. */
const storeDownRetryAfterMs = 1_000;

export function createRedisRateLimiter(
  url: string,
  options: { whenStoreDown: "open" | "closed"; logger: Logger; commandTimeoutMs?: number },
): RateLimiter {
  const { whenStoreDown, logger } = options;
  const commandTimeoutMs = options.commandTimeoutMs ?? rateLimitCommandTimeoutMsDefault;
  if (!Number.isSafeInteger(commandTimeoutMs) || commandTimeoutMs < 1) {
    throw new RangeError(`commandTimeoutMs must be a positive whole number, got ${commandTimeoutMs}`);
  }
  const redis = new Redis(url, {
    // Fail fast while disconnected: a queued take would be answered late, and replayed on
    // reconnect it would spend tokens for a request already decided.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    connectTimeout: 2_000,
    // A server that accepts commands but stops answering: drop the socket and reconnect.
    socketTimeout: 2_000,
    retryStrategy: (attempts) => Math.min(attempts * 100, 2_000),
    // Takes issued in one turn of the event loop go out in one write (see kv.ts).
    enableAutoPipelining: true,
  });
  redis.defineCommand("qenexRateLimitTake", { numberOfKeys: 1, lua: takeScript });
  const command = redis as unknown as WithTakeCommand;
  // Failures surface on the takes that fail; ioredis reconnects by itself.
  redis.on("error", () => {});

  // Takes made while the first connection is being made wait for it (within their deadline);
  // after that a take never waits for a connection: Redis is there or it is down.
  let connecting = true;
  const firstConnect = new Promise<void>((resolve) => {
    const settle = () => {
      connecting = false;
      for (const event of ["ready", "error", "end"]) redis.off(event, settle);
      resolve();
    };
    for (const event of ["ready", "error", "end"]) redis.on(event, settle);
  });

  let inFlight = 0;
  let outage: { sinceMs: number; logged: boolean; failures: number } | undefined;
  let lastOutageLogMs = Number.NEGATIVE_INFINITY;

  const ask = async (fullKey: string, rule: RateLimitRule, cost: number): Promise<unknown> => {
    if (connecting) await firstConnect;
    if (inFlight >= rateLimitInFlightMax) throw new Error(`${inFlight} rate limit calls already waiting on the store`);
    inFlight++;
    try {
      return await command.qenexRateLimitTake(fullKey, rule.capacity, rule.refillPerSecond, cost);
    } finally {
      inFlight--;
    }
  };

  const askWithDeadline = async (fullKey: string, rule: RateLimitRule, cost: number): Promise<unknown> => {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${commandTimeoutMs} ms`)), commandTimeoutMs);
    });
    try {
      // A command that loses the race still settles later (ioredis drops it on disconnect), and
      // race() has already subscribed to it, so its late rejection is handled.
      return await Promise.race([ask(fullKey, rule, cost), deadline]);
    } finally {
      clearTimeout(timer);
    }
  };

  const storeFailed = (error: unknown): RateLimitDecision => {
    const nowMs = Date.now();
    outage ??= { sinceMs: nowMs, logged: false, failures: 0 };
    outage.failures++;
    if (nowMs - lastOutageLogMs >= outageLogIntervalMs) {
      lastOutageLogMs = nowMs;
      logger.warn(
        { err: error instanceof Error ? error.message : String(error), whenStoreDown, failedTakes: outage.failures },
        `rate limit store unavailable: requests are ${whenStoreDown === "open" ? "allowed unchecked" : "refused"} until it answers`,
      );
      outage.logged = true;
      outage.failures = 0;
    }
    return {
      allowed: whenStoreDown === "open",
      remaining: 0,
      retryAfterMs: whenStoreDown === "open" ? 0 : storeDownRetryAfterMs,
      decided: false,
    };
  };

  const storeAnswered = (): void => {
    // Recovery is logged only after a logged outage, so a flapping store logs at the outage rate.
    if (outage?.logged) logger.info({ downForMs: Date.now() - outage.sinceMs }, "rate limit store answering again");
    outage = undefined;
  };

  return {
    kind: "redis",
    take: async (key, rule, cost = 1) => {
      checkTake(key, rule, cost);
      let reply: unknown;
      try {
        reply = await askWithDeadline(rateLimitKeyPrefix + key, rule, cost);
      } catch (error) {
        return storeFailed(error);
      }
      if (!Array.isArray(reply) || reply.length !== 3 || !reply.every((value) => typeof value === "number")) {
        return storeFailed(new Error(`unexpected rate limit script reply ${JSON.stringify(reply)}`));
      }
      storeAnswered();
      const [allowed, remaining, retryAfterMs] = reply as [number, number, number];
      return { allowed: allowed === 1, remaining, retryAfterMs, decided: true };
    },
    close: async () => {
      if (redis.status === "ready") await redis.quit().catch(() => redis.disconnect());
      else redis.disconnect();
    },
  };
}

/** Redis when a URL is given (shared by replicas), otherwise one process's memory. */
export function createRateLimiter(
  redisUrl: string | undefined,
  options: { whenStoreDown: "open" | "closed"; logger: Logger },
): RateLimiter {
  return redisUrl ? createRedisRateLimiter(redisUrl, options) : createMemoryRateLimiter();
}
