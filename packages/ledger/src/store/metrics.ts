// SEED.md's transaction metrics, measured where transfers are decided: every outcome
// counted by status, and each request's time from arrival to commit (queueing included).
import { CreateTransferStatus } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { Counter, Histogram, type Registry } from "prom-client";
import type { GroupCommitter } from "./group-commit.js";

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
