import { describe, expect, it } from "vitest";
import { validateBic } from "./bic.js";

describe("validateBic", () => {
  it("accepts 8- and 11-character BICs", () => {
    expect(validateBic("DEUTDEFF", "bic")).toEqual([]);
    expect(validateBic("DEUTDEFF500", "bic")).toEqual([]);
    expect(validateBic("BNPAFRPPXXX", "bic")).toEqual([]);
  });

  it("accepts a digit in the institution code, as ISO 9362:2014 allows", () => {
    expect(validateBic("1BNKDEFF", "bic")).toEqual([]);
  });

  it("rejects a country code that is not a country", () => {
    // The reference's fake sample BIC: "EF" is not ISO 3166.
    expect(validateBic("ABCDEFGH", "debtor.agentBic")).toEqual([
      {
        field: "debtor.agentBic",
        rule: "bic-country",
        message: 'debtor.agentBic has country code "EF", which is not an ISO 3166 country',
      },
    ]);
  });

  it("rejects wrong lengths, lower case, spaces and digits in the country code", () => {
    for (const bic of ["DEUTDEF", "DEUTDEFF5", "DEUTDEFF50", "DEUTDEFF5000", "deutdeff", "DEUT DEFF", "DEUT1EFF"]) {
      expect(validateBic(bic, "bic"), bic).toMatchObject([{ field: "bic", rule: "bic-format" }]);
    }
  });

  it("reports a missing BIC", () => {
    expect(validateBic(undefined, "bic")).toMatchObject([{ rule: "required" }]);
  });
});
