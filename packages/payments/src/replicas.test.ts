// Two payments replicas on one PostgreSQL database share the work: every payment is processed
// once (one hold, one post or void, one message) and both replicas take part. Embedded PGlite is
// one process's database, so this runs with DATABASE_URL only (CI's first pass).
import { AccountType } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { MessageDirection, PaymentState } from "@qenex/gen/qenex/payments/v1/payments_pb.js";
import { type TestLedger, uniquePrefix } from "@qenex/ledger/testing";
import type { TestRisk } from "@qenex/risk/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decideOutcome, receivedMessages } from "./rails/simulated-network.js";
import { eurParties, startLedgerAndRisk, startTestPayments, type TestPayments, usParties } from "./testing/harness.js";

const usesPostgres = Boolean(process.env.DATABASE_URL);
const simulation = { seed: 5, rejectRate: 0.2, returnRate: 0 };
const env = { QENEX_SIM_SEED: "5", QENEX_SIM_REJECT_RATE: "0.2", QENEX_SIM_RETURN_RATE: "0", QENEX_PAYMENTS_WORKERS: "4" };

let ledger: TestLedger;
let risk: TestRisk;
let upstreams: Awaited<ReturnType<typeof startLedgerAndRisk>> | undefined;
let first: TestPayments;
let second: TestPayments;

beforeAll(async () => {
  if (!usesPostgres) return;
  upstreams = await startLedgerAndRisk();
  ({ ledger, risk } = upstreams);
  first = await startTestPayments({ ledgerUrl: ledger.url, riskUrl: risk.url, env });
  if (!first.databaseUrl) throw new Error("the first replica has no PostgreSQL database");
  second = await startTestPayments({ ledgerUrl: ledger.url, riskUrl: risk.url, env, databaseUrl: first.databaseUrl });
});

afterAll(async () => {
  await second?.stop({ keepDatabase: true });
  await first?.stop();
  await upstreams?.stop();
});

describe.skipIf(!usesPostgres)("two payments replicas on one database", () => {
  it("process each of 60 payments once, and both take part", async () => {
    const prefix = uniquePrefix("rep").replaceAll(".", "-");
    const planned = Array.from({ length: 60 }, (_, n) => {
      const rail = (["SEPA", "ACH", "FEDWIRE"] as const)[n % 3] ?? "SEPA";
      return { paymentId: `${prefix}-${n}`.slice(0, 40), rail, account: `${prefix}-a${n}` };
    });
    await Promise.all(
      planned.map(async ({ paymentId, rail, account }, n) => {
        const usd = rail !== "SEPA";
        await ledger.client().createAccount({
          accountId: account,
          accountType: AccountType.CHECKING,
          currency: usd ? "USD" : "EUR",
          initialBalance: "100.00",
        });
        // Half the payments through each replica's API.
        const client = (n % 2 === 0 ? first : second).client();
        const request = usd
          ? { rail: rail.toLowerCase(), paymentId, debtorAccount: account, amount: "40.00", currency: "USD", reference: "R", ...usParties }
          : { rail: "sepa", paymentId, debtorAccount: account, amount: "40.00", currency: "EUR", reference: "R", ...eurParties };
        await client.createPayment(request);
      }),
    );
    const deadline = Date.now() + 60_000;
    for (const { paymentId, rail, account } of planned) {
      const expected = decideOutcome({ ...simulation, rail }, paymentId).kind === "REJECT" ? PaymentState.REJECTED : PaymentState.SETTLED;
      for (;;) {
        const { payment } = await first.client().getPayment({ paymentId });
        if (payment?.state === expected) {
          // No state twice, whichever replica moved it.
          const states = payment.transitions.map((t) => t.to);
          expect(new Set(states).size).toBe(states.length);
          break;
        }
        if (Date.now() > deadline)
          throw new Error(`${paymentId} is ${PaymentState[payment?.state ?? 0]}, expected ${PaymentState[expected]}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const { balance } = await ledger.client().getBalance({ accountId: account });
      const left = expected === PaymentState.SETTLED ? "60.00" : "100.00";
      expect({ paymentId, balance: balance?.balance?.amount, available: balance?.available?.amount }).toEqual({
        paymentId,
        balance: left,
        available: left,
      });
      const { messages } = await first.client().getPaymentMessage({ paymentId });
      expect(messages.filter((m) => m.direction === MessageDirection.SENT)).toHaveLength(1);
    }
    const received = await receivedMessages(first.process.db);
    expect(received.every((m) => m.receivedCount === 1)).toBe(true);
    // Both replicas moved payments: each counts the states its own transactions stored.
    for (const replica of [first, second]) {
      const metrics = await (await fetch(`${replica.url}/metrics`)).text();
      expect(metrics).toMatch(/qenex_transactions_total\{rail="[A-Z]+",state="SETTLED"\} [1-9]/);
    }
  });
});
