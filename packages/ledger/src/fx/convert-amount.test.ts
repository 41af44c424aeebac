import { amountMinorMax } from "@qenex/platform";
import { describe, expect, it } from "vitest";
import { convertMinor, divideHalfEven, formatRateUnits, parseRateUnits } from "./convert-amount.js";

/** Rate units of a decimal rate written in the test. */
function rateUnits(rate: string): bigint {
  const parsed = parseRateUnits(rate);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.rateUnits;
}

describe("convertMinor", () => {
  it("converts USD (2 digits) into JPY (0 digits)", () => {
    expect(convertMinor(1000n, 2, 0, rateUnits("149.5"))).toBe(1495n); // 10.00 USD → 1495 JPY
    expect(convertMinor(1n, 2, 0, rateUnits("149.5"))).toBe(1n); // 1.495 JPY → 1
    expect(convertMinor(123_456n, 2, 0, rateUnits("149.87"))).toBe(185_024n); // 185023.5072 → 185024
  });

  it("converts EUR (2 digits) into BHD (3 digits)", () => {
    expect(convertMinor(2500n, 2, 3, rateUnits("0.4101"))).toBe(10_252n); // 10.2525 → 10.252 (tie, even)
    expect(convertMinor(2502n, 2, 3, rateUnits("0.4101"))).toBe(10_261n); // 10.260702 → 10.261
    expect(convertMinor(100n, 2, 3, rateUnits("0.41"))).toBe(410n); // exact: 0.410
  });

  it("converts JPY (0 digits) into EUR (2 digits)", () => {
    expect(convertMinor(1000n, 0, 2, rateUnits("0.00613"))).toBe(613n); // 6.13 EUR
    expect(convertMinor(1n, 0, 2, rateUnits("0.00613"))).toBe(1n); // 0.613 cent → 1
    expect(convertMinor(150n, 0, 2, rateUnits("0.0061"))).toBe(92n); // 91.5 cents → 92 (tie, even)
  });

  it("rounds an exact tie to the even neighbour, up and down", () => {
    expect(convertMinor(1n, 2, 0, rateUnits("150"))).toBe(2n); // 1.5 → 2 (up to even)
    expect(convertMinor(1n, 2, 0, rateUnits("250"))).toBe(2n); // 2.5 → 2 (down to even)
    expect(convertMinor(3500n, 2, 3, rateUnits("0.4101"))).toBe(14_354n); // 14.3535 → 14.354 (up)
    expect(convertMinor(2500n, 2, 3, rateUnits("0.4101"))).toBe(10_252n); // 10.2525 → 10.252 (down)
  });

  it("rounds just off a tie to the nearer neighbour", () => {
    expect(convertMinor(1n, 2, 0, rateUnits("250.000000000001"))).toBe(3n);
    expect(convertMinor(1n, 2, 0, rateUnits("149.999999999999"))).toBe(1n);
  });

  it("rounds tiny amounts to zero", () => {
    expect(convertMinor(1n, 0, 2, rateUnits("0.004"))).toBe(0n); // 0.4 cent
    expect(convertMinor(1n, 0, 2, rateUnits("0.005"))).toBe(0n); // 0.5 cent: tie, 0 is even
    expect(convertMinor(1n, 3, 0, rateUnits("0.39"))).toBe(0n); // 0.001 BHD → 0.00039 JPY
  });

  it("stays exact at the largest amount the ledger holds", () => {
    expect(convertMinor(amountMinorMax, 2, 2, rateUnits("1"))).toBe(amountMinorMax);
    expect(convertMinor(amountMinorMax, 2, 0, rateUnits("1"))).toBe(92_233_720_368_547_758n); // …758.07 → …758
    // Intermediate products far beyond 64 bits stay exact: bigint, never a JS number.
    expect(convertMinor(amountMinorMax, 2, 3, rateUnits("9223372.036854775807"))).toBe(
      850_705_917_302_346_158_473_969_078n, // …077.842… → …078
    );
  });

  it("refuses a rate of zero", () => {
    expect(() => convertMinor(1n, 2, 2, 0n)).toThrow(RangeError);
  });
});

describe("divideHalfEven", () => {
  it("rounds negative values symmetrically", () => {
    expect(divideHalfEven(-5n, 2n)).toBe(-2n);
    expect(divideHalfEven(-3n, 2n)).toBe(-2n);
    expect(divideHalfEven(-7n, 4n)).toBe(-2n);
    expect(divideHalfEven(-5n, 4n)).toBe(-1n);
  });
});

describe("rates", () => {
  it("reads decimal rates exactly and writes them back in shortest form", () => {
    expect(formatRateUnits(rateUnits("149.50"))).toBe("149.5");
    expect(formatRateUnits(rateUnits("0.4101"))).toBe("0.4101");
    expect(formatRateUnits(rateUnits("2.000"))).toBe("2");
    expect(formatRateUnits(rateUnits("0.000000000001"))).toBe("0.000000000001");
    expect(rateUnits("1")).toBe(1_000_000_000_000n);
  });

  it("rejects zero, excess digits and rates beyond the column", () => {
    expect(parseRateUnits("0")).toMatchObject({ ok: false, reason: "must be greater than zero" });
    expect(parseRateUnits("0.0000000000001").ok).toBe(false);
    expect(parseRateUnits("9223372.036854775808").ok).toBe(false);
    expect(parseRateUnits("1e3").ok).toBe(false);
  });
});
