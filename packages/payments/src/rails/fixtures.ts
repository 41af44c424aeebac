// Test support: one valid PaymentRecord per rail and format (published IBAN, BIC and ABA vectors).
import type { PartyRecord, PaymentRecord } from "../domain/payment.js";

const noParty: PartyRecord = { name: "", iban: "", accountNumber: "", routingNumber: "", bic: "", country: "" };

export const ourBic = "QNXBDEFFXXX";
export const now = new Date("2026-03-02T10:15:30.000Z");

export function payment(overrides: Partial<PaymentRecord> & Pick<PaymentRecord, "paymentId">): PaymentRecord {
  return {
    rail: "SEPA",
    railReason: "EUR to an IBAN",
    state: "FUNDS_RESERVED",
    stateReason: "",
    debtorAccount: "cust-1",
    amountMinor: 125_050n,
    currency: "EUR",
    reference: "Invoice 2026-001",
    debtor: { ...noParty, name: "Erika Mustermann", iban: "DE89370400440532013000", bic: "DEUTDEFFXXX", country: "DE" },
    creditor: { ...noParty, name: "Jan de Vries", iban: "NL91ABNA0417164300", bic: "ABNANL2A", country: "NL" },
    urgent: false,
    charges: "SHA",
    messageFormat: "ISO20022",
    uetr: "8a562c67-ca16-48ba-b074-65581be6f011",
    createdAt: now,
    ...overrides,
  };
}

export const sepaPayment = payment({ paymentId: "pay_sepa-1" });

export const swiftPayment = payment({
  paymentId: "pay_swift_with_a_rather_long_id_40chars",
  rail: "SWIFT",
  currency: "GBP",
  amountMinor: 9_999n,
  reference: "INV 77",
  creditor: { ...noParty, name: "OBrien Trading Ltd", iban: "GB82WEST12345698765432", bic: "NWBKGB2L", country: "GB" },
  charges: "OUR",
  uetr: "3f2b7a4e-9c1d-4e5f-a6b7-c8d9e0f1a2b3",
});

export const mt103Payment = payment({ ...swiftPayment, paymentId: "pay_mt103-1", messageFormat: "MT103", urgent: true });

const usDebtor: PartyRecord = { ...noParty, name: "Corporation A", accountNumber: "5647772655", routingNumber: "121042882", country: "US" };
const usCreditor: PartyRecord = { ...noParty, name: "Jane Roe", accountNumber: "567876543", routingNumber: "231380104", country: "US" };

export const fedwirePayment = payment({
  paymentId: "pay_fed-1",
  rail: "FEDWIRE",
  currency: "USD",
  amountMinor: 51_000_074n,
  reference: "PO 88-1",
  debtor: usDebtor,
  creditor: usCreditor,
});

export const fedwireTagsPayment = payment({ ...fedwirePayment, paymentId: "pay_fedtags-1", messageFormat: "FEDWIRE_TAGS" });

export function achPayment(paymentId: string, overrides: Partial<PaymentRecord> = {}): PaymentRecord {
  return payment({
    paymentId,
    rail: "ACH",
    currency: "USD",
    amountMinor: 150_000n,
    reference: "EMP001",
    debtor: usDebtor,
    creditor: usCreditor,
    messageFormat: "NACHA",
    ...overrides,
  });
}
