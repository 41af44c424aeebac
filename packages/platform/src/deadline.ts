// The current RPC call's deadline, carried with AsyncLocalStorage so that storage calls made
// on the call's behalf (SQL statements) give up when the caller has stopped waiting.
import { AsyncLocalStorage } from "node:async_hooks";

const storage = new AsyncLocalStorage<{ deadlineAtMs: number }>();

/** Runs fn with a deadline (epoch ms); a deadline already set and earlier is kept. */
export function runWithDeadline<T>(deadlineAtMs: number, fn: () => T): T {
  const current = storage.getStore()?.deadlineAtMs;
  return storage.run({ deadlineAtMs: current === undefined ? deadlineAtMs : Math.min(current, deadlineAtMs) }, fn);
}

/** Runs fn with at most timeoutMs left, or less if the current deadline is sooner. */
export function runWithTimeout<T>(timeoutMs: number, fn: () => T): T {
  return runWithDeadline(Date.now() + timeoutMs, fn);
}

/** Milliseconds until the current deadline (negative once it passed), or undefined without one. */
export function remainingMs(): number | undefined {
  const deadlineAtMs = storage.getStore()?.deadlineAtMs;
  return deadlineAtMs === undefined ? undefined : deadlineAtMs - Date.now();
}

/**
 * The timeout a request carries: grpc-timeout (gRPC, gRPC-Web: "<digits><unit>", at most
 * 8 digits, https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md) or
 * connect-timeout-ms (Connect: at most 10 digits). Undefined when absent or malformed
 * (Connect itself refuses a malformed one).
 */
export function requestTimeoutMs(header: Headers): number | undefined {
  const grpc = header.get("grpc-timeout");
  if (grpc !== null) {
    const match = /^(\d{1,8})([HMSmun])$/.exec(grpc);
    if (!match) return undefined;
    const msPerUnit: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1_000, m: 1, u: 0.001, n: 0.000_001 };
    return Number(match[1]) * (msPerUnit[match[2] as string] ?? 1);
  }
  const connect = header.get("connect-timeout-ms");
  if (connect !== null && /^\d{1,10}$/.test(connect)) return Number(connect);
  return undefined;
}
