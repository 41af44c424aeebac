// A stream's items in batches of what has already arrived: while the consumer handles one
// batch, the next items are read ahead, and the consumer then takes them all at once. No
// batch waits to fill: the first item after a quiet spell goes alone, a burst goes in
// batches as large as the consumer is slow (at most batchSizeMax).

/**
 * The items of `source` in order, in batches of at most batchSizeMax; at most batchSizeMax
 * items are read ahead. A failure of the source is thrown once the items read before it have
 * been yielded. Leaving the loop early returns the source's iterator (a pending read may hold
 * it until the caller aborts the source).
 */
export async function* deliveredBatches<T>(source: AsyncIterable<T>, batchSizeMax: number): AsyncGenerator<T[], void, undefined> {
  if (!Number.isInteger(batchSizeMax) || batchSizeMax < 1)
    throw new RangeError(`batchSizeMax must be a positive integer, not ${batchSizeMax}`);
  const iterator = source[Symbol.asyncIterator]();
  let buffered: T[] = [];
  let ended = false;
  let failure: { error: unknown } | undefined;
  let leaving = false;
  let wakeConsumer: (() => void) | undefined;
  let wakeReader: (() => void) | undefined;
  const reader = (async () => {
    try {
      while (!leaving) {
        if (buffered.length >= batchSizeMax) {
          await new Promise<void>((resolve) => {
            wakeReader = resolve;
          });
          continue;
        }
        const next = await iterator.next();
        if (next.done) break;
        buffered.push(next.value);
        wakeConsumer?.();
      }
    } catch (error) {
      failure = { error };
    } finally {
      ended = true;
      wakeConsumer?.();
    }
  })();
  try {
    for (;;) {
      if (buffered.length > 0) {
        const batch = buffered;
        buffered = [];
        wakeReader?.();
        yield batch;
        continue;
      }
      if (ended) {
        if (failure) throw failure.error;
        return;
      }
      await new Promise<void>((resolve) => {
        wakeConsumer = resolve;
      });
    }
  } finally {
    leaving = true;
    wakeReader?.();
    if (!ended) iterator.return?.().catch(() => {});
    // The reader catches everything; this only keeps it from being a floating promise.
    void reader;
  }
}
