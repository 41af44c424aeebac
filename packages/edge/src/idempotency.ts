// Idempotency-Key at the edge: the first POST with a key runs and its response is stored;
// a retry with the same key and the same body gets that response again, with a different
// body it is refused. Keys are scoped to the caller and the route, and kept for a day.
import { createHash } from "node:crypto";
import type { Kv } from "@qenex/platform";

export const idempotencyKeyBytesMax = 255;
const keptMs = 24 * 3600 * 1000;
/** How long a claimed key stays locked if the edge dies mid-request. */
const claimTtlMs = 60_000;
/** Stored responses larger than this are not kept (the call still runs once). */
const storedBodyBytesMax = 1024 * 1024;

export type StoredResponse = { status: number; body: string };

export type Claim =
  | { kind: "replay"; response: StoredResponse }
  | { kind: "conflict"; message: string }
  | { kind: "claimed"; complete(response: StoredResponse): Promise<void>; release(): Promise<void> };

export type IdempotencyStore = { claim(scope: string, body: string): Promise<Claim> };

export function createIdempotencyStore(kv: Kv): IdempotencyStore {
  return {
    async claim(scope, body) {
      const id = createHash("sha256").update(scope).digest("hex");
      const bodyHash = createHash("sha256").update(body).digest("hex");
      const resultKey = `qenex:idem:result:${id}`;
      const lockKey = `qenex:idem:lock:${id}`;
      const stored = await kv.get(resultKey);
      if (stored !== undefined) return compare(JSON.parse(stored) as { bodyHash: string; response: StoredResponse }, bodyHash);
      // incrBy is atomic in both stores: only the caller that brings the count to 1 runs.
      if ((await kv.incrBy(lockKey, 1, claimTtlMs)) !== 1) {
        const finished = await kv.get(resultKey);
        if (finished !== undefined) return compare(JSON.parse(finished) as { bodyHash: string; response: StoredResponse }, bodyHash);
        return { kind: "conflict", message: "a request with this Idempotency-Key is still in progress; retry later" };
      }
      return {
        kind: "claimed",
        async complete(response) {
          if (Buffer.byteLength(response.body) <= storedBodyBytesMax) {
            await kv.set(resultKey, JSON.stringify({ bodyHash, response }), keptMs);
          }
          await kv.del(lockKey);
        },
        release: () => kv.del(lockKey),
      };
    },
  };
}

function compare(stored: { bodyHash: string; response: StoredResponse }, bodyHash: string): Claim {
  if (stored.bodyHash === bodyHash) return { kind: "replay", response: stored.response };
  return { kind: "conflict", message: "this Idempotency-Key was used with a different request body" };
}
