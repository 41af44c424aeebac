// End to end: ledger, risk and payments as separate servers on real storage (PostgreSQL in
// CI), every rail from received to settled over the simulated networks, a network rejection,
// a network return, a sender's return, a cancellation, a payment held for review, inbound
// messages, and the payment's history, messages and stream.

import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { AccountType } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import type { CreatePaymentRequestSchema } from "@qenex/gen/qenex/payments/v1/payments_pb.js";
import {
  EntryStatus,
  MessageDirection,
  MessageFormat,
  type Payment,
  PaymentState,
  Rail,
} from "@qenex/gen/qenex/payments/v1/payments_pb.js";
import { AlertStatus } from "@qenex/gen/qenex/risk/v1/risk_pb.js";
import { type TestLedger, uniquePrefix } from "@qenex/ledger/testing";
import type { TestRisk } from "@qenex/risk/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decideOutcome, receivedMessages } from "./rails/simulated-network.js";
import { eurParties, startLedgerAndRisk, startTestPayments, type TestPayments, usParties } from "./testing/harness.js";

let ledger: TestLedger;
let risk: TestRisk;
let upstreams: Awaited<ReturnType<typeof startLedgerAndRisk>> | undefined;
let payments: TestPayments;
const prefix = uniquePrefix("e2e").replaceAll(".", "-");
// The simulated networks reject 30% and return 30%; each scenario picks a payment id whose
// seeded outcome is the one it needs, so the test is deterministic.
const simulation = { seed: 7, rejectRate: 0.3, returnRate: 0.3 };

beforeAll(async () => {
  upstreams = await startLedgerAndRisk();
  ({ ledger, risk } = upstreams);
  payments = await startTestPayments({
    ledgerUrl: ledger.url,
    riskUrl: risk.url,
    env: { QENEX_SIM_SEED: String(simulation.seed), QENEX_SIM_REJECT_RATE: "0.3", QENEX_SIM_RETURN_RATE: "0.3" },
  });
});

afterAll(async () => {
  await payments?.stop();
  await upstreams?.stop();
});

type Rails = "SWIFT" | "SEPA" | "ACH" | "FEDWIRE";

/** A payment id of this test whose simulated outcome on `rail` is `outcome`. */
function idWith(rail: Rails, outcome: "SETTLE" | "REJECT" | "RETURN", name: string): string {
  for (let n = 0; n < 1000; n++) {
    const id = `${name}-${prefix}-${n}`.slice(0, 40);
    if (decideOutcome({ ...simulation, rail }, id).kind === outcome) return id;
  }
  throw new Error(`no id found for ${outcome} on ${rail}`);
}

/** The error a call failed with; the test fails if the call succeeded. */
async function failure(call: Promise<unknown>): Promise<ConnectError> {
  try {
    await call;
  } catch (error) {
    return ConnectError.from(error);
  }
  throw new Error("the call succeeded");
}

let accounts = 0;
/** A fresh debtor account, so the risk service's velocity rules see few payments from it. */
async function account(currency: string, balance = "100000.00"): Promise<string> {
  const accountId = `${prefix}-${currency}-${++accounts}`;
  await ledger.client().createAccount({ accountId, accountType: AccountType.CHECKING, currency, initialBalance: balance });
  return accountId;
}

async function balanceOf(accountId: string) {
  const { balance } = await ledger.client().getBalance({ accountId });
  return { balance: balance?.balance?.amount, available: balance?.available?.amount };
}

