import { countrySpecs, isSEPACountry } from "ibantools";
import { describe, expect, it } from "vitest";
import { sepaCountries } from "./sepa-countries.js";

describe("sepaCountries", () => {
  it("is exactly the set ibantools flags as SEPA, so an upgrade that changes it shows up here", () => {
    const ibantoolsSepa = Object.keys(countrySpecs).filter((country) => isSEPACountry(country));
    expect([...sepaCountries].sort()).toEqual(ibantoolsSepa.sort());
    expect(sepaCountries.size).toBe(37);
  });
});
