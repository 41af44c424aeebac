import { describe, expect, it } from "vitest";
import { validateAbaRouting } from "./aba.js";

describe("validateAbaRouting", () => {
  it("accepts routing numbers whose 3-7-1 weighted sum is a multiple of 10", () => {
    for (const aba of ["011000015", "021000021", "121042882", "231380104", "011104238", "021040078"]) {
      expect(validateAbaRouting(aba, "aba"), aba).toEqual([]);
    }
  });

  it("rejects a bad checksum", () => {
    expect(validateAbaRouting("123456789", "creditor.account.abaRouting")).toEqual([
      {
        field: "creditor.account.abaRouting",
        rule: "aba-checksum",
        message: "creditor.account.abaRouting fails the ABA 3-7-1 checksum",
      },
    ]);
    expect(validateAbaRouting("011000016", "aba")).toMatchObject([{ rule: "aba-checksum" }]);
  });

  it("rejects anything but exactly 9 digits", () => {
    for (const aba of ["01100001", "0110000150", "01100001A", " 11000015"]) {
      expect(validateAbaRouting(aba, "aba"), aba).toMatchObject([{ rule: "aba-format" }]);
    }
    expect(validateAbaRouting(undefined, "aba")).toMatchObject([{ rule: "required" }]);
  });
});
