// No settlement waits on a timer when work is ready: with the workers' idle poll an hour away,
// a payment on every rail still goes from received to settled, each step started by the one
// before it (a committed job, an answer falling due, the ACH cut-off), never by a poll.
import { AccountType } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { PaymentState } from "@qenex/gen/qenex/payments/v1/payments_pb.js";
import { uniquePrefix } from "@qenex/ledger/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eurParties, startLedgerAndRisk, startTestPayments, type TestPayments, usParties } from "./testing/harness.js";

let upstreams: Awaited<ReturnType<typeof startLedgerAndRisk>> | undefined;
let payments: TestPayments | undefined;
const prefix = uniquePrefix("wake").replaceAll(".", "-");

beforeAll(async () => {
  upstreams = await startLedgerAndRisk();
  payments = await startTestPayments({
    ledgerUrl: upstreams.ledger.url,
    riskUrl: upstreams.risk.url,
    env: { QENEX_PAYMENTS_POLL_MS: "3600000" },
  });
});

afterAll(async () => {
  await payments?.stop();
  await upstreams?.stop();
});

describe("payments with the idle poll an hour away", () => {
  it("settle on every rail: each step is woken by the one before it", async () => {
    const started = (payments as TestPayments).client();
    const rails = ["sepa", "swift", "fedwire", "ach"] as const;
    const settled = await Promise.all(
      rails.map(async (rail) => {
        const usd = rail === "fedwire" || rail === "ach";
        const debtorAccount = `${prefix}-${rail}`;
        await upstreams?.ledger.client().createAccount({
          accountId: debtorAccount,
          accountType: AccountType.CHECKING,
          currency: usd ? "USD" : "EUR",
          initialBalance: "1000.00",
        });
        const paymentId = `${prefix}-${rail}-p`.slice(0, 40);
        await started.createPayment({
          rail,
          paymentId,
          debtorAccount,
          amount: "25.00",
          currency: usd ? "USD" : "EUR",
          reference: "wake-ups",
          ...(usd ? usParties : eurParties),
        });
        let last = PaymentState.UNSPECIFIED;
        // Were a step left to the poll, the stream would wait past the test's timeout. A settled
        // payment may still be returned, so the stream goes on after SETTLED: stop reading there.
        for await (const update of started.watchPayment({ paymentId })) {
          last = update.transition?.to ?? last;
          if (last === PaymentState.SETTLED) break;
        }
        return PaymentState[last];
      }),
    );
    expect(settled).toEqual(["SETTLED", "SETTLED", "SETTLED", "SETTLED"]);
  }, 30_000);
});
