// The ledger's committed transfers, read through its generated client: the monitor scores
// each one once, and TrainModel can learn from them. Only money leaving an account by the
// account holder's act is scored: posted and pending transfers (not opening balances, the
// resolution of a pending transfer, reversals or expiries).
import { create } from "@bufbuild/protobuf";
import { type Client, createClient } from "@connectrpc/connect";
import { LedgerService, type Transfer, TransferKind } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { type ScoreTransactionRequest, ScoreTransactionRequestSchema } from "@qenex/gen/qenex/risk/v1/risk_pb.js";
import { bearerInterceptor, createMeshTransport } from "@qenex/platform";

export type LedgerSource = {
  url: string;
  /** A bearer token with the `service` role, minted afresh when it nears expiry. */
  token: () => Promise<string>;
};

export function ledgerClient(source: LedgerSource): Client<typeof LedgerService> {
  return createClient(LedgerService, createMeshTransport({ baseUrl: source.url, interceptors: [bearerInterceptor(source.token)] }));
}

const scoredKinds = new Set([TransferKind.TRANSFER, TransferKind.PENDING]);

/** The ScoreTransaction request for a committed transfer, or undefined for kinds not scored. */
export function scoreRequestOf(transfer: Transfer): ScoreTransactionRequest | undefined {
  if (!scoredKinds.has(transfer.kind) || !transfer.amount) return undefined;
  return create(ScoreTransactionRequestSchema, {
    transactionId: transfer.transferId,
    accountId: transfer.sourceAccount,
    counterpartyId: transfer.destinationAccount,
    amount: transfer.amount.amount,
    currency: transfer.amount.currency,
    ...(transfer.createdAt ? { occurredAt: transfer.createdAt } : {}),
  });
}

/**
 * Committed transfers after `afterSequence`, in commit order, until the stream has been
 * quiet for `idleMs` (caught up), `maxTransfers` are read, or `deadlineMs` has passed.
 */
export async function readCommitted(
  client: Client<typeof LedgerService>,
  options: { afterSequence: bigint; maxTransfers: number; idleMs: number; deadlineMs: number },
): Promise<Transfer[]> {
  const transfers: Transfer[] = [];
  const controller = new AbortController();
  const deadline = setTimeout(() => controller.abort(), options.deadlineMs);
  let idle: NodeJS.Timeout | undefined;
  const restartIdle = () => {
    clearTimeout(idle);
    idle = setTimeout(() => controller.abort(), options.idleMs);
  };
  restartIdle();
  try {
    for await (const message of client.watchTransfers({ afterSequence: options.afterSequence }, { signal: controller.signal })) {
      if (message.transfer) transfers.push(message.transfer);
      if (transfers.length >= options.maxTransfers) break;
      restartIdle();
    }
  } catch (error) {
    // Our own abort (caught up or out of time) ends the read; anything else is a failure.
    if (!controller.signal.aborted) throw error;
  } finally {
    clearTimeout(idle);
    clearTimeout(deadline);
    controller.abort();
  }
  return transfers;
}
