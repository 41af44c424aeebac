// The current RPC call's deadline and abort signal, carried with AsyncLocalStorage so that
// storage calls made on the call's behalf (SQL statements, commits) give up when the caller
// has stopped waiting.
import { AsyncLocalStorage } from "node:async_hooks";
import { Code, ConnectError } from "@connectrpc/connect";

/**
 * The call work is done for: when it must be done by (epoch ms) and a signal that aborts
 * when the call ends early (its deadline, a cancel, a lost connection). Both optional:
 * background work has neither.
 */
export type CallScope = { readonly deadlineAtMs?: number | undefined; readonly signal?: AbortSignal | undefined };

const storage = new AsyncLocalStorage<CallScope>();

/** Runs fn with a deadline (epoch ms); a deadline already set and earlier is kept. */
export function runWithDeadline<T>(deadlineAtMs: number, fn: () => T): T {
  const current = storage.getStore();
  const earliest = current?.deadlineAtMs === undefined ? deadlineAtMs : Math.min(current.deadlineAtMs, deadlineAtMs);
  return storage.run({ ...current, deadlineAtMs: earliest }, fn);
}

/** Runs fn with at most timeoutMs left, or less if the current deadline is sooner. */
export function runWithTimeout<T>(timeoutMs: number, fn: () => T): T {
  return runWithDeadline(Date.now() + timeoutMs, fn);
}

/** Runs fn as part of a call that ends when `signal` aborts (as well as when an enclosing call ends). */
export function runWithSignal<T>(signal: AbortSignal, fn: () => T): T {
  const current = storage.getStore();
  const either = current?.signal ? AbortSignal.any([current.signal, signal]) : signal;
  return storage.run({ ...current, signal: either }, fn);
}

/** The scope of the current call (empty outside one), to carry work over to another context. */
export function currentCall(): CallScope {
  return storage.getStore() ?? {};
}

/**
 * Runs fn in `scope` instead of the current call's: work shared by several calls (a group
 * commit) runs in a scope made for it, not in whichever caller happened to start it.
 */
export function runInCall<T>(scope: CallScope, fn: () => T): T {
  return storage.run(scope, fn);
}

/** Milliseconds until the current deadline (negative once it passed), or undefined without one. */
export function remainingMs(): number | undefined {
  const deadlineAtMs = storage.getStore()?.deadlineAtMs;
  return deadlineAtMs === undefined ? undefined : deadlineAtMs - Date.now();
}

/**
 * Why the call can no longer have work done for it (`when` says at what point, for the
 * message), or undefined while it can: DEADLINE_EXCEEDED once its deadline passed, CANCELED
 * once it was canceled or its client went away.
 */
export function callEnded(when: string, scope: CallScope = currentCall()): ConnectError | undefined {
  const { signal, deadlineAtMs } = scope;
  if (signal?.aborted) {
    const reason: unknown = signal.reason;
    const timedOut =
      (reason instanceof ConnectError && reason.code === Code.DeadlineExceeded) ||
      (reason instanceof DOMException && reason.name === "TimeoutError");
    return timedOut
      ? new ConnectError(`the call's deadline passed ${when}`, Code.DeadlineExceeded)
      : new ConnectError(`the call was canceled ${when}`, Code.Canceled);
  }
  if (deadlineAtMs !== undefined && deadlineAtMs <= Date.now()) {
    return new ConnectError(`the call's deadline passed ${when}`, Code.DeadlineExceeded);
  }
  return undefined;
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
