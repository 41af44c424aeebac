import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { decodeSwiftAmount, encodeSwiftAmount, Mt103Error, type Mt103Message, parseMt103, renderMt103, wrapSwiftLines } from "./index.js";

const testdata = (name: string) => readFileSync(new URL(`../../../testdata/mt103/${name}`, import.meta.url), "utf8");

function sample(): Mt103Message {
  return {
    basicHeader: { senderLtAddress: "BANKDEFFAXXX", sessionNumber: "0001", sequenceNumber: "000123" },
    applicationHeader: { receiverLtAddress: "BANKUS33XXXX", priority: "N" },
    userHeader: { uetr: "eb6305c9-1f7f-49de-aed0-16487c27b42d" },
    text: {
      sendersReference: "REF-0001",
      bankOperationCode: "CRED",
      valueDate: "2026-11-27",
      interbankSettlement: { currency: "USD", amount: "1000.00" },
      orderingCustomer: { option: "K", account: "12345678", nameAndAddress: ["JOHN DOE", "1 MAIN STREET"] },
      beneficiary: { option: "none", account: "87654321", nameAndAddress: ["JANE ROE"] },
      detailsOfCharges: "OUR",
    },
  };
}

function issuesOf(action: () => unknown): Mt103Error["issues"] {
  try {
    action();
  } catch (error) {
    if (error instanceof Mt103Error) return error.issues;
    throw error;
  }
  throw new Error("expected an Mt103Error");
}

describe("MT103 round trip", () => {
  it("renders the model and parses it back unchanged", () => {
    const message = sample();
    const text = renderMt103(message);
    expect(text).toContain("{4:\r\n:20:REF-0001\r\n:23B:CRED\r\n:32A:261127USD1000,00\r\n");
    expect(text).toContain("\r\n:71A:OUR\r\n-}");
    expect(parseMt103(text)).toEqual(message);
  });

  it("parses the written-here full sample and renders it byte for byte", () => {
    const text = testdata("qenex-full-stp.fin");
    const message = parseMt103(text);
    expect(message.userHeader).toEqual({ uetr: "8a562c67-ca16-48ba-b074-65581be6f011", stp: true, messageUserReference: "MUR0001" });
    expect(message.applicationHeader).toEqual({
      receiverLtAddress: "BANKUS33XXXX",
      priority: "U",
      deliveryMonitoring: "3",
      obsolescencePeriod: "003",
    });
    expect(message.text.interbankSettlement).toEqual({ currency: "JPY", amount: "1500000" });
    expect(message.text.sendersCharges).toEqual([{ currency: "EUR", amount: "12.50" }]);
    expect(message.trailer).toEqual([{ tag: "CHK", value: "123456789ABC" }]);
    expect(renderMt103(message)).toBe(text);
  });

  it("parses the published prowide sample (AbstractSwiftMessageTest.java)", () => {
    const message = parseMt103(testdata("prowide-abstract-swift-message-test.fin"));
    expect(message.basicHeader).toEqual({ senderLtAddress: "ABCDEFGHAXXX", sessionNumber: "8669", sequenceNumber: "486760" });
    expect(message.userHeader.uetr).toBe("eb6305c9-1f7f-49de-aed0-16487c27b42d");
    expect(message.text.valueDate).toBe("2025-10-18");
    expect(message.text.interbankSettlement).toEqual({ currency: "EUR", amount: "1234.56" });
    expect(message.text.orderingCustomer).toEqual({ option: "K", account: "12345678", nameAndAddress: ["ORDERING CUSTOMER"] });
    expect(message.text.beneficiary).toEqual({ option: "none", account: "87654321", nameAndAddress: ["BENEFICIARY"] });
  });
});

