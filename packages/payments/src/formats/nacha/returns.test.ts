import { describe, expect, it } from "vitest";
import { NachaError } from "./errors.js";
import { sampleFile, sampleReturnFile } from "./fixtures.js";
import type { EntryDetail } from "./model.js";
import { parseNachaFile } from "./read.js";
import { isReturnCode } from "./return-codes.js";
import { createReturnEntry, returnTransactionCode } from "./returns.js";
import { renderNachaFile } from "./write.js";

const original = (batch: number, entry: number): EntryDetail => {
  const found = sampleFile().batches[batch]?.entries[entry];
  if (!found) throw new Error("fixture entry missing");
  return found;
};

describe("return entries", () => {
  it("builds an R03 return of a credit, addressed to the original ODFI", () => {
    const entry = createReturnEntry({ original: original(0, 0), returnCode: "R03", traceNumber: "231380100000001" });
    expect(entry).toMatchObject({
      transactionCode: "21",
      receivingDfiRoutingNumber: "121042882",
      dfiAccountNumber: "12345678",
      amountMinor: 150_000n,
      traceNumber: "231380100000001",
    });
    expect(entry.addenda).toEqual([
      {
        typeCode: "99",
        returnCode: "R03",
        originalTraceNumber: "121042880000001",
        dateOfDeath: "",
        originalReceivingDfi: "23138010",
        addendaInformation: "",
      },
    ]);
  });

  it("round-trips a return file holding R01 and R03 returns", () => {
    const text = renderNachaFile(sampleReturnFile());
    const parsed = parseNachaFile(text);
    expect(parsed).toEqual(sampleReturnFile());
    const returns = parsed.batches.flatMap((b) => b.entries.map((e) => [e.transactionCode, e.addenda[0]]));
    expect(returns).toEqual([
      ["21", expect.objectContaining({ returnCode: "R03", originalTraceNumber: "121042880000001" })],
      ["36", expect.objectContaining({ returnCode: "R01", originalTraceNumber: "121042880000005", addendaInformation: "NSF" })],
    ]);
    // The 99 addenda sits at the positions NACHA gives: code 4-6, original trace 7-21, original RDFI 28-35, trace 80-94.
    const addenda = text.split("\n")[3] ?? "";
    expect([addenda.slice(0, 3), addenda.slice(3, 6), addenda.slice(6, 21), addenda.slice(27, 35), addenda.slice(79)]).toEqual([
      "799",
      "R03",
      "121042880000001",
      "23138010",
      "231380100000001",
    ]);
  });

  it("maps a credit to code x1 and a debit to x6, keeping the account type", () => {
    expect(["22", "23", "27", "28", "32", "37"].map((c) => returnTransactionCode(c as EntryDetail["transactionCode"]))).toEqual([
      "21",
      "21",
      "26",
      "26",
      "31",
      "36",
    ]);
  });

  it("rejects unknown R-codes, R14 without a date of death and a trace from another bank", () => {
    const build = (input: Partial<Parameters<typeof createReturnEntry>[0]>) => () =>
      createReturnEntry({ original: original(0, 0), returnCode: "R01", traceNumber: "231380100000001", ...input });
    expect(build({ returnCode: "R99" as "R01" })).toThrow(/not an ACH return code/);
    expect(build({ returnCode: "R14" })).toThrow(/date of death/);
    expect(build({ returnCode: "R14", dateOfDeath: "261101" })).not.toThrow();
    expect(build({ traceNumber: "121042880000009" })).toThrow(NachaError);
  });

  it("reads a 99 addenda with an unknown R-code as a malformed file", () => {
    const lines = renderNachaFile(sampleReturnFile()).split("\n");
    lines[3] = `${(lines[3] ?? "").slice(0, 3)}R00${(lines[3] ?? "").slice(6)}`;
    expect(() => parseNachaFile(lines.join("\n"))).toThrow(expect.objectContaining({ code: "field", line: 4, recordType: "7" }));
  });

  it("knows no R-code outside NACHA's table", () => {
    expect(isReturnCode("R48")).toBe(false);
  });
});
