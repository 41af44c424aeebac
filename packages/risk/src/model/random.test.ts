import { describe, expect, it } from "vitest";
import { createRandom } from "./random.js";

describe("createRandom", () => {
  it("matches the reference C xoshiro128** seeded by splitmix32", () => {
    // From the authors' xoshiro128starstar.c and splitmix32 compiled with gcc.
    const seed0 = createRandom(0);
    expect(Array.from({ length: 5 }, () => seed0.nextUint32())).toEqual([3809008728, 1133695204, 53579671, 2891528803, 139681546]);
    const seed42 = createRandom(42);
    expect(Array.from({ length: 5 }, () => seed42.nextUint32())).toEqual([2837322924, 544945897, 479756282, 3500138142, 339756180]);
  });

  it("draws floats in [0, 1) and integers in [0, bound) covering every value", () => {
    const random = createRandom(7);
    const seen = new Set<number>();
    for (let i = 0; i < 10_000; i++) {
      const x = random.nextFloat();
      expect(x >= 0 && x < 1).toBe(true);
      const k = random.nextInt(6);
      expect(Number.isInteger(k) && k >= 0 && k < 6).toBe(true);
      seen.add(k);
    }
    expect(seen.size).toBe(6);
  });

  it("rejects seeds that are not 32-bit unsigned integers", () => {
    expect(() => createRandom(-1)).toThrow(/seed/);
    expect(() => createRandom(2 ** 32)).toThrow(/seed/);
    expect(() => createRandom(1.5)).toThrow(/seed/);
  });
});
