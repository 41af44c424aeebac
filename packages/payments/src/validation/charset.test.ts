import { describe, expect, it } from "vitest";
import { epcLatin, invalidCharacters, printableAscii, swiftX, validateCharset, validateText } from "./charset.js";

describe("character sets", () => {
  it("SWIFT X and EPC Latin take letters, digits and / - ? : ( ) . , ' + space", () => {
    const allowed = "Aa Zz 09 /-?:().,'+";
    expect(invalidCharacters(allowed, swiftX)).toEqual([]);
    expect(invalidCharacters(allowed, epcLatin)).toEqual([]);
    expect(invalidCharacters("Müller & Söhne_Ltd", swiftX)).toEqual(["ü", "&", "ö", "_"]);
  });

  it("names the offending character and its code point", () => {
    expect(validateCharset("Jürgen", swiftX, "debtor.name")).toEqual([
      { field: "debtor.name", rule: "charset", message: 'debtor.name contains "ü" (U+00FC), outside the SWIFT X character set' },
    ]);
    expect(validateCharset("A\tB", printableAscii, "reference")).toMatchObject([{ message: expect.stringContaining("(U+0009)") }]);
  });

  it("lists at most five offenders and counts the rest", () => {
    const [found] = validateCharset("!@#$%^&*", epcLatin, "reference");
    expect(found?.message).toContain("and 3 more");
  });

  it("checks length in characters, not UTF-16 units, and reports charset and length together", () => {
    expect(validateText("😀".repeat(3), "name", 3, printableAscii)).toMatchObject([{ rule: "charset" }]);
    expect(validateText("ÄBCD", "name", 3, swiftX)).toMatchObject([
      { rule: "too-long", message: "name has 4 characters; at most 3 allowed" },
      { rule: "charset" },
    ]);
    expect(validateText("", "name", 3, swiftX)).toMatchObject([{ rule: "required" }]);
  });
});
