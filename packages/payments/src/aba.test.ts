import { describe, expect, it } from "vitest";
import { abaCheckDigit, isValidAbaRoutingNumber } from "./aba.js";

describe("ABA routing numbers", () => {
  it("accepts routing numbers whose 3-7-1 weighted sum is a multiple of 10", () => {
    for (const rtn of ["011000015", "021000021", "121042882", "231380104", "011104238", "021040078"]) {
      expect(isValidAbaRoutingNumber(rtn), rtn).toBe(true);
    }
  });

  it("computes the check digit from the first 8 digits", () => {
    // 2·3 + 3·7 + 1·1 + 3·3 + 8·7 + 0·1 + 1·3 + 0·7 = 6+21+1+9+56+0+3+0 = 96; (10 − 6) mod 10 = 4
    expect(abaCheckDigit("23138010")).toBe("4");
    // 1·3 + 2·7 + 1·1 + 0·3 + 4·7 + 2·1 + 8·3 + 8·7 = 3+14+1+0+28+2+24+56 = 128; (10 − 8) mod 10 = 2
    expect(abaCheckDigit("12104288")).toBe("2");
    expect(abaCheckDigit("01100001")).toBe("5");
    expect(abaCheckDigit("02100002")).toBe("1");
  });

  it("computes the ninth digit of published routing numbers", () => {
    for (const rtn of ["121042882", "231380104", "011104238", "021040078"]) {
      expect(abaCheckDigit(rtn.slice(0, 8)), rtn).toBe(rtn[8]);
    }
  });

  it("rejects a wrong check digit and text that is not 9 digits", () => {
    expect(isValidAbaRoutingNumber("123456789")).toBe(false);
    expect(isValidAbaRoutingNumber("231380105")).toBe(false);
    expect(isValidAbaRoutingNumber("23138010")).toBe(false);
    expect(isValidAbaRoutingNumber("12104288")).toBe(false);
    expect(isValidAbaRoutingNumber("23138010a")).toBe(false);
    expect(() => abaCheckDigit("1234567")).toThrow(RangeError);
  });
});
