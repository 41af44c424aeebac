import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { decodeFedwireAmount, encodeFedwireAmount, FedwireError, type FedwireMessage, parseFedwire, renderFedwire } from "./index.js";

const testdata = (name: string) => readFileSync(new URL(`../../../testdata/fedwire/${name}`, import.meta.url), "utf8");

function sample(): FedwireMessage {
  return {
    senderSupplied: { formatVersion: "30", userRequestCorrelation: "QENEX001", testProductionCode: "T", messageDuplicationCode: "" },
    typeSubtype: { typeCode: "10", subtypeCode: "00" },
    imad: { cycleDate: "2026-11-27", inputSource: "QNXSRC01", inputSequenceNumber: "000042" },
    amountUsd: "1000.00",
    senderDepositoryInstitution: { routingNumber: "121042882", shortName: "WELLS FARGO NA" },
    receiverDepositoryInstitution: { routingNumber: "231380104", shortName: "CITADEL" },
    businessFunction: { code: "CTR" },
    beneficiary: { identificationCode: "D", identifier: "87654321", name: "JANE ROE", addressLines: ["1 MAIN ST", "", "NEW YORK NY"] },
    originator: { identificationCode: "D", identifier: "12345678", name: "JOHN DOE", addressLines: [] },
  };
}

function issuesOf(action: () => unknown): FedwireError["issues"] {
  try {
    action();
  } catch (error) {
    if (error instanceof FedwireError) return error.issues;
    throw error;
  }
  throw new Error("expected a FedwireError");
}

describe("Fedwire round trip", () => {
  it("renders the model and parses it back unchanged", () => {
    const message = sample();
    message.senderReference = "REF-1";
    message.originatorToBeneficiary = ["INVOICE 4711", "PO 88-1"];
    message.businessFunction.transactionTypeCode = "ABC";
    expect(parseFedwire(renderFedwire(message))).toEqual(message);
  });

  it("parses the published moov-io/wire CTR sample and writes it back byte for byte", () => {
    const text = testdata("moov-customer-transfer-minimal.txt");
    const message = parseFedwire(text);
    expect(message.senderSupplied).toEqual({
      formatVersion: "30",
      userRequestCorrelation: "User Req",
      testProductionCode: "T",
      messageDuplicationCode: "",
    });
    expect(message.imad).toEqual({ cycleDate: "2019-04-10", inputSource: "Source08", inputSequenceNumber: "000001" });
    expect(message.amountUsd).toBe("12345.67");
    expect(message.senderDepositoryInstitution).toEqual({ routingNumber: "121042882", shortName: "Wells Fargo NA" });
    expect(message.originator).toEqual({
      identificationCode: "1",
      identifier: "1234",
      name: "Name",
      addressLines: ["Address One", "", "Address Three"],
    });
    expect(renderFedwire(message)).toBe(text.replace(/\n$/, ""));
  });

  it("parses the written-here CTR sample and writes it back byte for byte", () => {
    const text = testdata("qenex-customer-transfer.txt");
    const message = parseFedwire(text);
    expect(message.amountUsd).toBe("1000.00");
    expect(message.senderReference).toBe("INV-2026-0042");
    expect(renderFedwire(message)).toBe(text.replace(/\n$/, ""));
  });

  it("reads tags written on one line as well as one per line", () => {
    const text = renderFedwire(sample());
    expect(parseFedwire(text.replaceAll("\n", ""))).toEqual(sample());
  });

  it("reads the fixed-width element form", () => {
    const text = renderFedwire(sample()).replace("{3100}121042882WELLS FARGO NA*", "{3100}121042882WELLS FARGO NA    ");
    expect(parseFedwire(text).senderDepositoryInstitution.shortName).toBe("WELLS FARGO NA");
  });
});