describe("MT103 :32A: amounts", () => {
  it("writes a comma decimal with the currency's ISO 4217 digits", () => {
    expect(encodeSwiftAmount("1000", "USD")).toEqual({ ok: true, value: "1000,00" });
    expect(encodeSwiftAmount("1500000", "JPY")).toEqual({ ok: true, value: "1500000," });
    expect(encodeSwiftAmount("12.345", "BHD")).toEqual({ ok: true, value: "12,345" });
  });

  it("rejects more decimals than the currency has, never rounding", () => {
    expect(encodeSwiftAmount("10.5", "JPY").ok).toBe(false);
    expect(encodeSwiftAmount("1.2345", "BHD").ok).toBe(false);
    expect(decodeSwiftAmount("100,5", "JPY").ok).toBe(false);
    expect(decodeSwiftAmount("1,2345", "BHD").ok).toBe(false);
    expect(decodeSwiftAmount("1,234", "BHD")).toEqual({ ok: true, value: "1.234" });
    expect(decodeSwiftAmount("23453,", "USD")).toEqual({ ok: true, value: "23453.00" });
  });

  it("rejects thousands separators, a '.' decimal and amounts over 15 characters", () => {
    expect(decodeSwiftAmount("1.000,00", "EUR").ok).toBe(false);
    expect(decodeSwiftAmount("1000.00", "EUR").ok).toBe(false);
    expect(decodeSwiftAmount("1234567890123,45", "EUR").ok).toBe(false);
    expect(encodeSwiftAmount("123456789012.34", "EUR")).toEqual({ ok: true, value: "123456789012,34" });
    expect(encodeSwiftAmount("1234567890123.45", "EUR").ok).toBe(false);
  });

  it("names field 32A when the model's amount has too many decimals", () => {
    const message = sample();
    message.text.interbankSettlement = { currency: "JPY", amount: "100.5" };
    expect(issuesOf(() => renderMt103(message))).toEqual([expect.objectContaining({ code: "format", location: "block 4, field 32A" })]);
  });
});

describe("MT103 35-character lines", () => {
  const words = "PAYMENT FOR INVOICES 2026-001 2026-002 2026-003 2026-004 AND 2026-005 PER CONTRACT 77 DATED 2026-10-01 THANK YOU";

  it("wraps a long remittance into at most four lines of 35", () => {
    const lines = wrapSwiftLines(words, "70");
    expect(lines.length).toBeLessThanOrEqual(4);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(35);
    expect(lines.join(" ")).toBe(words);
    const message = sample();
    message.text.remittanceInformation = lines;
    expect(parseMt103(renderMt103(message)).text.remittanceInformation).toEqual(lines);
  });

  it("rejects a remittance that needs a fifth line instead of truncating it", () => {
    expect(() => wrapSwiftLines(`${words} ${words}`, "70")).toThrow(/field 70: text needs \d+ lines of 35 characters; at most 4/);
  });

  it("rejects a 36-character line and a fifth line in the model", () => {
    const message = sample();
    message.text.remittanceInformation = ["A".repeat(36), "B", "C", "D", "E"];
    const issues = issuesOf(() => renderMt103(message));
    expect(issues.map((issue) => issue.message)).toEqual([
      "remittance information has 5 lines; at most 4 allowed",
      "remittance information line 1 is 36 characters; at most 35 allowed",
    ]);
  });

  it("rejects a parsed 36-character line naming field and line", () => {
    const text = renderMt103(sample()).replace(":59:/87654321\r\nJANE ROE", `:59:/87654321\r\n${"J".repeat(36)}`);
    expect(issuesOf(() => parseMt103(text))).toEqual([
      { code: "length", location: "block 4, field 59, line 8", message: "name and address line 1 is 36 characters; at most 35 allowed" },
    ]);
  });
});

describe("MT103 character set", () => {
  it("rejects a name outside the X set, naming the field and the character", () => {
    const message = sample();
    message.text.orderingCustomer = { option: "K", nameAndAddress: ["JOSÉ MÜLLER"] };
    expect(issuesOf(() => renderMt103(message))).toEqual([
      {
        code: "charset",
        location: "block 4, field 50K",
        message: "name and address line 1 has 'É' (U+00C9) at position 4, outside the SWIFT X character set",
      },
    ]);
  });

  it("rejects '@', '&' and '_' in the remittance and sender's reference", () => {
    const message = sample();
    message.text.sendersReference = "REF_1";
    message.text.remittanceInformation = ["MAIL ME AT A@B.COM & CO"];
    const issues = issuesOf(() => renderMt103(message));
    expect(issues.map((issue) => [issue.location, issue.code])).toEqual([
      ["block 4, field 20", "charset"],
      ["block 4, field 70", "charset"],
    ]);
    expect(issues[1]?.message).toContain("'@'");
  });

  it("rejects a parsed non-X character naming the field and line", () => {
    const text = renderMt103(sample()).replace("JOHN DOE", "JOHN#DOE");
    expect(issuesOf(() => parseMt103(text))[0]).toMatchObject({ code: "charset", location: "block 4, field 50K, line 5" });
  });
});

