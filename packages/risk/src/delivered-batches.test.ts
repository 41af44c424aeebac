import { describe, expect, it } from "vitest";
import { deliveredBatches } from "./delivered-batches.js";

/** A source the test feeds by hand: items are delivered when pushed, not before. */
function manualSource<T>() {
  const queue: IteratorResult<T>[] = [];
  const waiting: ((r: IteratorResult<T>) => void)[] = [];
  let failure: unknown;
  let returned = false;
  const deliver = (r: IteratorResult<T>) => {
    const w = waiting.shift();
    if (w) w(r);
    else queue.push(r);
  };
  const source: AsyncIterable<T> = {
    [Symbol.asyncIterator]: () => ({
      next: () => {
        if (failure !== undefined && queue.length === 0) return Promise.reject(failure);
        const r = queue.shift();
        return r ? Promise.resolve(r) : new Promise((resolve) => waiting.push(resolve));
      },
      return: async () => {
        returned = true;
        return { done: true, value: undefined };
      },
    }),
  };
  return {
    source,
    push: (...items: T[]) => {
      for (const value of items) deliver({ done: false, value });
    },
    end: () => deliver({ done: true, value: undefined }),
    fail: (error: unknown) => {
      failure = error;
    },
    /** Items read ahead and not yet taken by a batch. */
    readAhead: () => queue.length,
    returned: () => returned,
  };
}

describe("deliveredBatches", () => {
  it("gives the first item alone, then everything delivered while that batch was handled", async () => {
    const s = manualSource<number>();
    const batches = deliveredBatches(s.source, 10);
    s.push(1);
    expect((await batches.next()).value).toEqual([1]);
    // Delivered while the consumer was busy with [1]: one batch.
    s.push(2, 3, 4);
    await new Promise((resolve) => setImmediate(resolve));
    expect((await batches.next()).value).toEqual([2, 3, 4]);
    s.end();
    expect((await batches.next()).done).toBe(true);
  });

  it("never puts more than batchSizeMax in a batch, nor reads further ahead", async () => {
    const s = manualSource<number>();
    s.push(...Array.from({ length: 7 }, (_, i) => i));
    s.end();
    const batches = deliveredBatches(s.source, 3);
    // The first item goes alone: no batch waits to fill.
    expect((await batches.next()).value).toEqual([0]);
    await new Promise((resolve) => setImmediate(resolve));
    // Three read ahead while [0] was handled; the rest (and the end) wait in the source.
    expect(s.readAhead()).toBe(8 - 4);
    const rest: number[][] = [];
    for await (const batch of batches) rest.push(batch);
    expect(rest[0]).toEqual([1, 2, 3]);
    expect(rest.flat()).toEqual([1, 2, 3, 4, 5, 6]);
    for (const batch of rest) expect(batch.length).toBeLessThanOrEqual(3);
  });

  it("yields what was read before a failure, then throws it", async () => {
    const s = manualSource<number>();
    s.push(1, 2);
    s.fail(new Error("stream lost"));
    const seen: number[][] = [];
    await expect(
      (async () => {
        for await (const batch of deliveredBatches(s.source, 10)) seen.push(batch);
      })(),
    ).rejects.toThrow("stream lost");
    expect(seen.flat()).toEqual([1, 2]);
  });

  it("returns the source when the consumer leaves early", async () => {
    const s = manualSource<number>();
    s.push(1);
    for await (const batch of deliveredBatches(s.source, 10)) {
      expect(batch).toEqual([1]);
      break;
    }
    expect(s.returned()).toBe(true);
  });

  it("refuses a batch size that is not a positive integer", async () => {
    await expect(deliveredBatches(manualSource<number>().source, 0).next()).rejects.toThrow(RangeError);
  });
});
