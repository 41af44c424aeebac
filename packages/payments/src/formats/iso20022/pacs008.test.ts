import { describe, expect, it } from "vitest";
import { cbprPacs008, fedwirePacs008, minimalPacs008, sepaPacs008, sepaTransfer } from "./fixtures.js";
import { type Pacs008, parsePacs008, renderPacs008 } from "./pacs008.js";
import { Iso20022Error } from "./violations.js";
import { readTestdata, validateAgainstXsd } from "./xsd-validate.js";

const examples: Record<string, Pacs008> = {
  "SEPA, every optional field": sepaPacs008,
  "only the required elements": minimalPacs008,
  "Fedwire, USABA agents and Othr accounts": fedwirePacs008,
  "CBPR+, XML special characters in names and remittance": cbprPacs008,
  "three transactions": {
    ...sepaPacs008,
    transactions: [
      sepaTransfer,
      { ...sepaTransfer, endToEndId: "E2E-2", uetr: crypto.randomUUID() },
      { ...sepaTransfer, endToEndId: "E2E-3", interbankSettlementAmount: { currency: "EUR", amount: "0.01" } },
    ],
  },
};

function violationsOf(action: () => unknown): string[] {
  try {
    action();
  } catch (error) {
    if (error instanceof Iso20022Error) return error.violations.map((v) => `${v.path}: ${v.reason}`);
    throw error;
  }
  return [];
}

