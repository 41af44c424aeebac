// grpc.health.v1.Health with real readiness: a service is SERVING only while its
// dependencies (the database) answer. Each dependency's state is listed for /health too.
import { Code, ConnectError, type ConnectRouter, type HandlerContext } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "@qenex/gen/grpc/health/v1/health_pb.js";
import type { Db } from "./db.js";
import type { Kv } from "./kv.js";
import { untilAborted } from "./signals.js";
import { unavailableReason } from "./unavailable.js";

/** One dependency a service needs: check() resolves while it answers. */
export type DependencyProbe = { name: string; check(): Promise<void> };

export type DependencyState = { name: string; ok: boolean; latencyMs: number; error?: string };

export type Readiness = {
  /** Throws or returns false when the process cannot serve. */
  check(): Promise<boolean>;
  /** Every dependency's state now, each probe bounded by probeTimeoutMs. */
  dependencies(): Promise<DependencyState[]>;
  /** Set on shutdown so load balancers stop sending work before the port closes. */
  draining: boolean;
};

/** A dependency that has not answered a probe within this counts as down. */
export const probeTimeoutMs = 1_000;
/** Most probes a service lists. */
export const probesMax = 16;

/** The probes of a service's storage: its database and its kv, named for what they are. */
export function storageProbes(db: Db, kv: Kv): DependencyProbe[] {
  return [
    { name: db.kind === "postgres" ? "postgresql" : "pglite", check: () => db.ping() },
    { name: kv.kind === "redis" ? "redis" : "memory", check: () => kv.ping() },
  ];
}

async function probe({ name, check }: DependencyProbe): Promise<DependencyState> {
  const startMs = performance.now();
  const timedOut = new Error(`no answer within ${probeTimeoutMs} ms`);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timedOut), probeTimeoutMs);
  });
  try {
    await Promise.race([check(), late]);
    return { name, ok: true, latencyMs: elapsedMs(startMs) };
  } catch (error) {
    // Only a short reason: /health is served to anyone who can reach the port.
    const reason = error === timedOut ? timedOut.message : (unavailableReason(error) ?? "check failed");
    return { name, ok: false, latencyMs: elapsedMs(startMs), error: reason };
  } finally {
    clearTimeout(timer);
  }
}

const elapsedMs = (startMs: number) => Math.round((performance.now() - startMs) * 100) / 100;

/** Probes every dependency at once; never rejects (a failed probe is a state). */
export function probeAll(probes: readonly DependencyProbe[]): Promise<DependencyState[]> {
  return Promise.all(probes.map(probe));
}

const checkTimeoutMs = 2_000;
const watchIntervalMs = 1_000;
/** The List response is capped, as the health protocol asks. */
const listServicesMax = 100;

/** SERVING while ready and not draining. */
export async function currentStatus(readiness: Readiness): Promise<ServingStatus> {
  if (readiness.draining) return ServingStatus.NOT_SERVING;
  const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), checkTimeoutMs).unref());
  const ok = await Promise.race([readiness.check().catch(() => false), timeout]);
  return ok ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
}

export type HealthReport = { status: "ok" | "degraded"; dependencies: DependencyState[] };

/**
 * What GET /health answers: "ok" while ready and every dependency answers, else "degraded";
 * HTTP 503 when the service cannot serve (its database is down, or it is draining), else 200.
 */
export async function healthReport(readiness: Readiness): Promise<{ httpStatus: 200 | 503; report: HealthReport }> {
  const [status, dependencies] = await Promise.all([currentStatus(readiness), readiness.dependencies()]);
  const serving = status === ServingStatus.SERVING;
  return {
    httpStatus: serving ? 200 : 503,
    report: { status: serving && dependencies.every((d) => d.ok) ? "ok" : "degraded", dependencies },
  };
}

export function registerHealth(router: ConnectRouter, serviceNames: readonly string[], readiness: Readiness): void {
  const known = new Set(["", ...serviceNames]);
  router.service(Health, {
    async check(req) {
      if (!known.has(req.service)) throw new ConnectError(`unknown service "${req.service}"`, Code.NotFound);
      return { status: await currentStatus(readiness) };
    },
    async list() {
      if (known.size > listServicesMax) throw new ConnectError("too many services", Code.ResourceExhausted);
      const status = await currentStatus(readiness);
      return { statuses: Object.fromEntries([...known].map((name) => [name, { status }])) };
    },
    async *watch(req, ctx: HandlerContext) {
      if (!known.has(req.service)) {
        // The health protocol keeps the call open (the service may appear later); ours never
        // do, so it stays open until the client ends it or its deadline passes.
        yield { status: ServingStatus.SERVICE_UNKNOWN };
        await untilAborted(ctx.signal);
        throw endedBy(ctx.signal);
      }
      let last: ServingStatus | undefined;
      while (!ctx.signal.aborted) {
        const status = await currentStatus(readiness);
        if (status !== last) yield { status };
        last = status;
        await new Promise((resolve) => {
          const timer = setTimeout(resolve, watchIntervalMs);
          ctx.signal.addEventListener(
            "abort",
            () => {
              clearTimeout(timer);
              resolve(undefined);
            },
            { once: true },
          );
        });
      }
      throw endedBy(ctx.signal);
    },
  });
}

/**
 * Why a watch ended: it only ends when its call does. Returning normally would send grpc-status
 * OK, and a client whose deadline passed would read a stream that succeeded (seen from Python's
 * grpcio now and then: the generator returned before connect reported the deadline).
 */
function endedBy(signal: AbortSignal): ConnectError {
  return signal.reason instanceof ConnectError ? signal.reason : new ConnectError("the call ended", Code.Canceled);
}
