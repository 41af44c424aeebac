import { LedgerService } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { binding, type ServiceBinding, type ServiceDeps } from "@qenex/platform";
import { createLedgerHandlers } from "./service.js";
import { createLedgerStore } from "./store/ledger-store.js";

export { transfersPerBatchMax } from "./domain/transfer.js";
export { ledgerMigrations } from "./store/migrations.js";

/** The ledger's RPC binding for platform's serve()/startService(). */
export function bindLedger(deps: Pick<ServiceDeps, "db">): ServiceBinding[] {
  return [binding(LedgerService, createLedgerHandlers(createLedgerStore(deps.db)))];
}
