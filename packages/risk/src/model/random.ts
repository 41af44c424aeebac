// A small seeded PRNG, so a model trained twice on the same data with the same seed is the
// same model on every replica and every Node version (Math.random cannot be seeded).

/** Seeds are unsigned 32-bit integers. */
export const seedMax = 0xffff_ffff;

export interface Random {
  /** A uniform unsigned 32-bit integer. */
  nextUint32(): number;
  /** A uniform float in [0, 1) with 53 random bits. */
  nextFloat(): number;
  /** A uniform integer in [0, bound), without modulo bias; bound in 1..2^32. */
  nextInt(bound: number): number;
}

/**
 * xoshiro128** 1.1 (Blackman & Vigna, prng.di.unimi.it), its 128-bit state filled from the
 * seed by splitmix32 as the authors recommend, so nearby seeds give unrelated streams.
 */
export function createRandom(seed: number): Random {
  if (!Number.isInteger(seed) || seed < 0 || seed > seedMax) {
    throw new RangeError(`seed must be an integer in 0..${seedMax}, got ${seed}`);
  }
  let splitState = seed >>> 0;
  const splitmix32 = (): number => {
    splitState = (splitState + 0x9e3779b9) | 0;
    let z = splitState;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let s0 = splitmix32();
  let s1 = splitmix32();
  let s2 = splitmix32();
  let s3 = splitmix32();

  const nextUint32 = (): number => {
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    return result;
  };

  return {
    nextUint32,
    nextFloat() {
      const high = nextUint32() >>> 5; // 27 bits
      const low = nextUint32() >>> 6; // 26 bits
      return (high * 67_108_864 + low) / 9_007_199_254_740_992;
    },
    nextInt(bound) {
      if (!Number.isInteger(bound) || bound < 1 || bound > 2 ** 32) {
        throw new RangeError(`bound must be an integer in 1..2^32, got ${bound}`);
      }
      // Reject the top partial block so every residue is equally likely.
      const limit = 2 ** 32 - (2 ** 32 % bound);
      for (;;) {
        const r = nextUint32();
        if (r < limit) return r % bound;
      }
    },
  };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
