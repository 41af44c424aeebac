// Wires the payments service: store, upstream clients, simulated networks, workers, RPCs.
import { PaymentsService } from "@qenex/gen/qenex/payments/v1/payments_pb.js";
import { type BoundServices, binding, createAuth, resolveJwtSecret, type ServiceDeps } from "@qenex/platform";
import { createSimulatedNetwork } from "../rails/simulated-network.js";
import type { ClearingNetwork } from "../rails/types.js";
import { createPaymentStore, transitionsChannel } from "../store/payment-store.js";
import { type Rail, rails } from "../validation/rails.js";
import { createPaymentsHandlers } from "./handlers.js";
import { createPaymentsMetrics } from "./metrics.js";
import { createProcessor } from "./processor.js";
import { createUpstreams } from "./upstreams.js";
import { createWakeSignal } from "./wake-signal.js";
import { startWorkers } from "./workers.js";

export type PaymentsOptions = {
  ledgerUrl?: string;
  riskUrl?: string;
  /** A network per rail, where a real bank connection plugs in; the simulated ones from config when absent. */
  networks?: Readonly<Record<Rail, ClearingNetwork>>;
};

export function bindPayments(deps: ServiceDeps, options: PaymentsOptions = {}): BoundServices {
  const { db, logger, config } = deps;
  const ledgerUrl = options.ledgerUrl ?? config.ledgerUrl;
  const riskUrl = options.riskUrl ?? config.riskUrl;
  if (!ledgerUrl || !riskUrl) {
    throw new Error("the payments service needs the ledger and the risk service: set QENEX_LEDGER_URL and QENEX_RISK_URL");
  }
  const metrics = createPaymentsMetrics(deps.metrics);
  // A job committed here runs at once rather than at the workers' next poll.
  const jobsReady = createWakeSignal();
  const store = createPaymentStore(db, { onTransition: metrics.reached, onJobsScheduled: jobsReady.wake });
  const upstreams = createUpstreams({ ledgerUrl, riskUrl, auth: createAuth(resolveJwtSecret(config.jwtSecret, config.dataDir)) });
  const simulation = config.payments.simulation;
  const networks =
    options.networks ??
    (Object.fromEntries(
      rails.map((rail) => [rail, createSimulatedNetwork({ db, rail, ourBic: config.payments.bic, ...simulation })]),
    ) as Record<Rail, ClearingNetwork>);
  const processor = createProcessor({ store, upstreams, networks, config: config.payments, logger, metrics });

  // WatchPayment waits on NOTIFY; a periodic recheck covers a lost notification.
  const waiters = new Map<string, Set<() => void>>();
  const unlisten = db
    .listen(transitionsChannel, (paymentId) => {
      for (const wake of waiters.get(paymentId) ?? []) wake();
    })
    .catch((error: unknown) => {
      logger.warn({ err: error }, "cannot LISTEN for payment transitions; WatchPayment polls every second instead");
      return undefined;
    });
  const waitForTransition = (paymentId: string, timeoutMs: number, signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      const set = waiters.get(paymentId) ?? new Set();
      waiters.set(paymentId, set);
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        set.delete(done);
        if (set.size === 0) waiters.delete(paymentId);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal.addEventListener("abort", done);
      set.add(done);
    });

  const impl = createPaymentsHandlers({
    store,
    upstreams,
    config: config.payments,
    logger,
    ensureSettlementAccount: processor.ensureSettlementAccount,
    waitForTransition,
  });
  const workers = startWorkers({
    store,
    processor,
    networks: Object.values(networks),
    config: config.payments,
    logger,
    metrics,
    jobsReady,
  });
  return {
    services: [binding(PaymentsService, impl)],
    async stop() {
      await workers.stop();
      await (await unlisten)?.();
    },
  };
}
