import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { achPayment, mt103Payment, now, ourBic, sepaPayment, swiftPayment } from "./fixtures.js";
import { InboundError, parseInbound, readNetworkReply } from "./inbound.js";
import { buildAchFile, buildCreditTransfer } from "./messages.js";

const testdata = (path: string) => readFileSync(new URL(`../../testdata/${path}`, import.meta.url), "utf8");

function refusal(content: string): string {
  try {
    parseInbound(content);
  } catch (error) {
    if (error instanceof InboundError) return error.message;
    throw error;
  }
  throw new Error("expected an InboundError");
}

describe("parseInbound", () => {
  it("reads a pacs.008 built by buildCreditTransfer", () => {
    const message = buildCreditTransfer(sepaPayment, { now, ourBic });
    expect(parseInbound(message.content)).toEqual({
      format: "ISO20022",
      messageId: message.messageId,
      entries: [
        {
          index: 0,
          creditorAccount: "NL91ABNA0417164300",
          creditorName: "Jan de Vries",
          amountMinor: 125_050n,
          currency: "EUR",
          reference: "Invoice 2026-001",
          debtorName: "Erika Mustermann",
        },
      ],
    });
  });

  it("reads an MT103 built by buildCreditTransfer", () => {
    const message = buildCreditTransfer(mt103Payment, { now, ourBic });
    const inbound = parseInbound(message.content);
    expect(inbound.format).toBe("MT103");
    expect(inbound.messageId).toBe(message.messageId);
    expect(inbound.entries).toEqual([
      {
        index: 0,
        creditorAccount: "GB82WEST12345698765432",
        creditorName: "OBrien Trading Ltd",
        amountMinor: 9_999n,
        currency: "GBP",
        reference: "INV 77",
        debtorName: "Erika Mustermann",
      },
    ]);
  });

  it("reads a NACHA file built by buildAchFile", () => {
    const file = buildAchFile([achPayment("a1"), achPayment("a2", { amountMinor: 5n })], {
      now,
      fileIdModifier: "C",
      originRouting: "121042882",
      originName: "QENEX",
    });
    const inbound = parseInbound(file.content);
    expect(inbound.format).toBe("NACHA");
    expect(inbound.messageId).toBe(file.messageId);
    expect(inbound.entries.map((e) => [e.creditorAccount, e.creditorName, e.amountMinor, e.reference, e.debtorName])).toEqual([
      ["567876543", "Jane Roe", 150_000n, "EMP001", "QENEX"],
      ["567876543", "Jane Roe", 5n, "EMP001", "QENEX"],
    ]);
  });

  it("reads the published samples: moov-io's Fedwire pacs.008 and the MT103 STP sample", () => {
    const iso = parseInbound(testdata("iso20022/moov-wire20022-CustomerCreditTransfer_Scenario2_Step1_pacs.008.xml"));
    expect(iso.format).toBe("ISO20022");
    expect(iso.entries.length).toBe(1);
    expect(iso.entries[0]?.currency).toBe("USD");
    expect(iso.entries[0]?.amountMinor).toBeGreaterThan(0n);
    const mt = parseInbound(testdata("mt103/qenex-full-stp.fin"));
    expect(mt.format).toBe("MT103");
    expect(mt.entries[0]?.amountMinor).toBeGreaterThan(0n);
  });

  it("refuses the published NACHA debit sample, naming the debit's line", () => {
    expect(refusal(testdata("nacha/moov-ppd-debit.ach"))).toMatch(/^NACHA line 3: transaction code 27 is not a credit/);
  });

  it("names the line of a malformed NACHA record and of a malformed MT103 field", () => {
    const file = buildAchFile([achPayment("a1")], { now, fileIdModifier: "C", originRouting: "121042882", originName: "QENEX" });
    const lines = file.content.split("\n");
    lines[2] = `${lines[2]?.slice(0, 29)}00000X0000${lines[2]?.slice(39)}`;
    expect(refusal(lines.join("\n"))).toMatch(/^NACHA line 3 /);
    const mt = buildCreditTransfer(mt103Payment, { now, ourBic }).content.replace(/:32A:\d{6}GBP/, ":32A:26XX02GBP");
    expect(refusal(mt)).toMatch(/^MT103 line \d+ \(block 4, field 32A/);
  });

  it("names the element of a malformed pacs.008", () => {
    const xml = buildCreditTransfer(sepaPayment, { now, ourBic }).content.replace(/<EndToEndId>[^<]*<\/EndToEndId>/, "");
    expect(refusal(xml)).toMatch(/FIToFICstmrCdtTrf\/CdtTrfTxInf\[0\]\/PmtId\/EndToEndId/);
    expect(refusal("<Document>")).toMatch(/^pacs.008 element Document/);
  });

  it("refuses content that is none of the formats, and content over the limit", () => {
    expect(refusal("hello")).toMatch(/^line 1: not an MT103/);
    expect(refusal(`{1:${"x".repeat(4_000_000)}`)).toMatch(/at most 4000000/);
  });
});

describe("readNetworkReply", () => {
  it("refuses a message that is not a reply, and a pacs.002 about someone else's payment", () => {
    const transfer = buildCreditTransfer(swiftPayment, { now, ourBic });
    expect(() => readNetworkReply(transfer)).toThrow(InboundError);
    const foreign = testdata("iso20022/moov-wire20022-CustomerCreditTransfer_Scenario2_Step1_pacs.008.xml");
    expect(() => readNetworkReply({ ...transfer, messageType: "pacs.002.001.10", content: foreign })).toThrow(/element Document/);
  });

  it("reads the published NACHA return sample's R-codes but refuses it: its entries do not name our payments", () => {
    const returns = testdata("nacha/ppd-ccd-returns.ach");
    expect(() => readNetworkReply({ messageId: "r", format: "NACHA", messageType: "NACHA return", content: returns })).toThrow(
      /NACHA line 4: the 99 addenda information/,
    );
  });
});