describe("Fedwire {2000} amount", () => {
  it("writes 1,000.00 as twelve digits of cents", () => {
    expect(encodeFedwireAmount("1000.00")).toEqual({ ok: true, value: "000000100000" });
    expect(renderFedwire(sample())).toContain("\n{2000}000000100000\n");
    expect(decodeFedwireAmount("000000100000")).toEqual({ ok: true, value: "1000.00" });
  });

  it("rejects sub-cent, negative, oversized and malformed amounts", () => {
    expect(encodeFedwireAmount("1.001").ok).toBe(false);
    expect(encodeFedwireAmount("-1.00").ok).toBe(false);
    expect(encodeFedwireAmount("9999999999.99")).toEqual({ ok: true, value: "999999999999" });
    expect(encodeFedwireAmount("10000000000.00").ok).toBe(false);
    expect(decodeFedwireAmount("1000.00").ok).toBe(false);
    expect(decodeFedwireAmount("00000100000").ok).toBe(false);
  });

  it("allows a zero amount only for subtype 90", () => {
    const message = sample();
    message.amountUsd = "0";
    expect(issuesOf(() => renderFedwire(message))).toContainEqual(expect.objectContaining({ code: "rule", location: "tag {2000}" }));
  });
});

describe("Fedwire routing numbers", () => {
  it("rejects a bad checksum when rendering and when parsing", () => {
    const message = sample();
    message.receiverDepositoryInstitution.routingNumber = "231380105";
    expect(issuesOf(() => renderFedwire(message))).toEqual([
      { code: "checksum", location: "tag {3400}", message: 'routing number "231380105" fails the ABA 3-7-1 checksum' },
    ]);
    const text = renderFedwire(sample()).replace("{3100}121042882", "{3100}123456789");
    expect(issuesOf(() => parseFedwire(text))).toEqual([
      { code: "checksum", location: "tag {3100}", message: 'routing number "123456789" fails the ABA 3-7-1 checksum' },
    ]);
  });
});

describe("Fedwire validation", () => {
  it("requires beneficiary and originator for CTR, and an allowed type/subtype", () => {
    const message = sample();
    delete message.beneficiary;
    delete message.originator;
    message.typeSubtype.subtypeCode = "01";
    expect(issuesOf(() => renderFedwire(message)).map((issue) => issue.location)).toEqual(["tag {1510}", "tag {4200}", "tag {5000}"]);
  });

  it("enforces element lengths with the tag named, never truncating", () => {
    const message = sample();
    message.senderDepositoryInstitution.shortName = "A NAME OF NINETEEN!";
    expect(issuesOf(() => renderFedwire(message))).toEqual([
      { code: "length", location: "tag {3100}", message: "short name is 19 characters; at most 18 allowed" },
    ]);
    const text = renderFedwire(sample()).replace("*JANE ROE*", `*${"J".repeat(36)}*`);
    expect(issuesOf(() => parseFedwire(text))).toEqual([
      { code: "length", location: "tag {4200}", message: "name is 36 characters; at most 35 allowed" },
    ]);
  });

  it("rejects the delimiter and non-ASCII characters naming the tag", () => {
    const message = sample();
    message.originator = { identificationCode: "D", identifier: "12345678", name: "JOSÉ", addressLines: [] };
    expect(issuesOf(() => renderFedwire(message))[0]).toMatchObject({ code: "charset", location: "tag {5000}" });
    message.originator.name = "A*B";
    expect(issuesOf(() => renderFedwire(message))[0]?.message).toContain("'*'");
  });

  it("rejects unsupported, duplicated and missing tags", () => {
    const text = renderFedwire(sample());
    expect(issuesOf(() => parseFedwire(`${text}\n{3500}PREVIOUS`))[0]).toMatchObject({ code: "unsupported", location: "tag {3500}" });
    expect(issuesOf(() => parseFedwire(`${text}\n{1510}1000`))[0]).toMatchObject({ location: "tag {1510}" });
    expect(issuesOf(() => parseFedwire(text.replace("{2000}000000100000\n", "")))).toEqual([
      { code: "missing", location: "tag {2000}", message: "mandatory tag is missing" },
    ]);
  });

  it("rejects a message over the length limit", () => {
    expect(issuesOf(() => parseFedwire(`{1500}${"x".repeat(8_000)}`))[0]).toMatchObject({ code: "length", location: "message" });
  });
});
