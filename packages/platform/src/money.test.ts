import { describe, expect, it } from "vitest";
import { currencyDigits, formatMoney, parseMoney } from "./money.js";

describe("parseMoney", () => {
  it("reads amounts exactly in minor units", () => {
    expect(parseMoney("100.00", "USD")).toEqual({ ok: true, amountMinor: 10000n });
    expect(parseMoney("100", "USD")).toEqual({ ok: true, amountMinor: 10000n });
    expect(parseMoney("0.1", "USD")).toEqual({ ok: true, amountMinor: 10n });
    expect(parseMoney("5", "JPY")).toEqual({ ok: true, amountMinor: 5n });
    expect(parseMoney("1.250", "BHD")).toEqual({ ok: true, amountMinor: 1250n });
    expect(parseMoney("-12.5", "EUR")).toEqual({ ok: true, amountMinor: -1250n });
    expect(parseMoney("92233720368547758.07", "USD")).toEqual({
      ok: true,
      amountMinor: 9_223_372_036_854_775_807n,
    });
  });

  it("rejects more digits than the currency allows instead of rounding", () => {
    expect(parseMoney("1.234", "USD")).toMatchObject({ ok: false, reason: expect.stringContaining("USD allows 2") });
    expect(parseMoney("1.5", "JPY")).toMatchObject({ ok: false });
    expect(parseMoney("1.2345", "BHD")).toMatchObject({ ok: false });
  });

  it("rejects text that is not a decimal and currencies that are not ISO 4217", () => {
    expect(parseMoney("abc", "USD")).toMatchObject({ ok: false });
    expect(parseMoney("1e3", "USD")).toMatchObject({ ok: false });
    expect(parseMoney("1.", "USD")).toMatchObject({ ok: false });
    expect(parseMoney("1", "ABC")).toMatchObject({ ok: false, reason: 'unknown currency "ABC"' });
    expect(parseMoney("1", "XAU")).toMatchObject({ ok: false });
  });

  it("rejects amounts beyond a 64-bit balance", () => {
    expect(parseMoney("92233720368547758.08", "USD")).toMatchObject({ ok: false });
  });
});

describe("formatMoney", () => {
  it("writes the currency's digits", () => {
    expect(formatMoney(1050n, "USD")).toBe("10.50");
    expect(formatMoney(5n, "USD")).toBe("0.05");
    expect(formatMoney(-5n, "USD")).toBe("-0.05");
    expect(formatMoney(7n, "JPY")).toBe("7");
    expect(formatMoney(1250n, "BHD")).toBe("1.250");
  });

  it("round-trips with parseMoney", () => {
    for (const [text, currency] of [
      ["0.00", "USD"],
      ["123456.789", "KWD"],
      ["42", "KRW"],
    ] as const) {
      const parsed = parseMoney(text, currency);
      expect(parsed.ok && formatMoney(parsed.amountMinor, currency)).toBe(text);
    }
  });

  it("knows ISO 4217 minor units", () => {
    expect([currencyDigits("USD"), currencyDigits("JPY"), currencyDigits("BHD")]).toEqual([2, 0, 3]);
    expect(currencyDigits("ZZZ")).toBeUndefined();
  });
});
