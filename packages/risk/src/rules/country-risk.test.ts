import { describe, expect, it } from "vitest";
import { countryRisk, fatfCallForAction, fatfIncreasedMonitoring } from "./country-risk.js";

describe("countryRisk", () => {
  it("maps the FATF black list to prohibited", () => {
    expect(countryRisk("IR")).toBe("prohibited");
    expect(countryRisk("KP")).toBe("prohibited");
  });

  it("maps the FATF grey list to high", () => {
    expect(countryRisk("VG")).toBe("high");
    expect(countryRisk("BG")).toBe("high");
  });

  it("rates a listed-on-neither country low", () => {
    expect(countryRisk("FR")).toBe("low");
    expect(countryRisk("ZZ")).toBe("low");
  });

  it("rejects a code that is not upper-case alpha-2", () => {
    expect(() => countryRisk("ir")).toThrow(RangeError);
    expect(() => countryRisk("IRN")).toThrow(RangeError);
  });

  it("lists no country on both lists", () => {
    for (const code of fatfCallForAction.keys()) expect(fatfIncreasedMonitoring.has(code)).toBe(false);
  });
});
