import { describe, expect, it } from "vitest";
import * as fedwire from "../formats/fedwire/index.js";
import * as iso20022 from "../formats/iso20022/index.js";
import { validateAgainstXsd } from "../formats/iso20022/xsd-validate.js";
import * as mt103 from "../formats/mt103/index.js";
import * as nacha from "../formats/nacha/index.js";
import {
  achPayment,
  fedwirePayment,
  fedwireTagsPayment,
  mt103Payment,
  now,
  ourBic,
  payment,
  sepaPayment,
  swiftPayment,
} from "./fixtures.js";
import { paymentIdFrom, transactionIds } from "./ids.js";
import { readNetworkReply } from "./inbound.js";
import { achFilePaymentsMax, buildAchFile, buildCreditTransfer, buildReturn, MessageBuildError } from "./messages.js";

const ctx = { now, ourBic };
const achCtx = { now, fileIdModifier: "A", originRouting: "121042882", originName: "QENEX PAYMENTS" };

describe("paymentId in ISO ids", () => {
  it("round-trips short and 40-character ids, with '_' written as '.'", () => {
    for (const id of ["p1", "pay_sepa-1", "a".repeat(35), "x_".repeat(20), "pay_swift_with_a_rather_long_id_40chars"]) {
      const ids = transactionIds(id);
      expect(ids.transactionId.length).toBeLessThanOrEqual(35);
      expect(ids.instructionId.length).toBeLessThanOrEqual(35);
      expect(ids.transactionId).not.toContain("_");
      expect(paymentIdFrom(ids.instructionId, ids.transactionId)).toBe(id);
    }
  });

  it("gives different TxIds to long ids that share their first 35 characters", () => {
    const a = transactionIds(`${"a".repeat(35)}bbbbb`);
    const b = transactionIds(`${"a".repeat(35)}ccccc`);
    expect(a.transactionId).not.toBe(b.transactionId);
  });

  it("does not read a foreign TxId as one of ours", () => {
    expect(paymentIdFrom("INSTR", "E2E/1")).toBeUndefined();
    expect(paymentIdFrom("x", "abc+0123456789a")).toBeUndefined();
  });
});

describe("pacs.008 credit transfers", () => {
  const cases = [
    { name: "SEPA", record: sepaPayment, rules: iso20022.validateSepaPacs008 },
    { name: "SWIFT CBPR+", record: swiftPayment, rules: iso20022.validateCbprPacs008 },
    { name: "Fedwire", record: fedwirePayment, rules: iso20022.validateFedwirePacs008 },
  ];
  for (const { name, record, rules } of cases) {
    it(`${name}: validates against the XSD and the scheme rules, and parses back to the payment's values`, async () => {
      const message = buildCreditTransfer(record, ctx);
      expect(message.messageType).toBe("pacs.008.001.08");
      expect(message.messageId.length).toBeLessThanOrEqual(35);
      const xsd = await validateAgainstXsd(message.content, "pacs.008.001.08");
      expect(xsd.errors).toEqual([]);
      const model = iso20022.parsePacs008(message.content);
      expect(rules(model)).toEqual([]);
      expect(model.messageId).toBe(message.messageId);
      const [tx] = model.transactions;
      expect(tx?.uetr).toBe(record.uetr);
      expect(tx?.endToEndId).toBe(record.reference);
      expect(paymentIdFrom(tx?.instructionId, tx?.transactionId)).toBe(record.paymentId);
      expect(tx?.interbankSettlementAmount.currency).toBe(record.currency);
      expect(tx?.creditor.name).toBe(record.creditor.name);
      expect(tx?.debtor.name).toBe(record.debtor.name);
    });
  }

  it("is deterministic: same payment and clock, same bytes", () => {
    expect(buildCreditTransfer(sepaPayment, ctx)).toEqual(buildCreditTransfer(sepaPayment, ctx));
  });

  it("gives SEPA service level SEPA, SLEV and EUR, and Fedwire ABA member ids through FDW", () => {
    const sepa = iso20022.parsePacs008(buildCreditTransfer(sepaPayment, ctx).content);
    expect(sepa.transactions[0]?.chargeBearer).toBe("SLEV");
    expect(sepa.transactions[0]?.paymentType?.serviceLevelCode).toBe("SEPA");
    const fed = iso20022.parsePacs008(buildCreditTransfer(fedwirePayment, ctx).content);
    expect(fed.clearingSystemCode).toBe("FDW");
    expect(fed.transactions[0]?.creditorAgent.clearingSystemMember).toEqual({ systemCode: "USABA", memberId: "231380104" });
  });

  it("refuses a SEPA payment in another currency, naming the element", () => {
    expect(() => buildCreditTransfer({ ...sepaPayment, currency: "USD" }, ctx)).toThrow(/IntrBkSttlmAmt\/@Ccy/);
  });

  it("refuses ACH, which goes out in files", () => {
    expect(() => buildCreditTransfer(achPayment("a1"), ctx)).toThrow(MessageBuildError);
  });
});

