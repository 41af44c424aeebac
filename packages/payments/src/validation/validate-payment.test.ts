import { describe, expect, it } from "vitest";
import type { PaymentInstruction } from "./instruction.js";
import { validatePayment } from "./validate-payment.js";

const sepa: PaymentInstruction = {
  debtor: { name: "Anna Schmidt", account: { scheme: "IBAN", iban: "DE89370400440532013000" }, agentBic: "COBADEFFXXX" },
  creditor: { name: "Societe Generale Client", account: { scheme: "IBAN", iban: "FR1420041010050500013M02606" } },
  amount: "1250.00",
  currency: "EUR",
  reference: "INV-2026-0042",
  urgent: false,
  requestedRail: "SEPA",
};

const ach: PaymentInstruction = {
  debtor: { name: "Acme Payroll", account: { scheme: "ABA", accountNumber: "5647772655", abaRouting: "011000015" } },
  creditor: { name: "John Doe", account: { scheme: "ABA", accountNumber: "567876543", abaRouting: "021000021" } },
  amount: "2500.00",
  currency: "USD",
  reference: "PAYROLL0042",
  urgent: false,
  requestedRail: "ACH",
};

const swift: PaymentInstruction = {
  debtor: { name: "Acme Ltd", account: { scheme: "IBAN", iban: "GB82WEST12345698765432" }, agentBic: "NWBKGB2L" },
  creditor: {
    name: "Tokyo Trading KK",
    account: { scheme: "ABA", accountNumber: "123456", abaRouting: "021000021" },
    agentBic: "BOTKJPJT",
  },
  amount: "1000000",
  currency: "JPY",
  reference: "REF123",
  urgent: false,
  requestedRail: "SWIFT",
};

