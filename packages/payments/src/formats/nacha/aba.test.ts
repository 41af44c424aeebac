import { describe, expect, it } from "vitest";
import { abaCheckDigit, isValidRoutingNumber } from "./aba.js";

describe("ABA routing numbers", () => {
  it("accepts routing numbers whose 3-7-1 weighted sum is a multiple of 10", () => {
    for (const rtn of ["121042882", "231380104", "011104238", "021040078"]) expect(isValidRoutingNumber(rtn)).toBe(true);
  });

  it("computes the check digit from the first 8 digits", () => {
    // 2·3 + 3·7 + 1·1 + 3·3 + 8·7 + 0·1 + 1·3 + 0·7 = 6+21+1+9+56+0+3+0 = 96; (10 − 6) mod 10 = 4
    expect(abaCheckDigit("23138010")).toBe("4");
    // 1·3 + 2·7 + 1·1 + 0·3 + 4·7 + 2·1 + 8·3 + 8·7 = 3+14+1+0+28+2+24+56 = 128; (10 − 8) mod 10 = 2
    expect(abaCheckDigit("12104288")).toBe("2");
  });

  it("rejects a wrong check digit and text that is not 9 digits", () => {
    expect(isValidRoutingNumber("123456789")).toBe(false);
    expect(isValidRoutingNumber("231380105")).toBe(false);
    expect(isValidRoutingNumber("23138010")).toBe(false);
    expect(isValidRoutingNumber("23138010a")).toBe(false);
    expect(() => abaCheckDigit("1234567")).toThrow(RangeError);
  });
});
