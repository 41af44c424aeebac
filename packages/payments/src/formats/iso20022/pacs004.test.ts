import { describe, expect, it } from "vitest";
import { pacs004Example } from "./fixtures.js";
import { type Pacs004, parsePacs004, renderPacs004 } from "./pacs004.js";
import { validateAgainstXsd } from "./xsd-validate.js";

const examples: Record<string, Pacs004> = {
  "two returns, every optional field on the first": pacs004Example,
  "only the required elements": {
    messageId: "R",
    createdAt: "2026-03-03T08:00:00Z",
    settlementMethod: "INGA",
    transactions: [{ returnedInterbankSettlementAmount: { currency: "BHD", amount: "1.234" } }],
  },
  "a proprietary reason with escaped text": {
    messageId: "R2",
    createdAt: "2026-03-03T08:00:00Z",
    settlementMethod: "COVE",
    transactions: [
      {
        originalEndToEndId: "A&B",
        returnedInterbankSettlementAmount: { currency: "EUR", amount: "10.00" },
        returnReasons: [{ reason: { proprietary: "<none>" }, additionalInformation: ["\"quoted\" & 'single'"] }],
      },
    ],
  },
};

describe("pacs.004.001.09", () => {
  for (const [name, model] of Object.entries(examples)) {
    it(`round-trips and validates against the XSD: ${name}`, async () => {
      const xml = renderPacs004(model);
      expect(parsePacs004(xml)).toEqual(model);
      const result = await validateAgainstXsd(xml, "pacs.004.001.09");
      expect(result.errors).toEqual([]);
      expect(result.valid).toBe(true);
    });
  }

  it("writes the returned amount with its currency and the derived count", () => {
    const xml = renderPacs004(pacs004Example);
    expect(xml).toContain('<RtrdIntrBkSttlmAmt Ccy="USD">510000.74</RtrdIntrBkSttlmAmt>');
    expect(xml).toContain("<NbOfTxs>2</NbOfTxs>");
    expect(xml).toMatch(/<RtrRsnInf>\s*<Rsn>\s*<Cd>AC04<\/Cd>\s*<\/Rsn>\s*<AddtlInf>Closed 2026-02-28<\/AddtlInf>/);
  });

  it("fails XSD validation when the returned amount is missing", async () => {
    const xml = renderPacs004(pacs004Example).replace(/<RtrdIntrBkSttlmAmt[^\n]*\n/, "");
    const result = await validateAgainstXsd(xml, "pacs.004.001.09");
    expect(result.valid).toBe(false);
    expect(result.errors.join("\n")).toMatch(/Expected is .*RtrdIntrBkSttlmAmt/);
    expect(() => parsePacs004(xml)).toThrow("PmtRtr/TxInf[0]/RtrdIntrBkSttlmAmt: is required");
  });
});