describe("validatePayment", () => {
  it("accepts a valid instruction on each rail", () => {
    expect(validatePayment(sepa, "SEPA")).toEqual([]);
    expect(validatePayment(ach, "ACH")).toEqual([]);
    expect(validatePayment(ach, "FEDWIRE")).toEqual([]);
    expect(validatePayment(swift, "SWIFT")).toEqual([]);
  });

  it("rejects a currency the rail does not settle in", () => {
    expect(validatePayment({ ...sepa, currency: "USD" }, "SEPA")).toEqual([
      { field: "currency", rule: "currency", message: "SEPA settles in EUR only, not USD" },
    ]);
    expect(validatePayment({ ...ach, currency: "EUR" }, "FEDWIRE")).toMatchObject([{ field: "currency", rule: "currency" }]);
  });

  it("still reports an unreadable amount when the currency is refused", () => {
    expect(validatePayment({ ...sepa, currency: "USD", amount: "12.345" }, "SEPA")).toMatchObject([
      { field: "currency", rule: "currency" },
      { field: "amount", rule: "amount-format" },
    ]);
  });

  it("applies the same-day limit to urgent ACH entries", () => {
    expect(validatePayment({ ...ach, urgent: true, amount: "1000000.00" }, "ACH")).toEqual([]);
    expect(validatePayment({ ...ach, urgent: true, amount: "1000000.01" }, "ACH")).toMatchObject([
      { field: "amount", rule: "amount-limit" },
    ]);
  });

  it("names the field and the character outside the rail's character set", () => {
    const debtor = { ...sepa.debtor, name: "Anna Müller" };
    expect(validatePayment({ ...sepa, debtor }, "SEPA")).toEqual([
      { field: "debtor.name", rule: "charset", message: 'debtor.name contains "ü" (U+00FC), outside the EPC Latin character set' },
    ]);
    expect(validatePayment({ ...swift, reference: "REF_1" }, "SWIFT")).toMatchObject([
      { field: "reference", rule: "charset", message: expect.stringContaining('"_" (U+005F)') },
    ]);
    const creditor = { ...ach.creditor, name: "Jos\u00e9 Perez" };
    expect(validatePayment({ ...ach, creditor }, "ACH")).toMatchObject([
      { field: "creditor.name", message: expect.stringContaining('"é"') },
    ]);
  });

  it("holds names to 70 on SEPA, one 35-character line on SWIFT, 22 on ACH and 140 on Fedwire", () => {
    const named = (name: string) => ({ ...ach, creditor: { ...ach.creditor, name } });
    expect(validatePayment(named("A".repeat(22)), "ACH")).toEqual([]);
    expect(validatePayment(named("A".repeat(23)), "ACH")).toEqual([
      { field: "creditor.name", rule: "too-long", message: "creditor.name has 23 characters; at most 22 allowed" },
    ]);
    expect(validatePayment(named("A".repeat(140)), "FEDWIRE")).toEqual([]);
    expect(validatePayment(named("A".repeat(141)), "FEDWIRE")).toMatchObject([{ field: "creditor.name", rule: "too-long" }]);
    const swiftNamed = { ...swift, debtor: { ...swift.debtor, name: "A".repeat(36) } };
    expect(validatePayment(swiftNamed, "SWIFT")).toMatchObject([{ field: "debtor.name", rule: "too-long" }]);
    const sepaNamed = { ...sepa, creditor: { ...sepa.creditor, name: "A".repeat(71) } };
    expect(validatePayment(sepaNamed, "SEPA")).toMatchObject([{ field: "creditor.name", rule: "too-long" }]);
  });

  it("holds references to the rail's length and slash rules", () => {
    expect(validatePayment({ ...swift, reference: "A".repeat(17) }, "SWIFT")).toMatchObject([{ field: "reference", rule: "too-long" }]);
    expect(validatePayment({ ...ach, reference: "A".repeat(16) }, "ACH")).toMatchObject([{ field: "reference", rule: "too-long" }]);
    expect(validatePayment({ ...sepa, reference: "A".repeat(36) }, "SEPA")).toMatchObject([{ field: "reference", rule: "too-long" }]);
    for (const reference of ["/REF", "REF/", "RE//F"]) {
      expect(validatePayment({ ...swift, reference }, "SWIFT"), reference).toMatchObject([{ field: "reference", rule: "reference-slash" }]);
    }
    expect(validatePayment({ ...ach, reference: "/REF" }, "ACH")).toEqual([]);
  });

  it("requires IBANs inside the SEPA zone on SEPA and ABA accounts on ACH and Fedwire", () => {
    const outside = { ...sepa, creditor: { ...sepa.creditor, account: { scheme: "IBAN" as const, iban: "TR330006100519786457841326" } } };
    expect(validatePayment(outside, "SEPA")).toEqual([
      { field: "creditor.account.iban", rule: "sepa-zone", message: "creditor.account.iban is from TR, outside the SEPA zone" },
    ]);
    expect(validatePayment({ ...ach, debtor: sepa.debtor }, "ACH")).toEqual([
      { field: "debtor.account", rule: "account-scheme", message: "ACH needs an account number with an ABA routing number, not an IBAN" },
    ]);
    expect(validatePayment({ ...sepa, creditor: ach.creditor }, "SEPA")).toMatchObject([
      { field: "creditor.account", rule: "account-scheme" },
    ]);
  });

  it("reports bad IBANs, ABA numbers, account numbers and BICs with their field", () => {
    const badIban = { ...sepa, debtor: { ...sepa.debtor, account: { scheme: "IBAN" as const, iban: "DE88370400440532013000" } } };
    expect(validatePayment(badIban, "SEPA")).toMatchObject([{ field: "debtor.account.iban", rule: "iban-checksum" }]);
    const badAba = {
      ...ach,
      creditor: { ...ach.creditor, account: { scheme: "ABA" as const, accountNumber: "1".repeat(18), abaRouting: "123456789" } },
    };
    expect(validatePayment(badAba, "ACH")).toMatchObject([
      { field: "creditor.account.accountNumber", rule: "too-long" },
      { field: "creditor.account.abaRouting", rule: "aba-checksum" },
    ]);
    expect(validatePayment({ ...sepa, debtor: { ...sepa.debtor, agentBic: "ABCDEFGH" } }, "SEPA")).toMatchObject([
      { field: "debtor.agentBic", rule: "bic-country" },
    ]);
  });

  it("requires both agent BICs on SWIFT only", () => {
    const { agentBic: _, ...creditor } = swift.creditor;
    expect(validatePayment({ ...swift, creditor }, "SWIFT")).toEqual([
      { field: "creditor.agentBic", rule: "required", message: "SWIFT needs creditor.agentBic" },
    ]);
    expect(validatePayment(sepa, "SEPA")).toEqual([]);
  });

  it("never throws on malformed input", () => {
    const garbage = {
      debtor: null,
      creditor: { name: 5, account: { scheme: "X" } },
      amount: 1,
      currency: null,
    } as unknown as PaymentInstruction;
    expect(validatePayment(garbage, "SWIFT").map((v) => v.field)).toEqual([
      "debtor",
      "creditor.name",
      "creditor.account.scheme",
      "creditor.agentBic",
      "currency",
      "reference",
      "urgent",
    ]);
    expect(validatePayment(null as unknown as PaymentInstruction, "SEPA")).toMatchObject([{ rule: "required" }]);
    expect(validatePayment(sepa, "CHAPS" as never)).toMatchObject([{ field: "rail", rule: "rail" }]);
  });
});
