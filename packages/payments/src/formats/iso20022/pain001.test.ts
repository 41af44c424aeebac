import { describe, expect, it } from "vitest";
import { sepaPain001 } from "./fixtures.js";
import { type Pain001, parsePain001, renderPain001 } from "./pain001.js";
import { validateAgainstXsd } from "./xsd-validate.js";

const examples: Record<string, Pain001> = {
  "two payment instructions, date and date-time execution": sepaPain001,
  "only the required elements": {
    messageId: "P",
    createdAt: "2026-03-01T16:00:00Z",
    initiatingParty: {},
    paymentInstructions: [
      {
        paymentInformationId: "PI",
        paymentMethod: "TRF",
        requestedExecutionDate: "2026-03-02",
        debtor: {},
        debtorAccount: { kind: "other", id: "12345678" },
        debtorAgent: { bicfi: "CHASUS33" },
        transactions: [{ endToEndId: "E", instructedAmount: { currency: "USD", amount: "5.00" } }],
      },
    ],
  },
};

describe("pain.001.001.10", () => {
  for (const [name, model] of Object.entries(examples)) {
    it(`round-trips and validates against the XSD: ${name}`, async () => {
      const xml = renderPain001(model);
      expect(parsePain001(xml)).toEqual(model);
      const result = await validateAgainstXsd(xml, "pain.001.001.10");
      expect(result.errors).toEqual([]);
      expect(result.valid).toBe(true);
    });
  }

  it("counts transactions across payment instructions and writes ReqdExctnDt as the 2019 choice", () => {
    const xml = renderPain001(sepaPain001);
    expect(xml).toMatch(/<GrpHdr>\s*<MsgId>PAIN-0001<\/MsgId>\s*<CreDtTm>[^<]*<\/CreDtTm>\s*<NbOfTxs>3<\/NbOfTxs>/);
    expect(xml).toMatch(/<ReqdExctnDt>\s*<Dt>2026-03-02<\/Dt>/);
    expect(xml).toMatch(/<ReqdExctnDt>\s*<DtTm>2026-03-05T09:00:00Z<\/DtTm>/);
  });

  it("fails XSD validation when PmtMtd is not a code and names the element", async () => {
    const xml = renderPain001(sepaPain001).replace("<PmtMtd>TRF</PmtMtd>", "<PmtMtd>WIRE</PmtMtd>");
    const result = await validateAgainstXsd(xml, "pain.001.001.10");
    expect(result.valid).toBe(false);
    expect(result.errors.join("\n")).toMatch(/PmtMtd.*enumeration.*'WIRE'/);
    expect(() => parsePain001(xml)).toThrow('CstmrCdtTrfInitn/PmtInf[0]/PmtMtd: "WIRE" is not one of TRF, CHK, TRA');
  });
});