describe("pacs.008.001.08", () => {
  for (const [name, model] of Object.entries(examples)) {
    it(`round-trips and validates against the XSD: ${name}`, async () => {
      const xml = renderPacs008(model);
      expect(parsePacs008(xml)).toEqual(model);
      const result = await validateAgainstXsd(xml, "pacs.008.001.08");
      expect(result.errors).toEqual([]);
      expect(result.valid).toBe(true);
    });
  }

  it("derives NbOfTxs and escapes markup characters", () => {
    const xml = renderPacs008(cbprPacs008);
    expect(xml).toContain("<NbOfTxs>1</NbOfTxs>");
    expect(xml).toContain("<Nm>Müller &amp; Söhne &lt;GmbH&gt;</Nm>");
    expect(xml).not.toContain("<GmbH>");
  });

  it("writes amounts with the currency's minor digits", () => {
    const model: Pacs008 = {
      ...minimalPacs008,
      transactions: [{ ...sepaTransfer, interbankSettlementAmount: { currency: "EUR", amount: "7.5" } }],
    };
    expect(renderPacs008(model)).toContain('<IntrBkSttlmAmt Ccy="EUR">7.50</IntrBkSttlmAmt>');
    expect(renderPacs008(minimalPacs008)).toContain('<IntrBkSttlmAmt Ccy="JPY">1000</IntrBkSttlmAmt>');
  });

  it("refuses to render amounts finer than the currency, unknown currencies and negative amounts", () => {
    const withAmount = (currency: string, amount: string): Pacs008 => ({
      ...minimalPacs008,
      transactions: [{ ...sepaTransfer, interbankSettlementAmount: { currency, amount } }],
    });
    expect(violationsOf(() => renderPacs008(withAmount("EUR", "1.005")))).toEqual([
      'FIToFICstmrCdtTrf/CdtTrfTxInf[0]/IntrBkSttlmAmt: "1.005" has 3 decimal places; EUR allows 2',
    ]);
    expect(violationsOf(() => renderPacs008(withAmount("JPY", "1.5")))[0]).toContain("JPY allows 0");
    expect(violationsOf(() => renderPacs008(withAmount("ZZZ", "1.00")))[0]).toContain("IntrBkSttlmAmt/@Ccy");
    expect(violationsOf(() => renderPacs008(withAmount("EUR", "-1.00")))[0]).toContain("not a non-negative decimal");
  });

  it("lists every schema violation of a model with its element path", () => {
    const bad: Pacs008 = {
      ...sepaPacs008,
      messageId: "M".repeat(36),
      transactions: [{ ...sepaTransfer, uetr: "8A562C67-CA16-48BA-B074-65581BE6F011", debtorAgent: { bicfi: "deutdeff" } }],
    };
    expect(violationsOf(() => renderPacs008(bad))).toEqual([
      "FIToFICstmrCdtTrf/GrpHdr/MsgId: is 36 characters; at most 35 allowed",
      'FIToFICstmrCdtTrf/CdtTrfTxInf[0]/PmtId/UETR: "8A562C67-CA16-48BA-B074-65581BE6F011" is not a valid UETR (lowercase UUIDv4)',
      'FIToFICstmrCdtTrf/CdtTrfTxInf[0]/DbtrAgt/FinInstnId/BICFI: "deutdeff" is not a valid BICFI (uppercase BIC8 or BIC11)',
    ]);
    expect(violationsOf(() => renderPacs008({ ...sepaPacs008, transactions: [] }))).toEqual([
      "FIToFICstmrCdtTrf/CdtTrfTxInf: needs 1 to 10000 transactions, has 0",
    ]);
    expect(violationsOf(() => renderPacs008({ ...sepaPacs008, createdAt: "2026-02-30T10:00:00Z" }))[0]).toContain("CreDtTm");
  });

  it("rejects control characters XML cannot carry", () => {
    const model: Pacs008 = { ...sepaPacs008, transactions: [{ ...sepaTransfer, creditor: { name: "bell\u0007" } }] };
    expect(violationsOf(() => renderPacs008(model))).toEqual([
      "FIToFICstmrCdtTrf/CdtTrfTxInf[0]/Cdtr/Nm: holds a control character XML 1.0 cannot carry",
    ]);
  });

  it("fails XSD validation of a document with a missing element and a bad UETR, naming both", async () => {
    const xml = renderPacs008(sepaPacs008)
      .replace("<ChrgBr>SLEV</ChrgBr>", "")
      .replace(`<UETR>${sepaTransfer.uetr}</UETR>`, "<UETR>not-a-uuid</UETR>");
    const result = await validateAgainstXsd(xml, "pacs.008.001.08");
    expect(result.valid).toBe(false);
    expect(result.errors.join("\n")).toMatch(/UETR.*pattern/);
    expect(result.errors.join("\n")).toMatch(/InstgAgt.*Expected is .*ChrgBr/);
  });

  it("reports a missing required element, a malformed document and a wrong namespace when parsing", () => {
    const xml = renderPacs008(sepaPacs008);
    expect(violationsOf(() => parsePacs008(xml.replace("<ChrgBr>SLEV</ChrgBr>", "")))).toEqual([
      "FIToFICstmrCdtTrf/CdtTrfTxInf[0]/ChrgBr: is required",
    ]);
    expect(violationsOf(() => parsePacs008(xml.replace("</Cdtr>", "")))[0]).toMatch(/^Document: not well-formed XML/);
    expect(violationsOf(() => parsePacs008(xml.replace("pacs.008.001.08", "pacs.008.001.09")))).toEqual([
      "Document: namespace is not urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08",
    ]);
    expect(violationsOf(() => parsePacs008(xml.replace("<NbOfTxs>1</NbOfTxs>", "<NbOfTxs>2</NbOfTxs>")))).toEqual([
      "FIToFICstmrCdtTrf/GrpHdr/NbOfTxs: says 2 transactions; the message holds 1",
    ]);
  });

  it("refuses a DOCTYPE, so entity expansion never runs", () => {
    const xml = renderPacs008(sepaPacs008).replace(
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">]>',
    );
    expect(violationsOf(() => parsePacs008(xml))).toEqual(["Document: a DOCTYPE is not allowed"]);
  });

  it("reads a namespace-prefixed document and character references", () => {
    const xml = renderPacs008(cbprPacs008)
      .replace(/<(\/?)([A-Za-z])/g, "<$1p:$2")
      .replace('xmlns="', 'xmlns:p="')
      .replace("Jan", "J&#97;n");
    expect(parsePacs008(xml)).toEqual(cbprPacs008);
  });

  // moov-io/wire20022 (Apache-2.0), pkg/models/CustomerCreditTransfer/swiftSample/
  // CustomerCreditTransfer_Scenario2_Step1_pacs.008: see testdata/iso20022/SOURCE.md.
  it("parses a published Fedwire sample, which the XSD also accepts", async () => {
    const xml = readTestdata("moov-wire20022-CustomerCreditTransfer_Scenario2_Step1_pacs.008.xml");
    expect((await validateAgainstXsd(xml, "pacs.008.001.08")).valid).toBe(true);
    const message = parsePacs008(xml);
    expect(message.messageId).toBe("20250310B1QDRCQR000002");
    expect(message.clearingSystemCode).toBe("FDW");
    const [tx] = message.transactions;
    expect(tx?.uetr).toBe("8a562c67-ca16-48ba-b074-65581be6f011");
    expect(tx?.interbankSettlementAmount).toEqual({ currency: "USD", amount: "510000.74" });
    expect(tx?.paymentType).toEqual({ localInstrument: { proprietary: "CTRC" } });
    expect(tx?.debtorAgent).toEqual({
      clearingSystemMember: { systemCode: "USABA", memberId: "011104238" },
      name: "Bank A",
    });
    expect(tx?.debtor.postalAddress?.townName).toBe("Fountain Hills");
    expect(tx?.creditorAccount).toEqual({ kind: "other", id: "567876543" });
    // Structured remittance is not in the model: the reader leaves it out.
    expect(tx?.remittanceInformation).toBeUndefined();
    // What we read renders back to a document the XSD accepts.
    expect((await validateAgainstXsd(renderPacs008(message), "pacs.008.001.08")).valid).toBe(true);
  });
});
