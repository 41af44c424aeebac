import { Code, ConnectError, type ConnectRouter, createHandlerContext } from "@connectrpc/connect";
import { Health } from "@qenex/gen/grpc/health/v1/health_pb.js";
import { describe, expect, it } from "vitest";
import { registerHealth } from "./health.js";

type WatchImpl = (req: { service: string }, ctx: ReturnType<typeof createHandlerContext>) => AsyncIterable<{ status: number }>;

/** The Watch implementation registerHealth gives a router. */
function watchImpl(serviceNames: string[]): WatchImpl {
  let impl: { watch: WatchImpl } | undefined;
  const router = {
    service(_service: unknown, implementation: { watch: WatchImpl }) {
      impl = implementation;
      return router;
    },
  };
  registerHealth(router as unknown as ConnectRouter, serviceNames, {
    check: async () => true,
    dependencies: async () => [],
    draining: false,
  });
  if (!impl) throw new Error("registerHealth registered nothing");
  return impl.watch;
}

/** A call context whose deadline has passed: connect aborts its signal with DEADLINE_EXCEEDED. */
function pastDeadline() {
  const ctx = createHandlerContext({
    service: Health,
    method: Health.method.watch,
    protocolName: "grpc",
    requestMethod: "POST",
    url: "http://127.0.0.1/grpc.health.v1.Health/Watch",
    timeoutMs: 0,
  });
  return ctx;
}

describe("health Watch", () => {
  // A watch that returned normally once its call ended would send grpc-status OK: a client
  // whose deadline passed read a stream that succeeded (Python's grpcio, now and then).
  for (const service of ["", "no.such.Service"]) {
    it(`ends with the call's reason, not OK (service "${service}")`, async () => {
      const ctx = pastDeadline();
      await new Promise<void>((resolve) => {
        if (ctx.signal.aborted) resolve();
        else ctx.signal.addEventListener("abort", () => resolve(), { once: true });
      });
      const drain = async () => {
        for await (const _ of watchImpl(["qenex.ledger.v1.LedgerService"])({ service }, ctx)) {
          // statuses before the end do not matter here
        }
      };
      const error = await drain().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ConnectError);
      expect((error as ConnectError).code).toBe(Code.DeadlineExceeded);
    });
  }
});