describe("MT103 headers and fields", () => {
  it("puts the UETR in block 3 and requires it on parse", () => {
    const text = renderMt103(sample());
    expect(text).toContain("{3:{121:eb6305c9-1f7f-49de-aed0-16487c27b42d}}");
    expect(issuesOf(() => parseMt103(text.replace("{3:{121:eb6305c9-1f7f-49de-aed0-16487c27b42d}}", "{3:{108:X}}")))).toEqual([
      { code: "missing", location: "block 3, tag 121", message: "UETR {121:} is missing" },
    ]);
  });

  it("rejects an upper-case or non-v4 UETR", () => {
    const message = sample();
    message.userHeader.uetr = "EB6305C9-1F7F-49DE-AED0-16487C27B42D";
    expect(issuesOf(() => renderMt103(message))[0]?.location).toBe("block 3, tag 121");
    message.userHeader.uetr = "eb6305c9-1f7f-19de-aed0-16487c27b42d";
    expect(issuesOf(() => renderMt103(message))[0]?.location).toBe("block 3, tag 121");
  });

  it("enforces the :20: reference rules", () => {
    for (const reference of ["/REF", "REF/", "RE//F", "12345678901234567", ""]) {
      const message = sample();
      message.text.sendersReference = reference;
      expect(issuesOf(() => renderMt103(message))[0]?.location).toBe("block 4, field 20");
    }
  });

  it("applies the 71A charge rules", () => {
    const ben = sample();
    ben.text.detailsOfCharges = "BEN";
    expect(issuesOf(() => renderMt103(ben))[0]?.message).toBe("71A BEN needs at least one 71F");
    ben.text.sendersCharges = [{ currency: "USD", amount: "10.00" }];
    expect(parseMt103(renderMt103(ben))).toEqual(ben);
    const our = sample();
    our.text.sendersCharges = [{ currency: "USD", amount: "10.00" }];
    expect(issuesOf(() => renderMt103(our))[0]?.message).toBe("71F is not allowed when 71A is OUR");
  });

  it("round-trips option A parties and 52A/57A", () => {
    const message = sample();
    message.text.orderingCustomer = { option: "A", account: "DE89370400440532013000", bic: "BANKDEFF" };
    message.text.orderingInstitution = { bic: "BANKDEFFXXX" };
    message.text.accountWithInstitution = { account: "021040078", bic: "BANKUS33" };
    message.text.beneficiary = { option: "A", bic: "BENEUS33XXX" };
    expect(parseMt103(renderMt103(message))).toEqual(message);
  });

  it("names the block, field and line of a parse error", () => {
    const text = renderMt103(sample());
    expect(issuesOf(() => parseMt103(text.replace(":23B:CRED", ":23B:CRXD")))).toEqual([
      { code: "format", location: "block 4, field 23B, line 2", message: '"CRXD" is not CRED, CRTS, SPAY, SPRI or SSTD' },
    ]);
    expect(issuesOf(() => parseMt103(text.replace(":71A:OUR", ":72:/INS/X\r\n:71A:OUR")))[0]).toMatchObject({
      code: "unsupported",
      location: "block 4, field 72, line 9",
    });
    expect(issuesOf(() => parseMt103(text.replace(":23B:CRED\r\n", "")))[0]).toMatchObject({
      code: "missing",
      message: "mandatory field 23B is missing",
    });
    expect(issuesOf(() => parseMt103(text.replace("\r\n-}", "}")))[0]).toMatchObject({ location: "block 4" });
    expect(issuesOf(() => parseMt103(text.replace("{2:I103", "{2:O103")))[0]).toMatchObject({ code: "unsupported", location: "block 2" });
    expect(issuesOf(() => parseMt103(text.replace("261127", "261131")))[0]).toMatchObject({ location: "block 4, field 32A, line 3" });
  });

  it("rejects fields out of MT103 order", () => {
    const text = renderMt103(sample()).replace(":20:REF-0001\r\n:23B:CRED", ":23B:CRED\r\n:20:REF-0001");
    expect(issuesOf(() => parseMt103(text))[0]).toMatchObject({ code: "order", location: "block 4, field 20, line 2" });
  });

  it("rejects a message over the length limit before reading it", () => {
    expect(issuesOf(() => parseMt103(`{1:${"A".repeat(12_001)}`))[0]).toMatchObject({ code: "length", location: "message" });
  });
});
