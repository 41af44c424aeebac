import { describe, expect, it } from "vitest";
import { pacs002Example } from "./fixtures.js";
import { type Pacs002, parsePacs002, renderPacs002 } from "./pacs002.js";
import { Iso20022Error } from "./violations.js";
import { validateAgainstXsd } from "./xsd-validate.js";

const examples: Record<string, Pacs002> = {
  "group and transaction statuses with reasons (ACSC, RJCT AC04/AM04, PDNG, ACCP)": pacs002Example,
  "header only": { messageId: "STS-EMPTY", createdAt: "2026-03-02T10:20:00.123+02:00" },
  "a reject with special characters in the additional information": {
    messageId: "STS-2",
    createdAt: "2026-03-02T10:20:00Z",
    transactions: [
      {
        originalEndToEndId: "E2E<&>",
        status: "RJCT",
        statusReasons: [{ reason: { code: "AM04" }, additionalInformation: ["balance < amount & fees"] }],
      },
    ],
  },
};

describe("pacs.002.001.10", () => {
  for (const [name, model] of Object.entries(examples)) {
    it(`round-trips and validates against the XSD: ${name}`, async () => {
      const xml = renderPacs002(model);
      expect(parsePacs002(xml)).toEqual(model);
      const result = await validateAgainstXsd(xml, "pacs.002.001.10");
      expect(result.errors).toEqual([]);
      expect(result.valid).toBe(true);
    });
  }

  it("rejects a status outside the ISO code list when parsing", () => {
    const xml = renderPacs002(pacs002Example).replace("<TxSts>PDNG</TxSts>", "<TxSts>PNDG</TxSts>");
    expect(() => parsePacs002(xml)).toThrow(Iso20022Error);
    expect(() => parsePacs002(xml)).toThrow(/TxInfAndSts\[2\]\/TxSts: "PNDG" is not one of/);
  });

  it("fails XSD validation when a reason code is longer than four characters", async () => {
    const xml = renderPacs002(pacs002Example).replace("<Cd>AC04</Cd>", "<Cd>AC04X</Cd>");
    const result = await validateAgainstXsd(xml, "pacs.002.001.10");
    expect(result.valid).toBe(false);
    expect(result.errors.join("\n")).toMatch(/Cd.*maxLength/);
  });
});