describe("MT103", () => {
  it("carries the UETR in block 3, names and accounts in :50K:/:59:, charges in :71A:, and parses back", () => {
    const message = buildCreditTransfer(mt103Payment, ctx);
    expect(message.content).toContain(`{121:${mt103Payment.uetr}}`);
    const model = mt103.parseMt103(message.content);
    expect(message.messageId).toBe(`${model.text.sendersReference}/${mt103Payment.uetr}`);
    expect(model.applicationHeader.priority).toBe("U");
    expect(model.text.orderingCustomer).toEqual({ option: "K", account: "DE89370400440532013000", nameAndAddress: ["Erika Mustermann"] });
    expect(model.text.beneficiary).toEqual({ option: "none", account: "GB82WEST12345698765432", nameAndAddress: ["OBrien Trading Ltd"] });
    expect(model.text.detailsOfCharges).toBe("OUR");
    expect(model.text.interbankSettlement).toEqual({ currency: "GBP", amount: "99.99" });
    expect(model.text.remittanceInformation).toEqual(["INV 77"]);
  });

  it("uses :50A: and :59A: with the bank BIC when a party has no name", () => {
    const record = { ...mt103Payment, debtor: { ...mt103Payment.debtor, name: "" }, creditor: { ...mt103Payment.creditor, name: "" } };
    const model = mt103.parseMt103(buildCreditTransfer(record, ctx).content);
    expect(model.text.orderingCustomer).toEqual({ option: "A", account: "DE89370400440532013000", bic: "DEUTDEFFXXX" });
    expect(model.text.beneficiary).toEqual({ option: "A", account: "GB82WEST12345698765432", bic: "NWBKGB2L" });
  });
});

describe("Fedwire tags", () => {
  it("renders a CTR that parses back to the payment's values", () => {
    const message = buildCreditTransfer(fedwireTagsPayment, ctx);
    const model = fedwire.parseFedwire(message.content);
    expect(model.amountUsd).toBe("510000.74");
    expect(model.senderDepositoryInstitution.routingNumber).toBe("121042882");
    expect(model.receiverDepositoryInstitution.routingNumber).toBe("231380104");
    expect(model.beneficiary).toMatchObject({ identifier: "567876543", name: "Jane Roe" });
    expect(model.originator).toMatchObject({ identifier: "5647772655", name: "Corporation A" });
    expect(model.senderReference).toBe(message.messageId);
  });
});