async function waitFor(paymentId: string, states: PaymentState[], timeoutMs = 30_000): Promise<Payment> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { payment } = await payments.client().getPayment({ paymentId });
    if (payment && states.includes(payment.state)) return payment;
    if (Date.now() > deadline) {
      throw new Error(
        `payment ${paymentId} is ${payment ? PaymentState[payment.state] : "missing"} (${payment?.stateReason}), not ${states.map((s) => PaymentState[s]).join("|")}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

type Request = MessageInitShape<typeof CreatePaymentRequestSchema>;

/** A SEPA payment of `amount` EUR whose seeded network outcome is `outcome`, from `debtorAccount`. */
async function sepa(debtorAccount: string, amount: string, outcome: "SETTLE" | "REJECT", name: string): Promise<string> {
  const paymentId = idWith("SEPA", outcome, name);
  await payments
    .client()
    .createPayment({ rail: "sepa", paymentId, debtorAccount, amount, currency: "EUR", reference: name, ...eurParties });
  return paymentId;
}
const swift = (debtorAccount: string, paymentId: string, extra: Request = {}): Request => ({
  rail: "swift",
  paymentId,
  debtorAccount,
  amount: "250.00",
  currency: "EUR",
  reference: "INV-2026-001",
  debtor: { name: "Acme GmbH", iban: "DE89370400440532013000", bic: "COBADEFFXXX" },
  creditor: { name: "Globex Ltd", iban: "GB82WEST12345698765432", bic: "NWBKGB2L" },
  messageFormat: extra.messageFormat ?? 0,
});

describe("payments end to end", () => {
  it.each([
    ["SWIFT pacs.008", "SWIFT", (a: string, id: string) => swift(a, id), "EUR", "pacs.008.001.08"],
    ["SWIFT MT103", "SWIFT", (a: string, id: string) => swift(a, id, { messageFormat: MessageFormat.MT103 }), "EUR", "MT103"],
    [
      "SEPA",
      "SEPA",
      (a: string, id: string) => ({
        rail: "sepa",
        paymentId: id,
        debtorAccount: a,
        amount: "99.95",
        currency: "EUR",
        reference: "Rent March",
        ...eurParties,
      }),
      "EUR",
      "pacs.008.001.08",
    ],
    [
      "ACH",
      "ACH",
      (a: string, id: string) => ({
        rail: "ach",
        paymentId: id,
        debtorAccount: a,
        amount: "1200.00",
        currency: "USD",
        reference: "PAYROLL",
        ...usParties,
      }),
      "USD",
      "NACHA",
    ],
    [
      "Fedwire",
      "FEDWIRE",
      (a: string, id: string) => ({
        rail: "fedwire",
        paymentId: id,
        debtorAccount: a,
        amount: "4000.00",
        currency: "USD",
        reference: "PO 88-1",
        urgent: true,
        ...usParties,
      }),
      "USD",
      "pacs.008.001.08",
    ],
    [
      "Fedwire tags",
      "FEDWIRE",
      (a: string, id: string) => ({
        rail: "fedwire",
        paymentId: id,
        debtorAccount: a,
        amount: "4000.00",
        currency: "USD",
        reference: "PO 88-2",
        messageFormat: MessageFormat.FEDWIRE_TAGS,
        ...usParties,
      }),
      "USD",
      "Fedwire tags",
    ],
  ] as const)("%s goes from received to settled, debiting the debtor once", async (_name, rail, request, currency, messageType) => {
    const debtorAccount = await account(currency);
    const paymentId = idWith(rail, "SETTLE", _name.toLowerCase().replace(/[^a-z0-9]+/g, ""));
    const created = await payments.client().createPayment(request(debtorAccount, paymentId));
    expect(created.payment?.state).toBe(PaymentState.VALIDATED);
    expect(created.payment?.rail).toBe(Rail[rail]);
    const settled = await waitFor(paymentId, [PaymentState.SETTLED, PaymentState.REJECTED]);
    expect(settled.stateReason).not.toMatch(/rejected/);
    expect(settled.state).toBe(PaymentState.SETTLED);
    const { payment } = await payments.client().getPayment({ paymentId });
    expect(payment?.transitions.map((t) => PaymentState[t.to])).toEqual([
      "RECEIVED",
      "VALIDATED",
      "SCREENED",
      "FUNDS_RESERVED",
      "SUBMITTED",
      "ACCEPTED",
      "SETTLED",
    ]);
    const amount = created.payment?.amount?.amount ?? "";
    const expected = (100000 - Number(amount)).toFixed(2);
    expect(await balanceOf(debtorAccount)).toEqual({ balance: expected, available: expected });
    const posted = await ledger.client().getTransfer({ transferId: `${paymentId}.post` });
    expect(posted.transfer?.pendingTransferId).toBe(`${paymentId}.hold`);
    // The screening was stored under the hold's id: the risk monitor, seeing the hold in the
    // ledger, gets this result back instead of counting the money a second time.
    const screening = await risk
      .client()
      .scoreTransaction({ transactionId: `${paymentId}.hold`, accountId: debtorAccount, currency, amount: "1.00" });
    expect(screening.existed).toBe(true);
    expect(screening.score).toBe(payment?.riskScore);
    const { messages } = await payments.client().getPaymentMessage({ paymentId });
    const sent = messages.filter((m) => m.direction === MessageDirection.SENT);
    expect(sent.map((m) => m.messageType)).toEqual([messageType]);
    const text = new TextDecoder().decode(sent[0]?.content);
    if (messageType === "MT103") expect(text).toContain(`{121:${payment?.uetr}}`);
    if (messageType === "pacs.008.001.08") expect(text).toContain(`<UETR>${payment?.uetr}</UETR>`);
    if (messageType === "NACHA") expect(text.split("\n")[0]).toMatch(/^101/);
  });

  it("SEED.md's bank-to-bank SWIFT payment (BICs only) is paid from the sending bank's account", async () => {
    const bic = `C${prefix
      .replace(/[^A-Z0-9]/gi, "")
      .slice(-3)
      .toUpperCase()
      .padStart(3, "X")}US33`;
    const bankAccount = `bank-${bic}-EUR`;
    await ledger
      .client()
      .createAccount({ accountId: bankAccount, accountType: AccountType.BUSINESS, currency: "EUR", initialBalance: "5000.00" });
    const paymentId = idWith("SWIFT", "SETTLE", "seed");
    const created = await payments.client().createPayment({
      rail: "swift",
      paymentId,
      sourceBic: bic,
      destinationBic: "DEUTDEFF",
      amount: "1000.00",
      currency: "EUR",
      reference: "INV-2024-001",
    });
    expect(created.payment?.debtorAccount).toBe(bankAccount);
    await waitFor(paymentId, [PaymentState.SETTLED]);
    expect(await balanceOf(bankAccount)).toEqual({ balance: "4000.00", available: "4000.00" });
    const { messages } = await payments.client().getPaymentMessage({ paymentId });
    const pacs008 = new TextDecoder().decode(messages[0]?.content);
    expect(pacs008).toContain(`<BICFI>${bic}</BICFI>`);
    expect(pacs008).toContain("<BICFI>DEUTDEFF</BICFI>");
  });

  it("ingests inbound MT103, pacs.008 and NACHA: credits each known beneficiary once, refuses a malformed file whole", async () => {
    // Our own outbound messages, once settled, are well-formed inbound ones for the creditor's
    // bank; here the creditor's account is one of ours (its IBAN or account number is its id).
    const gbIban = "GB29NWBK60161331926819";
    const usAccount = `9${Date.now() % 1e9}`;
    await ledger
      .client()
      .createAccount({ accountId: gbIban, accountType: AccountType.CHECKING, currency: "EUR" })
      .catch(() => undefined);
    await ledger.client().createAccount({ accountId: usAccount, accountType: AccountType.CHECKING, currency: "USD" });
    const eurBefore = Number((await balanceOf(gbIban)).balance);
    const sent = async (request: Request, rail: Rails, name = `in${rail}${request.messageFormat ?? 0}`) => {
      const paymentId = idWith(rail, "SETTLE", name);
      await payments.client().createPayment({ ...request, paymentId });
      await waitFor(paymentId, [PaymentState.SETTLED]);
      const { messages } = await payments.client().getPaymentMessage({ paymentId });
      return new TextDecoder().decode(messages.find((m) => m.direction === MessageDirection.SENT)?.content);
    };
    const gbCreditor = { name: "Beneficiary Ltd", iban: gbIban, bic: "NWBKGB2L" };
    const mt103 = await sent(
      { ...swift(await account("EUR"), ""), creditor: gbCreditor, messageFormat: MessageFormat.MT103 } as Request,
      "SWIFT",
    );
    const pacs008 = await sent({ ...swift(await account("EUR"), ""), creditor: gbCreditor } as Request, "SWIFT");
    const nachaFile = await sent(
      {
        rail: "ach",
        debtorAccount: await account("USD"),
        amount: "64.00",
        currency: "USD",
        reference: "IN",
        debtor: usParties.debtor,
        creditor: { ...usParties.creditor, accountNumber: usAccount },
      },
      "ACH",
    );
    for (const [content, format] of [
      [mt103, MessageFormat.MT103],
      [pacs008, MessageFormat.ISO20022],
    ] as const) {
      const ingested = await payments.client().ingestMessage({ content });
      expect(ingested.format).toBe(format);
      expect(ingested.entries.map((e) => [e.creditorAccount, e.amount?.amount, EntryStatus[e.status]])).toEqual([
        [gbIban, "250.00", "CREDITED"],
      ]);
      const again = await payments.client().ingestMessage({ content });
      expect(again.existed).toBe(true);
      expect(again.entries).toEqual(ingested.entries);
    }
    expect(Number((await balanceOf(gbIban)).balance)).toBeCloseTo(eurBefore + 500, 2);
    const ach = await payments.client().ingestMessage({ content: nachaFile });
    expect(ach.entries.find((e) => e.creditorAccount === usAccount)).toMatchObject({
      status: EntryStatus.CREDITED,
      amount: { amount: "64.00" },
    });
    expect(await balanceOf(usAccount)).toEqual({ balance: "64.00", available: "64.00" });
    // An MT103 between banks names the beneficiary by its BIC alone (:59A:): no account of ours to credit.
    const betweenBanks = await sent(
      {
        rail: "swift",
        debtorAccount: await account("EUR"),
        sourceBic: "COBADEFFXXX",
        destinationBic: "NWBKGB2L",
        amount: "5.00",
        currency: "EUR",
        reference: "BANKS",
        messageFormat: MessageFormat.MT103,
      },
      "SWIFT",
      "inbanks",
    );
    expect(betweenBanks).toContain(":59A:NWBKGB2L");
    const noAccount = await payments.client().ingestMessage({ content: betweenBanks });
    expect(noAccount.entries.map((e) => [EntryStatus[e.status], e.reason])).toEqual([
      ["NO_ACCOUNT", "the message names no beneficiary account"],
    ]);
    const broken = await failure(
      payments.client().ingestMessage({
        content: pacs008.replace("<IntrBkSttlmAmt", "<IntrBkSttlmAmtX").replace("</IntrBkSttlmAmt>", "</IntrBkSttlmAmtX>"),
      }),
    );
    expect(broken.code).toBe(Code.InvalidArgument);
    expect(broken.rawMessage).toMatch(/IntrBkSttlmAmt/);
    const shortLine = nachaFile
      .split("\n")
      .map((line, i) => (i === 2 ? line.slice(0, 90) : line))
      .join("\n");
    const badNacha = await failure(payments.client().ingestMessage({ content: shortLine }));
    expect(badNacha.rawMessage).toMatch(/line 3/);
    expect(await balanceOf(usAccount)).toEqual({ balance: "64.00", available: "64.00" });
  });

  it("a message sent again after a crash is recognised by the network as a duplicate and changes nothing", async () => {
    const debtorAccount = await account("EUR");
    const paymentId = await sepa(debtorAccount, "33.00", "SETTLE", "dup");
    const settled = await waitFor(paymentId, [PaymentState.SETTLED]);
    const { messages } = await payments.client().getPaymentMessage({ paymentId });
    const messageId = messages.find((m) => m.direction === MessageDirection.SENT)?.messageId ?? "";
    // As if the worker had died after the network took the message but before it recorded
    // that: the transmit job is due again.
    const db = payments.process.db;
    await db.query("INSERT INTO payment_jobs (kind, payload, dedupe_key) VALUES ('transmit', $1, $2)", [
      JSON.stringify({ messageId, rail: "SEPA" }),
      `transmit:${messageId}`,
    ]);
    const deadline = Date.now() + 10_000;
    while (
      Number((await db.query("SELECT count(*) AS n FROM payment_jobs WHERE dedupe_key = $1", [`transmit:${messageId}`])).rows[0]?.n) > 0
    ) {
      if (Date.now() > deadline) throw new Error("the transmit job never ran");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const received = (await receivedMessages(db)).find((m) => m.messageId === messageId);
    expect(received?.receivedCount).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const { payment } = await payments.client().getPayment({ paymentId });
    expect(payment?.transitions.map((t) => PaymentState[t.to])).toEqual(settled.transitions.map((t) => PaymentState[t.to]));
    expect(await balanceOf(debtorAccount)).toEqual({ balance: "99967.00", available: "99967.00" });
  });

  it("a malformed answer from the network is parked in the dead letters and holds up nothing", async () => {
    const debtorAccount = await account("EUR");
    const paymentId = await sepa(debtorAccount, "21.00", "SETTLE", "poison");
    await waitFor(paymentId, [PaymentState.SETTLED]);
    const db = payments.process.db;
    // A "return" whose pacs.004 is not XML, due before anything else on the rail.
    await db.query(
      `INSERT INTO sim_network_events (event_id, rail, message_id, payment_id, step, kind, reason_code, reason_text,
         reply_message_id, reply_format, reply_type, reply_content, due_at)
       VALUES ($1, 'SEPA', 'poison', $2, 0, 'RETURNED', 'AC04', 'closed', 'RTR-POISON', 'ISO20022', 'pacs.004.001.09', 'not xml', now() - interval '1 hour')`,
      [`poison-${paymentId}`, paymentId],
    );
    const next = await sepa(debtorAccount, "22.00", "SETTLE", "after-poison");
    await waitFor(next, [PaymentState.SETTLED]);
    const parked = (await db.query("SELECT * FROM payment_dead_letters WHERE kind = 'network-event' AND payment_id = $1", [paymentId]))
      .rows;
    expect(parked).toHaveLength(1);
    expect(String(parked[0]?.last_error)).not.toBe("");
    const listed = await payments.client(["operator"]).listDeadLetters({});
    const letter = listed.deadLetters.find((d) => d.paymentId === paymentId);
    expect(letter).toMatchObject({ kind: "network-event", lastError: String(parked[0]?.last_error) });
    expect((await failure(payments.client(["operator"]).requeueDeadLetter({ deadLetterId: letter?.deadLetterId ?? 0n }))).code).toBe(
      Code.FailedPrecondition,
    );
    expect((await failure(payments.client(["auditor"]).listDeadLetters({}))).code).toBe(Code.PermissionDenied);
    expect(await (await fetch(`${payments.url}/metrics`)).text()).toMatch(/qenex_payments_dead_letters_total\{kind="network-event"\} 1/);
    expect((await payments.client().getPayment({ paymentId })).payment?.state).toBe(PaymentState.SETTLED);
    expect(await balanceOf(debtorAccount)).toEqual({ balance: "99957.00", available: "99957.00" });
  });

  it("a payment the network rejects is voided: the debtor's balance is as before", async () => {
    const debtorAccount = await account("EUR");
    const paymentId = await sepa(debtorAccount, "75.00", "REJECT", "rej");
    const rejected = await waitFor(paymentId, [PaymentState.REJECTED, PaymentState.SETTLED]);
    expect(rejected.state).toBe(PaymentState.REJECTED);
    expect(rejected.reasonCode).toMatch(/^[A-Z]{2}\d{2}$/);
    expect(rejected.stateReason).toContain(rejected.reasonCode);
    expect(await balanceOf(debtorAccount)).toEqual({ balance: "100000.00", available: "100000.00" });
    const voided = await ledger.client().getTransfer({ transferId: rejected.settleTransferId });
    expect(voided.transfer?.pendingTransferId).toBe(`${paymentId}.hold`);
    const { messages } = await payments.client().getPaymentMessage({ paymentId });
    expect(messages.map((m) => `${MessageDirection[m.direction]} ${m.messageType}`)).toEqual([
      "SENT pacs.008.001.08",
      "RECEIVED pacs.002.001.10",
    ]);
    expect(new TextDecoder().decode(messages[1]?.content)).toContain(`<Cd>${rejected.reasonCode}</Cd>`);
  });

  it("a payment the network returns after settlement is reversed exactly once", async () => {
    const debtorAccount = await account("USD");
    const paymentId = idWith("ACH", "RETURN", "ret");
    await payments
      .client()
      .createPayment({ rail: "ach", paymentId, debtorAccount, amount: "310.00", currency: "USD", reference: "RET", ...usParties });
    const returned = await waitFor(paymentId, [PaymentState.RETURNED, PaymentState.REJECTED]);
    expect(returned.state).toBe(PaymentState.RETURNED);
    expect(returned.reasonCode).toMatch(/^R\d\d$/);
    expect(await balanceOf(debtorAccount)).toEqual({ balance: "100000.00", available: "100000.00" });
    const { transfers } = await ledger.client().listTransfers({ accountId: debtorAccount });
    expect(transfers.filter((t) => t.reversalOf === `${paymentId}.post`)).toHaveLength(1);
    // The sender cannot return it a second time.
    const again = await failure(payments.client().reversePayment({ paymentId, reason: "again" }));
    expect(again.code).toBe(Code.FailedPrecondition);
  });

  it("the sender returns a settled payment: pacs.004 sent and the ledger reversed", async () => {
    const debtorAccount = await account("EUR");
    const paymentId = idWith("SWIFT", "SETTLE", "back");
    await payments.client().createPayment(swift(debtorAccount, paymentId));
    await waitFor(paymentId, [PaymentState.SETTLED]);
    const asked = await payments.client().reversePayment({ paymentId, reason: "duplicate invoice" });
    expect(asked.payment?.state).toBe(PaymentState.SETTLED);
    const returned = await waitFor(paymentId, [PaymentState.RETURNED]);
    expect(returned.returnTransferId).toBe(`${paymentId}.return`);
    expect(await balanceOf(debtorAccount)).toEqual({ balance: "100000.00", available: "100000.00" });
    const { messages } = await payments.client().getPaymentMessage({ paymentId });
    const sent = messages.filter((m) => m.direction === MessageDirection.SENT).map((m) => m.messageType);
    expect(sent).toEqual(["pacs.008.001.08", "pacs.004.001.09"]);
  });

  it("a payment held for review settles once an analyst approves it, and its alert is closed", async () => {
    const debtorAccount = await account("USD", "500000.00");
    const paymentId = idWith("ACH", "SETTLE", "review");
    // 12,000 USD crosses the currency-transaction-report rule: the risk service says REVIEW.
    await payments
      .client()
      .createPayment({ rail: "ach", paymentId, debtorAccount, amount: "12000.00", currency: "USD", reference: "BIG", ...usParties });
    const held = await waitFor(paymentId, [PaymentState.HELD_FOR_REVIEW, PaymentState.SCREENED, PaymentState.SETTLED]);
    expect(held.state).toBe(PaymentState.HELD_FOR_REVIEW);
    expect(held.alertId).not.toBe("");
    expect(await balanceOf(debtorAccount)).toEqual({ balance: "500000.00", available: "500000.00" });
    const auditor = await failure(payments.client(["auditor"]).reviewPayment({ paymentId, approve: true, note: "n" }));
    expect(auditor.code).toBe(Code.PermissionDenied);
    await payments.client(["operator"], "analyst-1").reviewPayment({ paymentId, approve: true, note: "known payroll customer" });
    await waitFor(paymentId, [PaymentState.SETTLED]);
    const { payment } = await payments.client().getPayment({ paymentId });
    expect(payment?.transitions.find((t) => t.to === PaymentState.SCREENED)?.actor).toBe("analyst:analyst-1");
    expect(await balanceOf(debtorAccount)).toEqual({ balance: "488000.00", available: "488000.00" });
    const { alert } = await risk.client().getAlert({ alertId: held.alertId });
    expect(alert?.status).toBe(AlertStatus.RESOLVED);
  });

  it("a held payment the sender cancels ends CANCELLED and moves no money", async () => {
    const debtorAccount = await account("USD", "500000.00");
    const paymentId = idWith("ACH", "SETTLE", "cancel");
    await payments
      .client()
      .createPayment({ rail: "ach", paymentId, debtorAccount, amount: "15000.00", currency: "USD", reference: "C", ...usParties });
    await waitFor(paymentId, [PaymentState.HELD_FOR_REVIEW]);
    const cancelled = await payments.client().reversePayment({ paymentId, reason: "changed my mind" });
    expect(cancelled.payment?.state).toBe(PaymentState.CANCELLED);
    const review = await failure(payments.client(["operator"]).reviewPayment({ paymentId, approve: true, note: "late" }));
    expect(review.code).toBe(Code.FailedPrecondition);
    expect(await balanceOf(debtorAccount)).toEqual({ balance: "500000.00", available: "500000.00" });
  });

  it("insufficient funds: rejected before anything is sent", async () => {
    const debtorAccount = await account("EUR", "10.00");
    const paymentId = await sepa(debtorAccount, "75.00", "SETTLE", "poor");
    const rejected = await waitFor(paymentId, [PaymentState.REJECTED, PaymentState.SETTLED]);
    expect(rejected.stateReason).toMatch(/insufficient funds/);
    expect((await payments.client().getPaymentMessage({ paymentId })).messages).toEqual([]);
  });

  it("refuses invalid input with the field and stores nothing", async () => {
    const debtorAccount = await account("EUR");
    const bad = await failure(
      payments.client().createPayment({
        rail: "sepa",
        paymentId: `bad-${prefix}`.slice(0, 40),
        debtorAccount,
        amount: "5.00",
        currency: "EUR",
        reference: "x",
        debtor: eurParties.debtor,
        creditor: { ...eurParties.creditor, iban: "FR1420041010050500013M02607" },
      }),
    );
    expect(bad.code).toBe(Code.InvalidArgument);
    expect(bad.rawMessage).toMatch(/creditor\.account\.iban/);
    const usdOnSepa = await failure(
      payments.client().createPayment({ rail: "sepa", debtorAccount, amount: "5.00", currency: "USD", reference: "x", ...eurParties }),
    );
    expect(usdOnSepa.rawMessage).toMatch(/EUR/);
    const missing = await failure(payments.client().getPayment({ paymentId: `bad-${prefix}`.slice(0, 40) }));
    expect(missing.code).toBe(Code.NotFound);
  });

  it("AUTO routes and records why; a retry with the same id returns the same payment", async () => {
    const debtorAccount = await account("USD");
    const paymentId = idWith("FEDWIRE", "SETTLE", "auto");
    const request = { rail: "auto", paymentId, debtorAccount, amount: "2500000.00", currency: "USD", reference: "BIG WIRE", ...usParties };
    const first = await payments.client().createPayment(request);
    expect(first.payment?.rail).toBe(Rail.FEDWIRE);
    expect(first.payment?.railReason).toMatch(/Fedwire threshold/);
    const again = await payments.client().createPayment(request);
    expect(again.existed).toBe(true);
    expect(again.payment?.uetr).toBe(first.payment?.uetr);
    const changed = await failure(payments.client().createPayment({ ...request, amount: "2500000.01" }));
    expect(changed.code).toBe(Code.AlreadyExists);
  });

  it("WatchPayment streams every transition until a final state", async () => {
    const debtorAccount = await account("EUR");
    const paymentId = await sepa(debtorAccount, "12.00", "REJECT", "watch");
    const seen: string[] = [];
    for await (const update of payments.client().watchPayment({ paymentId })) {
      seen.push(PaymentState[update.transition?.to ?? 0] ?? "?");
    }
    // The network may acknowledge before it rejects (pacs.002 ACSP, then RJCT).
    expect(seen.filter((state) => state !== "ACCEPTED")).toEqual([
      "RECEIVED",
      "VALIDATED",
      "SCREENED",
      "FUNDS_RESERVED",
      "SUBMITTED",
      "REJECTED",
    ]);
  });

  it("exports SEED.md's metrics: payments by rail and outcome, settlement latency, connections, health", async () => {
    const text = await (await fetch(`${payments.url}/metrics`)).text();
    expect(text).toMatch(/qenex_transactions_total\{rail="SEPA",state="SETTLED"\} [1-9]/);
    expect(text).toMatch(/qenex_transactions_total\{rail="SEPA",state="VALIDATED"\} [1-9]/);
    expect(text).toMatch(/qenex_transactions_total\{rail="SEPA",state="REJECTED"\} [1-9]/);
    expect(text).toMatch(/qenex_transactions_total\{rail="ACH",state="RETURNED"\} [1-9]/);
    expect(text).toMatch(/qenex_transaction_latency_seconds_count\{rail="ACH"\} [1-9]/);
    expect(text).toMatch(/qenex_active_connections [0-9]/);
    expect(text).toMatch(/qenex_system_health 100/);
  });

  it("a customer pays only from its own accounts and sees only its own payments", async () => {
    const owned = `${prefix}-cust-own`;
    await ledger
      .client()
      .createAccount({ accountId: owned, accountType: AccountType.CHECKING, currency: "EUR", initialBalance: "500.00", ownerId: "cust-1" });
    const customer = payments.client(["customer"], "cust-1");
    const paymentId = idWith("SEPA", "SETTLE", "cust");
    await customer.createPayment({
      rail: "sepa",
      paymentId,
      debtorAccount: owned,
      amount: "10.00",
      currency: "EUR",
      reference: "C",
      ...eurParties,
    });
    expect((await customer.getPayment({ paymentId })).payment?.createdBy).toBe("cust-1");
    const others = await account("EUR");
    const foreign = await failure(
      customer.createPayment({ rail: "sepa", debtorAccount: others, amount: "10.00", currency: "EUR", reference: "C", ...eurParties }),
    );
    expect(foreign.code).toBe(Code.PermissionDenied);
    const stranger = payments.client(["customer"], "cust-2");
    const peek = await failure(stranger.getPayment({ paymentId }));
    expect(peek.code).toBe(Code.NotFound);
    expect((await stranger.listPayments({})).payments).toEqual([]);
    const auditor = await failure(
      payments
        .client(["auditor"])
        .createPayment({ rail: "sepa", debtorAccount: owned, amount: "1.00", currency: "EUR", reference: "A", ...eurParties }),
    );
    expect(auditor.code).toBe(Code.PermissionDenied);
    await waitFor(paymentId, [PaymentState.SETTLED]);
  });

  it("ListPayments filters by state and pages with a cursor", async () => {
    const { payments: rejected } = await payments.client().listPayments({ state: PaymentState.REJECTED, page: { pageSize: 1 } });
    expect(rejected.every((p) => p.state === PaymentState.REJECTED)).toBe(true);
    const first = await payments.client().listPayments({ page: { pageSize: 2 } });
    expect(first.payments).toHaveLength(2);
    const second = await payments.client().listPayments({ page: { pageSize: 2, pageToken: first.page?.nextPageToken ?? "" } });
    expect(second.payments.map((p) => p.paymentId)).not.toContain(first.payments[0]?.paymentId);
    const forged = await failure(payments.client().listPayments({ page: { pageToken: "bm9wZQ" } }));
    expect(forged.code).toBe(Code.InvalidArgument);
    // Past year 9999 PostgreSQL refuses the time: the caller hears which field, not INTERNAL.
    const far = await failure(payments.client().listPayments({ createdAfter: { seconds: 524_000_000_000n } }));
    expect([far.code, far.rawMessage]).toEqual([Code.InvalidArgument, expect.stringMatching(/^created_after must be from/)]);
  });
});
