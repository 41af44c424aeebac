// Idempotency-Key at the edge: the first POST with a key runs and its response is stored;
// a retry with the same key and the same body gets that response again, with a different
// body it is refused. Keys are scoped to the caller and the route, and kept for a day.
// When the kv cannot be reached, a keyed request is refused (UNAVAILABLE), never run unchecked.
import { createHash } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { type Kv, unavailableReason } from "@qenex/platform";

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

/** The error a keyed request gets when its record cannot be read or claimed. */
function storeDown(error: unknown): ConnectError {
  const reason = unavailableReason(error) ?? "store error";
  return new ConnectError(`idempotency records cannot be checked (${reason}); retry later`, Code.Unavailable);
}

export function createIdempotencyStore(kv: Kv): IdempotencyStore {
  return {
    async claim(scope, body) {
      const id = createHash("sha256").update(scope).digest("hex");
      const bodyHash = createHash("sha256").update(body).digest("hex");
      const resultKey = `qenex:idem:result:${id}`;
      const lockKey = `qenex:idem:lock:${id}`;
      const claimed = await claimOnce(kv, resultKey, lockKey, bodyHash).catch((error: unknown) => {
        throw storeDown(error);
      });
      if (claimed !== undefined) return claimed;
      return {
        kind: "claimed",
        // The call has run: its answer goes to the client even if it cannot be stored. The
        // lock then stays until claimTtlMs, so a retry meanwhile is refused, not run again.
        async complete(response) {
          try {
            if (Buffer.byteLength(response.body) <= storedBodyBytesMax) {
              await kv.set(resultKey, JSON.stringify({ bodyHash, response }), keptMs);
            }
            await kv.del(lockKey);
          } catch {}
        },
        // A lock that cannot be removed expires after claimTtlMs; the call's own error stands.
        release: () => kv.del(lockKey).catch(() => {}),
      };
    },
  };
}

/** The stored answer or a conflict; undefined when this caller now holds the lock. */
async function claimOnce(kv: Kv, resultKey: string, lockKey: string, bodyHash: string): Promise<Claim | undefined> {
  const stored = await kv.get(resultKey);
  if (stored !== undefined) return compare(JSON.parse(stored) as { bodyHash: string; response: StoredResponse }, bodyHash);
  // incrBy is atomic in both stores: only the caller that brings the count to 1 runs.
  if ((await kv.incrBy(lockKey, 1, claimTtlMs)) === 1) return undefined;
  const finished = await kv.get(resultKey);
  if (finished !== undefined) return compare(JSON.parse(finished) as { bodyHash: string; response: StoredResponse }, bodyHash);
  return { kind: "conflict", message: "a request with this Idempotency-Key is still in progress; retry later" };
}

function compare(stored: { bodyHash: string; response: StoredResponse }, bodyHash: string): Claim {
  if (stored.bodyHash === bodyHash) return { kind: "replay", response: stored.response };
  return { kind: "conflict", message: "this Idempotency-Key was used with a different request body" };
}