describe("NACHA files", () => {
  it("puts individuals in a PPD batch and companies in a CCD batch, trace numbers mapping to payments", () => {
    const payments = [
      achPayment("a1"),
      achPayment("a2", { creditor: { ...achPayment("x").creditor, name: "Bolt LLC" } }),
      achPayment("a3"),
    ];
    const file = buildAchFile(payments, achCtx);
    const parsed = nacha.parseNachaFile(file.content);
    expect(parsed.batches.map((b) => [b.header.secCode, b.entries.length])).toEqual([
      ["PPD", 2],
      ["CCD", 1],
    ]);
    const entries = parsed.batches.flatMap((b) => b.entries);
    for (const entry of entries) {
      const addenda = entry.addenda[0];
      expect(addenda?.typeCode === "05" && addenda.paymentRelatedInformation).toBe(file.traceNumbers.get(entry.traceNumber));
      expect(entry.amountMinor).toBe(150_000n);
      expect(entry.dfiAccountNumber).toBe("567876543");
      expect(entry.identificationNumber).toBe("EMP001");
    }
    expect(new Set(file.traceNumbers.values())).toEqual(new Set(["a1", "a2", "a3"]));
    expect(buildAchFile(payments, achCtx).content).toBe(file.content);
  });

  it("splits batches at 1,000 entries and refuses more than 10,000 payments", () => {
    const many = Array.from({ length: 2_001 }, (_, i) => achPayment(`p${i}`));
    const file = buildAchFile(many, achCtx);
    expect(nacha.parseNachaFile(file.content).batches.map((b) => b.entries.length)).toEqual([1000, 1000, 1]);
    const tooMany = Array.from({ length: achFilePaymentsMax + 1 }, (_, i) => achPayment(`p${i}`));
    expect(() => buildAchFile(tooMany, achCtx)).toThrow(/10001 payments exceed the limit of 10000/);
  });

  it("refuses a file whose total passes the 12 digits of cents a control record holds", () => {
    const big = Array.from({ length: 100 }, (_, i) => achPayment(`b${i}`, { amountMinor: 9_999_999_999n }));
    const batches = nacha.parseNachaFile(buildAchFile(big, achCtx).content).batches;
    expect(batches.map((b) => b.entries.length)).toEqual([100]);
    const tooBig = [...big, achPayment("b100", { amountMinor: 9_999_999_999n })];
    expect(() => buildAchFile(tooBig, achCtx)).toThrow(
      /total of 10099999998\.99 USD exceeds the 9999999999\.99 USD a NACHA file control holds/,
    );
  });

  it("refuses a payment id twice and a name longer than NACHA holds", () => {
    expect(() => buildAchFile([achPayment("a1"), achPayment("a1")], achCtx)).toThrow(/twice/);
    const longName = achPayment("a1", { creditor: { ...achPayment("x").creditor, name: "A".repeat(23) } });
    expect(() => buildAchFile([longName], achCtx)).toThrow(/receiver name/);
  });
});

describe("returns", () => {
  const returnCtx = { now, ourBic, reasonCode: "AC04", originalMessageId: "MSG-IN-1" };
  const cases = [
    { name: "SEPA", record: sepaPayment, rules: (m: iso20022.Pacs004) => iso20022.checkPacs004(m) },
    { name: "SWIFT", record: swiftPayment, rules: iso20022.validateCbprPacs004 },
    { name: "Fedwire", record: fedwirePayment, rules: iso20022.validateFedwirePacs004 },
  ];
  for (const { name, record, rules } of cases) {
    it(`${name}: pacs.004 validates against the XSD and scheme rules and reads back to the payment and reason`, async () => {
      const message = buildReturn(record, returnCtx);
      expect(message.messageType).toBe("pacs.004.001.09");
      expect((await validateAgainstXsd(message.content, "pacs.004.001.09")).errors).toEqual([]);
      const model = iso20022.parsePacs004(message.content);
      expect(rules(model)).toEqual([]);
      expect(model.transactions[0]?.originalGroup?.messageId).toBe("MSG-IN-1");
      expect(model.transactions[0]?.originalUetr).toBe(record.uetr);
      expect(readNetworkReply(message)).toMatchObject({ kind: "RETURNED", paymentIds: [record.paymentId], reasonCode: "AC04" });
    });
  }

  it("ACH: a NACHA return entry with the R-code and the original trace number", () => {
    const message = buildReturn(achPayment("a1"), { ...returnCtx, reasonCode: "R03", originalMessageId: "121042880000007" });
    const entry = nacha.parseNachaFile(message.content).batches[0]?.entries[0];
    expect(entry?.transactionCode).toBe("21");
    expect(entry?.addenda[0]).toMatchObject({ typeCode: "99", returnCode: "R03", originalTraceNumber: "121042880000007" });
    expect(readNetworkReply(message)).toMatchObject({ kind: "RETURNED", paymentIds: ["a1"], reasonCode: "R03" });
  });

  it("ACH: refuses a reason that is not an R-code", () => {
    expect(() => buildReturn(achPayment("a1"), returnCtx)).toThrow(/not an ACH return code/);
  });

  it("keeps a payment's other fields out of the id: two payments, two message ids", () => {
    const a = buildCreditTransfer(payment({ paymentId: "p-a" }), ctx);
    const b = buildCreditTransfer(payment({ paymentId: "p-b" }), ctx);
    expect(a.messageId).not.toBe(b.messageId);
  });
});
