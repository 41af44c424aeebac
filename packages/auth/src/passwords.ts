// Password hashing with scrypt (node:crypto, run on libuv's thread pool), parameters stored
// per user so they can be raised later: a sign-in under older parameters rehashes.
import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { Code } from "@connectrpc/connect";
import { DomainError } from "@qenex/platform";

export type ScryptParams = { n: number; r: number; p: number; keyLength: number };

/** The parameters new hashes get: N = 2^15, r = 8, p = 1, 32-byte key (32 MiB, ~50–100 ms). */
export const scryptParams: Readonly<ScryptParams> = { n: 2 ** 15, r: 8, p: 1, keyLength: 32 };
export const saltBytes = 16;

export type StoredPassword = { hash: Buffer; salt: Buffer; params: ScryptParams };

export type PasswordHasher = {
  hash(password: string): Promise<StoredPassword>;
  verify(password: string, stored: StoredPassword): Promise<boolean>;
  /** Spends the same work as verify and returns false: an unknown user must not answer faster. */
  verifyNothing(password: string): Promise<false>;
};

/** Hashes running or queued per process; beyond it a sign-in fails RESOURCE_EXHAUSTED at once. */
export const hashesInFlightMax = 32;

export function createPasswordHasher(options: { inFlightMax?: number } = {}): PasswordHasher {
  const inFlightMax = options.inFlightMax ?? hashesInFlightMax;
  let inFlight = 0;
  // Each hash holds 128·N·r bytes; a flood of sign-ins must not queue unbounded memory
  // and starve the thread pool that file and DNS work share.
  const limited = async <T>(work: () => Promise<T>): Promise<T> => {
    if (inFlight >= inFlightMax) {
      throw new DomainError(Code.ResourceExhausted, "too many password checks at once; retry shortly");
    }
    inFlight++;
    try {
      return await work();
    } finally {
      inFlight--;
    }
  };
  const dummySalt = randomBytes(saltBytes);
  return {
    hash: (password) =>
      limited(async () => {
        const salt = randomBytes(saltBytes);
        return { hash: await derive(password, salt, scryptParams), salt, params: { ...scryptParams } };
      }),
    verify: (password, stored) =>
      limited(async () => {
        const derived = await derive(password, stored.salt, stored.params);
        return derived.length === stored.hash.length && timingSafeEqual(derived, stored.hash);
      }),
    verifyNothing: (password) =>
      limited(async (): Promise<false> => {
        await derive(password, dummySalt, scryptParams);
        return false;
      }),
  };
}

export function hasCurrentParams(params: ScryptParams): boolean {
  return (
    params.n === scryptParams.n && params.r === scryptParams.r && params.p === scryptParams.p && params.keyLength === scryptParams.keyLength
  );
}

function derive(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  // Node refuses when 128·N·r reaches maxmem (32 MiB by default, exactly what N = 2^15, r = 8 needs).
  const maxmem = 2 * 128 * params.n * params.r;
  return new Promise((resolve, reject) => {
    scrypt(password, salt, params.keyLength, { N: params.n, r: params.r, p: params.p, maxmem }, (error, key) => {
      if (error) reject(error);
      else resolve(key);
    });
  });
}
