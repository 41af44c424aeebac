import { describe, expect, it } from "vitest";
import { validateAmount, validateCurrency } from "./amount.js";
import { type AmountLimits, defaultAmountLimits } from "./rails.js";

const limits = defaultAmountLimits;

describe("validateCurrency", () => {
  it("allows EUR only on SEPA and USD only on ACH and Fedwire", () => {
    expect(validateCurrency("EUR", "SEPA", "currency")).toEqual([]);
    expect(validateCurrency("USD", "SEPA", "currency")).toEqual([
      { field: "currency", rule: "currency", message: "SEPA settles in EUR only, not USD" },
    ]);
    expect(validateCurrency("USD", "ACH", "currency")).toEqual([]);
    expect(validateCurrency("EUR", "ACH", "currency")).toMatchObject([{ rule: "currency" }]);
    expect(validateCurrency("USD", "FEDWIRE", "currency")).toEqual([]);
    expect(validateCurrency("CAD", "FEDWIRE", "currency")).toMatchObject([{ rule: "currency" }]);
  });

  it("allows any ISO 4217 currency with minor units on SWIFT", () => {
    for (const currency of ["EUR", "USD", "GBP", "JPY", "BHD", "CHF"]) expect(validateCurrency(currency, "SWIFT", "currency")).toEqual([]);
    for (const currency of ["ABC", "usd", "XAU", "EURO", ""]) {
      expect(validateCurrency(currency, "SWIFT", "currency"), currency).toMatchObject([{ field: "currency" }]);
    }
  });
});

describe("validateAmount", () => {
  it("holds SEPA to 999,999,999.99 EUR", () => {
    expect(validateAmount("999999999.99", "EUR", "SEPA", false, limits, "amount")).toEqual([]);
    expect(validateAmount("1000000000.00", "EUR", "SEPA", false, limits, "amount")).toEqual([
      { field: "amount", rule: "amount-limit", message: "amount 1000000000.00 EUR exceeds the SEPA limit of 999999999.99 EUR" },
    ]);
  });

  it("holds same-day (urgent) ACH entries to 1,000,000.00 USD and other entries to the 10-digit field", () => {
    expect(validateAmount("1000000.00", "USD", "ACH", true, limits, "amount")).toEqual([]);
    expect(validateAmount("1000000.01", "USD", "ACH", true, limits, "amount")).toMatchObject([
      { rule: "amount-limit", message: expect.stringContaining("ACH same-day per-entry limit of 1000000.00 USD") },
    ]);
    expect(validateAmount("1000000.01", "USD", "ACH", false, limits, "amount")).toEqual([]);
    expect(validateAmount("99999999.99", "USD", "ACH", false, limits, "amount")).toEqual([]);
    expect(validateAmount("100000000.00", "USD", "ACH", false, limits, "amount")).toMatchObject([{ rule: "amount-limit" }]);
  });

  it("sets no Fedwire ceiling by default, and honours a configured one", () => {
    expect(validateAmount("9999999999999.99", "USD", "FEDWIRE", false, limits, "amount")).toEqual([]);
    const capped: AmountLimits = { ...limits, fedwireAmountMinorMax: 999_999_999_999n };
    expect(validateAmount("10000000000.00", "USD", "FEDWIRE", false, capped, "amount")).toMatchObject([
      { rule: "amount-limit", message: expect.stringContaining("Fedwire limit of 9999999999.99 USD") },
    ]);
  });

  it("keeps SWIFT amounts within MT 15d: 15 characters with the decimal separator", () => {
    expect(validateAmount("999999999999.99", "USD", "SWIFT", false, limits, "amount")).toEqual([]);
    expect(validateAmount("1000000000000.00", "USD", "SWIFT", false, limits, "amount")).toMatchObject([{ rule: "amount-limit" }]);
  });

  it("rejects zero, negative, malformed and over-precise amounts", () => {
    expect(validateAmount("0.00", "EUR", "SEPA", false, limits, "amount")).toMatchObject([{ rule: "amount-positive" }]);
    expect(validateAmount("-5.00", "EUR", "SEPA", false, limits, "amount")).toMatchObject([{ rule: "amount-positive" }]);
    expect(validateAmount("1,00", "EUR", "SEPA", false, limits, "amount")).toMatchObject([{ rule: "amount-format" }]);
    expect(validateAmount("1.001", "USD", "ACH", false, limits, "amount")).toMatchObject([
      { rule: "amount-format", message: expect.stringContaining("USD allows 2") },
    ]);
    expect(validateAmount(100, "USD", "ACH", false, limits, "amount")).toMatchObject([{ rule: "required" }]);
    expect(validateAmount("1".repeat(40), "USD", "FEDWIRE", false, limits, "amount")).toMatchObject([{ rule: "too-long" }]);
  });
});
