// SEED.md's transaction metrics, measured where transfers are decided: every outcome
// counted by status, and each request's time from arrival to commit (queueing included).
import { CreateTransferStatus } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { Counter, Histogram, type Registry } from "prom-client";
import type { TransferCommand } from "../domain/transfer.js";
import type { GroupCommitter } from "./group-commit.js";
import type { BatchOptions, BatchResult } from "./transfer-batch.js";

type WriteBatch = (commands: TransferCommand[], options: BatchOptions) => Promise<BatchResult>;

/**
 * Group commit's own shape: how many transfers each database transaction carries and how long
 * it takes (statements and COMMIT). Small groups under load mean round trips are the cost;
 * long ones mean the database is.
 */
export function measuredGroupWrites(write: WriteBatch, registry: Registry): WriteBatch {
  const transfers = new Histogram({
    name: "qenex_ledger_group_transfers",
    help: "Transfers written per group-commit database transaction.",
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 8190],
    registers: [registry],
  });
  const duration = new Histogram({
    name: "qenex_ledger_group_write_seconds",
    help: "Time one group-commit write took: taking a pooled connection, BEGIN, the statements and COMMIT (retries included).",
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });
  return async (commands, options) => {
    const end = duration.startTimer();
    try {
      return await write(commands, options);
    } finally {
      end();
      transfers.observe(commands.length);
    }
  };
}

export function measuredCommitter(committer: GroupCommitter, registry: Registry): GroupCommitter {
  const transactions = new Counter({
    name: "qenex_transactions_total",
    help: "Transfers processed, by outcome (created, exists, insufficient_funds, ...).",
    labelNames: ["status"],
    registers: [registry],
  });
  const latency = new Histogram({
    name: "qenex_transaction_latency_seconds",
    help: "Time from a transfer request's arrival to its commit, queueing for group commit included.",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  return {
    async submit(commands) {
      const end = latency.startTimer();
      try {
        const result = await committer.submit(commands);
        for (const outcome of result.outcomes) {
          transactions.inc({ status: (CreateTransferStatus[outcome.status] ?? "unknown").toLowerCase() });
        }
        return result;
      } finally {
        end();
      }
    },
  };
}
