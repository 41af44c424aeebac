import { describe, expect, it } from "vitest";
import type { PaymentInstruction } from "../validation/instruction.js";
import { chooseRail, defaultRoutingConfig, type RoutingConfig } from "./choose-rail.js";

const eurSepa: PaymentInstruction = {
  debtor: { name: "Anna Schmidt", account: { scheme: "IBAN", iban: "DE89370400440532013000" }, agentBic: "COBADEFFXXX" },
  creditor: { name: "Jean Martin", account: { scheme: "IBAN", iban: "FR1420041010050500013M02606" }, agentBic: "BNPAFRPPXXX" },
  amount: "1250.00",
  currency: "EUR",
  reference: "INV-42",
  urgent: false,
  requestedRail: "AUTO",
};

const usdDomestic: PaymentInstruction = {
  debtor: { name: "Acme Payroll", account: { scheme: "ABA", accountNumber: "5647772655", abaRouting: "011000015" }, agentBic: "CHASUS33" },
  creditor: { name: "John Doe", account: { scheme: "ABA", accountNumber: "567876543", abaRouting: "021000021" }, agentBic: "CITIUS33" },
  amount: "2500.00",
  currency: "USD",
  reference: "PAYROLL42",
  urgent: false,
  requestedRail: "AUTO",
};

describe("chooseRail with a named rail", () => {
  it("keeps the named rail and validates against it", () => {
    expect(chooseRail({ ...eurSepa, requestedRail: "SWIFT" })).toEqual({ rail: "SWIFT", reason: "requested rail SWIFT", violations: [] });
    expect(chooseRail({ ...usdDomestic, requestedRail: "FEDWIRE" })).toMatchObject({ rail: "FEDWIRE", violations: [] });
  });

  it("keeps the named rail even when the instruction does not fit it, and reports why", () => {
    expect(chooseRail({ ...usdDomestic, requestedRail: "SEPA" })).toMatchObject({
      rail: "SEPA",
      violations: [
        { field: "debtor.account", rule: "account-scheme" },
        { field: "creditor.account", rule: "account-scheme" },
        { field: "currency", rule: "currency" },
      ],
    });
  });

  it("refuses a requested rail that is not a rail", () => {
    expect(chooseRail({ ...eurSepa, requestedRail: "CHAPS" as never })).toMatchObject({
      rail: null,
      violations: [{ field: "requestedRail", rule: "rail" }],
    });
  });
});

describe("chooseRail with AUTO", () => {
  it("sends EUR between SEPA-zone IBANs to SEPA", () => {
    expect(chooseRail(eurSepa)).toEqual({ rail: "SEPA", reason: "AUTO: EUR between SEPA-zone IBANs (DE to FR)", violations: [] });
    const toSwitzerland = {
      ...eurSepa,
      creditor: { ...eurSepa.creditor, account: { scheme: "IBAN" as const, iban: "CH9300762011623852957" } },
    };
    expect(chooseRail(toSwitzerland)).toMatchObject({ rail: "SEPA", violations: [] });
  });

  it("sends EUR to an IBAN outside the SEPA zone to SWIFT", () => {
    const toTurkey = {
      ...eurSepa,
      creditor: { ...eurSepa.creditor, account: { scheme: "IBAN" as const, iban: "TR330006100519786457841326" } },
    };
    expect(chooseRail(toTurkey)).toMatchObject({ rail: "SWIFT", reason: expect.stringContaining("SWIFT"), violations: [] });
  });

  it("follows a configured SEPA zone", () => {
    const config: RoutingConfig = { ...defaultRoutingConfig, sepaCountries: new Set(["DE"]) };
    expect(chooseRail(eurSepa, config)).toMatchObject({ rail: "SWIFT" });
  });

  it("sends non-EUR between SEPA-zone IBANs to SWIFT", () => {
    expect(chooseRail({ ...eurSepa, currency: "GBP" })).toMatchObject({ rail: "SWIFT", violations: [] });
  });

  it("sends USD between ABA-routed accounts to ACH", () => {
    expect(chooseRail(usdDomestic)).toEqual({
      rail: "ACH",
      reason: "AUTO: USD between ABA-routed accounts, not urgent, at most 1000000.00 USD",
      violations: [],
    });
  });

  it("sends urgent USD between ABA-routed accounts to Fedwire whatever the amount", () => {
    expect(chooseRail({ ...usdDomestic, urgent: true, amount: "10.00" })).toEqual({
      rail: "FEDWIRE",
      reason: "AUTO: urgent USD between ABA-routed accounts",
      violations: [],
    });
  });

  it("keeps exactly the threshold on ACH and sends one cent more to Fedwire", () => {
    expect(chooseRail({ ...usdDomestic, amount: "1000000.00" })).toMatchObject({ rail: "ACH", violations: [] });
    expect(chooseRail({ ...usdDomestic, amount: "1000000.01" })).toMatchObject({
      rail: "FEDWIRE",
      reason: "AUTO: USD between ABA-routed accounts above the Fedwire threshold of 1000000.00 USD",
      violations: [],
    });
  });

  it("follows a configured Fedwire threshold", () => {
    const config: RoutingConfig = { ...defaultRoutingConfig, fedwireThresholdAmountMinor: 100_000n };
    expect(chooseRail({ ...usdDomestic, amount: "1000.00" }, config)).toMatchObject({ rail: "ACH" });
    expect(chooseRail({ ...usdDomestic, amount: "1000.01" }, config)).toMatchObject({ rail: "FEDWIRE" });
  });

  it("sends USD with an IBAN on one side to SWIFT", () => {
    const fromGermany = { ...usdDomestic, debtor: eurSepa.debtor };
    expect(chooseRail(fromGermany)).toMatchObject({ rail: "SWIFT", violations: [] });
  });

  it("validates the chosen rail: SWIFT without agent BICs is chosen but not valid", () => {
    const { agentBic: _, ...creditor } = eurSepa.creditor;
    const toTurkey = { ...eurSepa, creditor: { ...creditor, account: { scheme: "IBAN" as const, iban: "TR330006100519786457841326" } } };
    expect(chooseRail(toTurkey)).toMatchObject({ rail: "SWIFT", violations: [{ field: "creditor.agentBic", rule: "required" }] });
  });

  it("chooses no rail when the USD amount it needs is unreadable", () => {
    expect(chooseRail({ ...usdDomestic, amount: "1,000.00" })).toMatchObject({
      rail: null,
      violations: [{ field: "amount", rule: "amount-format" }],
    });
  });
});
