// The RPC services the edge answers itself, so operators can point grpcurl or `buf curl
// --list-services` at the front door: server reflection over every service it routes (one
// merged set of descriptors), and grpc.health.v1.Health that answers for the edge ("") and
// asks each routed service's own health for its name.
import type { DescService } from "@bufbuild/protobuf";
import { type Client, Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "@qenex/gen/grpc/health/v1/health_pb.js";
import { registerReflection, untilAborted } from "@qenex/platform";

/** Path prefixes of the services the edge answers itself. */
export const ownRpcPrefixes = [
  "/grpc.health.v1.Health/",
  "/grpc.reflection.v1.ServerReflection/",
  "/grpc.reflection.v1alpha.ServerReflection/",
];

/** How long the edge waits for a routed service's health before saying it is not serving. */
const upstreamHealthTimeoutMs = 2_000;

export function createOwnRpcHandler(services: readonly DescService[], health: ReadonlyMap<string, Client<typeof Health>>) {
  const files = [...new Map([...services.map((s) => s.file), Health.file].map((file) => [file.name, file])).values()];
  const statusOf = async (service: string): Promise<ServingStatus> => {
    if (service === "") return ServingStatus.SERVING;
    const client = health.get(service);
    if (!client) throw new ConnectError(`unknown service "${service}"`, Code.NotFound);
    try {
      return (await client.check({ service }, { timeoutMs: upstreamHealthTimeoutMs })).status;
    } catch {
      return ServingStatus.NOT_SERVING;
    }
  };
  return connectNodeAdapter({
    routes: (router: ConnectRouter) => {
      registerReflection(router, files);
      router.service(Health, {
        check: async (req) => ({ status: await statusOf(req.service) }),
        list: async () => {
          const names = ["", ...health.keys()];
          const statuses = await Promise.all(names.map(async (name) => [name, { status: await statusOf(name) }] as const));
          return { statuses: Object.fromEntries(statuses) };
        },
        async *watch(req, ctx) {
          const client = health.get(req.service);
          if (client) {
            // The routed service's own watch, relayed for as long as the caller listens.
            yield* client.watch({ service: req.service }, { signal: ctx.signal });
            return;
          }
          yield { status: req.service === "" ? ServingStatus.SERVING : ServingStatus.SERVICE_UNKNOWN };
          // The health protocol keeps a watch open; nothing here changes while the edge runs.
          await untilAborted(ctx.signal);
        },
      });
    },
  });
}
