import { describe, expect, it } from "vitest";
import { normalizeIban, validateIban } from "./iban.js";

describe("validateIban", () => {
  it("accepts valid DE, GB and FR IBANs", () => {
    expect(validateIban("DE89370400440532013000", "iban")).toEqual([]);
    expect(validateIban("GB82WEST12345698765432", "iban")).toEqual([]);
    expect(validateIban("FR1420041010050500013M02606", "iban")).toEqual([]);
  });

  it("accepts the print format with spaces and lower case", () => {
    expect(validateIban("de89 3704 0044 0532 0130 00", "iban")).toEqual([]);
    expect(normalizeIban("de89 3704 0044 0532 0130 00")).toBe("DE89370400440532013000");
  });

  it("rejects a bad mod-97 checksum", () => {
    expect(validateIban("DE88370400440532013000", "creditor.account.iban")).toEqual([
      { field: "creditor.account.iban", rule: "iban-checksum", message: "creditor.account.iban fails the IBAN mod-97 check" },
    ]);
    // The reference file's pain.001 sample IBAN, known to fail mod-97.
    expect(validateIban("LT007180000000000000", "iban")).toMatchObject([{ rule: "iban-checksum" }]);
  });

  it("rejects a length wrong for the country", () => {
    expect(validateIban("DE8937040044053201300", "iban")).toMatchObject([{ field: "iban", rule: "iban-length" }]);
    expect(validateIban("GB82WEST123456987654321", "iban")).toMatchObject([{ rule: "iban-length" }]);
  });

  it("rejects a BBAN that breaks the country format", () => {
    // DE BBANs are all digits; same length, letter in the account part.
    expect(validateIban("DE89370400440532013A00", "iban")).toMatchObject([{ rule: "iban-format" }]);
  });

  it("rejects unknown countries, missing values and oversized input without throwing", () => {
    expect(validateIban("ZZ89370400440532013000", "iban")).toMatchObject([{ rule: "iban-country" }]);
    expect(validateIban("", "iban")).toMatchObject([{ rule: "required" }]);
    expect(validateIban(undefined, "iban")).toMatchObject([{ rule: "required" }]);
    expect(validateIban(42, "iban")).toMatchObject([{ rule: "required" }]);
    expect(validateIban(`DE${"1".repeat(40)}`, "iban")).toMatchObject([{ rule: "iban-length" }]);
    expect(validateIban("x".repeat(5000), "iban")).toMatchObject([{ rule: "too-long" }]);
  });
});
