// Throttles password guessing: failed sign-ins are counted per account and per client
// address in the mesh's kv (Redis, shared by every replica and worker), and past a limit the
// account or address is locked for a backoff that doubles with each further failure. The
// lock is checked before any password is hashed, so a locked guess costs no scrypt either.
import { isIP } from "node:net";
import type { Kv, SignInThrottleConfig } from "@qenex/platform";

export type SignInThrottle = {
  /** 0 when `username` may be tried from `address` now; else the milliseconds until it may. */
  retryAfterMs(username: string, address: string | undefined): Promise<number>;
  /** Counts a failed sign-in against the account and the address, locking either past its limit. */
  failed(username: string, address: string | undefined): Promise<void>;
  /** A success forgets the account's failures; the address keeps its count until its window ends. */
  succeeded(username: string): Promise<void>;
};

export type SignInThrottleOptions = {
  /**
   * Wall-clock milliseconds since the epoch: locks are stored as the time they end, compared
   * by every process that shares the kv, so a per-process monotonic clock would not do.
   */
  nowMs?: () => number;
  /** Where the counters live in the kv; tests give each run its own. */
  keyPrefix?: string;
};

export const signInThrottleKeyPrefix = "qenex:auth:signin:";

/**
 * How long a lock lasts after `failures` failures: none below the limit, then `backoffMs`,
 * doubling per further failure up to `backoffMaxMs`.
 */
export function lockMsAfter(
  failures: number,
  failuresMax: number,
  limits: Pick<SignInThrottleConfig, "backoffMs" | "backoffMaxMs">,
): number {
  if (failures < failuresMax) return 0;
  // Past 2^30 the cap has long been reached; the exponent stays small enough to be exact.
  const doublings = Math.min(failures - failuresMax, 30);
  return Math.min(limits.backoffMs * 2 ** doublings, limits.backoffMaxMs);
}

/**
 * The key an address is counted under: an IPv4 address as it is (also when written as
 * IPv4-mapped IPv6), an IPv6 address by its /64, since one subscriber is handed a whole /64
 * and could otherwise take a fresh address for every guess.
 */
export function addressKeyOf(address: string | undefined): string {
  if (address === undefined || address === "") return "unknown";
  const mapped = /^::ffff:([0-9.]+)$/i.exec(address)?.[1];
  if (mapped !== undefined && isIP(mapped) === 4) return mapped;
  const version = isIP(address);
  if (version === 4) return address;
  if (version !== 6) return "unknown";
  return `${ipv6Groups(address).slice(0, 4).join(":")}::/64`;
}

/** The eight groups of an IPv6 address, without leading zeros ("2001:db8::1" → 2001,db8,0,…,1). */
function ipv6Groups(address: string): string[] {
  const plain = (address.split("%")[0] ?? "").toLowerCase();
  const [head = "", tail] = plain.split("::");
  const groupsOf = (text: string) => (text === "" ? [] : text.split(":"));
  const headGroups = groupsOf(head);
  const tailGroups = groupsOf(tail ?? "");
  // A trailing dotted IPv4 part ("64:ff9b::192.0.2.1") stands for two groups.
  const written = headGroups.length + tailGroups.length + (plain.includes(".") ? 1 : 0);
  const zeros = tail === undefined ? [] : Array<string>(8 - written).fill("0");
  return [...headGroups, ...zeros, ...tailGroups].map((group) => (group.includes(".") ? group : Number.parseInt(group, 16).toString(16)));
}

export function createSignInThrottle(kv: Kv, limits: SignInThrottleConfig, options: SignInThrottleOptions = {}): SignInThrottle {
  const nowMs = options.nowMs ?? Date.now;
  const prefix = options.keyPrefix ?? signInThrottleKeyPrefix;
  // Usernames are at most 64 characters of [A-Za-z0-9._@-] (the contract checks it), and
  // matched exactly, so the name itself is the key. Unknown names are counted alike.
  const keys = (username: string, address: string | undefined) => ({
    accountFailures: `${prefix}account:${username}:failures`,
    accountLock: `${prefix}account:${username}:lock`,
    addressFailures: `${prefix}address:${addressKeyOf(address)}:failures`,
    addressLock: `${prefix}address:${addressKeyOf(address)}:lock`,
  });
  const accountWindowMs = limits.account.windowSeconds * 1000;
  const addressWindowMs = limits.address.windowSeconds * 1000;
  return {
    async retryAfterMs(username, address) {
      const k = keys(username, address);
      const locks = await kv.mget([k.accountLock, k.addressLock]);
      const now = nowMs();
      return Math.max(0, ...locks.map((until) => (until === undefined ? 0 : Number(until) - now)));
    },

    async failed(username, address) {
      const k = keys(username, address);
      // Counted from the first failure of a run: the counter expires a window after it.
      const [accountFailures = 0, addressFailures = 0] = await kv.incrByMany([
        { key: k.accountFailures, delta: 1, ttlMs: accountWindowMs },
        { key: k.addressFailures, delta: 1, ttlMs: addressWindowMs },
      ]);
      const now = nowMs();
      const accountLockMs = lockMsAfter(accountFailures, limits.account.failuresMax, limits);
      const addressLockMs = lockMsAfter(addressFailures, limits.address.failuresMax, limits);
      // The lock holds the time it ends; its TTL only clears it from the kv afterwards.
      await Promise.all([
        accountLockMs > 0 ? kv.set(k.accountLock, String(now + accountLockMs), accountLockMs + accountWindowMs) : undefined,
        addressLockMs > 0 ? kv.set(k.addressLock, String(now + addressLockMs), addressLockMs + addressWindowMs) : undefined,
      ]);
    },

    async succeeded(username) {
      const k = keys(username, undefined);
      await Promise.all([kv.del(k.accountFailures), kv.del(k.accountLock)]);
    },
  };
}
