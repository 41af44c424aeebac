import { LedgerService } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { type BoundServices, binding, resolveSecret, type ServiceDeps } from "@qenex/platform";
import { createFxHandlers } from "./fx/handlers.js";
import { createReconcileHandlers } from "./reconcile/handlers.js";
import { createLedgerHandlers } from "./service.js";
import { createGroupCommitter } from "./store/group-commit.js";
import { createLedgerStore } from "./store/ledger-store.js";
import { measuredCommitter, measuredGroupWrites } from "./store/metrics.js";
import { startSweeper } from "./store/sweeper.js";
import { createNotifier } from "./store/watch.js";

export { transfersPerBatchMax } from "./domain/transfer.js";
export { ledgerMigrations } from "./store/migrations.js";

/** How often each replica looks for expired pending transfers. */
const sweepIntervalMs = 1000;

/** The ledger's RPC binding and background work for platform's startService(). */
export function bindLedger(deps: ServiceDeps): BoundServices {
  const { config, db, logger } = deps;
  const key = { keyId: config.auditKeyId, secret: resolveSecret(config.auditKey, config.dataDir, "audit-key") };
  const store = createLedgerStore(db, key);
  const committer = measuredCommitter(
    createGroupCommitter(measuredGroupWrites((commands, options) => store.createTransfers(commands, options), deps.metrics)),
    deps.metrics,
  );
  const notifier = createNotifier(db, logger);
  const sweeper = startSweeper(store, logger, sweepIntervalMs);
  const impl = {
    ...createLedgerHandlers({ store, committer, notifier }),
    ...createReconcileHandlers(db),
    ...createFxHandlers(db, store.createTransfers, key),
  };
  return {
    services: [binding(LedgerService, impl)],
    stop: async () => {
      await sweeper.stop();
      await notifier.stop();
    },
  };
}
