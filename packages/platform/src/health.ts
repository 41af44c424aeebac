// grpc.health.v1.Health with real readiness: a service is SERVING only while its
// dependencies (the database) answer.
import { Code, ConnectError, type ConnectRouter, type HandlerContext } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "@qenex/gen/grpc/health/v1/health_pb.js";

export type Readiness = {
  /** Throws or returns false when the process cannot serve. */
  check(): Promise<boolean>;
  /** Set on shutdown so load balancers stop sending work before the port closes. */
  draining: boolean;
};

const checkTimeoutMs = 2_000;
const watchIntervalMs = 1_000;
/** The List response is capped, as the health protocol asks. */
const listServicesMax = 100;

async function currentStatus(readiness: Readiness): Promise<ServingStatus> {
  if (readiness.draining) return ServingStatus.NOT_SERVING;
  const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), checkTimeoutMs).unref());
  const ok = await Promise.race([readiness.check().catch(() => false), timeout]);
  return ok ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
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
        yield { status: ServingStatus.SERVICE_UNKNOWN };
        return;
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
    },
  });
}
