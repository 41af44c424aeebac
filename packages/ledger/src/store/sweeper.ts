// Voids pending transfers whose timeout has passed. Safe with several ledger replicas: an
// expiry is an ordinary transfer with the id "expire:<pending id>", decided under the same
// locks as any post or void, so a pending transfer is expired at most once and a replica
// that comes second finds the expiry already there.
import { TransferKind } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import type { Logger } from "@qenex/platform";
import type { TransferCommand } from "../domain/transfer.js";
import type { LedgerStore } from "./ledger-store.js";
import { simpleTransfer } from "./ledger-store.js";

/** Pending transfers expired per sweep. */
const expiriesPerSweepMax = 1000;

function expireCommand(pendingId: string): TransferCommand {
  return {
    ...simpleTransfer({
      id: `expire:${pendingId}`,
      debitAccountId: "",
      creditAccountId: "",
      amountMinor: 0n,
      currency: "",
      reference: "timeout",
      kind: TransferKind.EXPIRE_PENDING,
    }),
    pendingId,
  };
}

/** Expires what is due now; returns how many pending transfers it looked at. */
async function sweepOnce(store: LedgerStore): Promise<number> {
  const ids = await store.expiredPendingIds(expiriesPerSweepMax);
  if (ids.length > 0) await store.createTransfers(ids.map(expireCommand));
  return ids.length;
}

export function startSweeper(store: LedgerStore, logger: Logger, intervalMs: number): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(() => sweepOnce(store)).catch((error: unknown) => logger.warn({ err: error }, "pending sweep failed"));
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
