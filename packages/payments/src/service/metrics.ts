// The payments service's metrics, under SEED.md's names: qenex_transactions_total counts
// payments by rail and outcome, qenex_transaction_latency_seconds times creation to settlement.
// (qenex_active_connections and qenex_system_health come from the platform.)
import { Counter, Histogram, type Registry } from "prom-client";
import type { PaymentRecord } from "../domain/payment.js";

export function createPaymentsMetrics(registry: Registry) {
  const transactions = new Counter({
    name: "qenex_transactions_total",
    help: "Payments by rail and each state they reached (RECEIVED, VALIDATED, ..., SETTLED, REJECTED, RETURNED, CANCELLED).",
    labelNames: ["rail", "state"],
    registers: [registry],
  });
  const latency = new Histogram({
    name: "qenex_transaction_latency_seconds",
    help: "Time from a payment's creation to its settlement, by rail.",
    labelNames: ["rail"],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600],
    registers: [registry],
  });
  const deadLetters = new Counter({
    name: "qenex_payments_dead_letters_total",
    help: "Jobs parked in payment_dead_letters after too many failed attempts, by kind.",
    labelNames: ["kind"],
    registers: [registry],
  });
  return {
    /** A state a payment reached (after its transaction committed). */
    reached(payment: Pick<PaymentRecord, "rail" | "state" | "createdAt">) {
      transactions.inc({ rail: payment.rail, state: payment.state });
      if (payment.state === "SETTLED") {
        latency.observe({ rail: payment.rail }, Math.max(0, Date.now() - payment.createdAt.getTime()) / 1000);
      }
    },
    deadLettered(kind: string) {
      deadLetters.inc({ kind });
    },
  };
}

export type PaymentsMetrics = ReturnType<typeof createPaymentsMetrics>;
