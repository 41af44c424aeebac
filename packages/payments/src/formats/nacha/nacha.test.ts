import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { NachaError } from "./errors.js";
import { sampleFile, sampleReturnFile } from "./fixtures.js";
import type { EntryDetail, NachaFile } from "./model.js";
import { parseNachaFile } from "./read.js";
import { fileTotals } from "./rules.js";
import { paddingRecord, renderNachaFile } from "./write.js";

const testdata = (name: string) => new URL(`../../../testdata/nacha/${name}`, import.meta.url);
const lines = (text: string) => text.split("\n").slice(0, -1);

function catchNacha(run: () => unknown): NachaError {
  try {
    run();
  } catch (error) {
    if (error instanceof NachaError) return error;
    throw error;
  }
  throw new Error("expected a NachaError");
}

describe("writing and reading a NACHA file", () => {
  it("round-trips the model and the text", () => {
    const text = renderNachaFile(sampleFile());
    expect(parseNachaFile(text)).toEqual(sampleFile());
    expect(renderNachaFile(parseNachaFile(text))).toBe(text);
  });

  it("refuses a routing number with letters as a NachaError naming the field, not a crash", () => {
    const file = sampleFile();
    const entry = file.batches[0]?.entries[0];
    if (!entry) throw new Error("the sample file has no entry");
    entry.receivingDfiRoutingNumber = "1234567a9";
    expect(() => renderNachaFile(file)).toThrow(NachaError);
    expect(() => renderNachaFile(file)).toThrow(/receivingDfiRoutingNumber/);
  });

  it("writes every record at exactly 94 characters", () => {
    for (const line of lines(renderNachaFile(sampleFile()))) expect(line).toHaveLength(94);
  });

  it("holds a PPD batch and a CCD batch in one file", () => {
    const parsed = parseNachaFile(renderNachaFile(sampleFile()));
    expect(parsed.batches.map((b) => [b.header.secCode, b.header.serviceClassCode])).toEqual([
      ["PPD", "220"],
      ["CCD", "225"],
    ]);
    expect(parsed.batches[0]?.entries[0]?.addenda).toEqual([{ typeCode: "05", paymentRelatedInformation: "PAYROLL NOV 2026" }]);
  });

  it("writes control totals and entry hashes that match arithmetic done by hand", () => {
    const text = lines(renderNachaFile(sampleFile()));
    // Batch 1 (PPD, credits): RDFI ids 23138010 + 01110423 + 02104007 = 26352440.
    //   credits 150000 + 275050 + 0 (prenote) = 425050 cents; debits 0; 3 entries + 1 addenda = 4.
    // Batch 2 (CCD, debits): RDFI ids 02104007 + 23138010 = 25242017.
    //   debits 1234567 + 9999 = 1244566 cents; credits 0; 2 entries.
    // File: hash 26352440 + 25242017 = 51594457; debits 1244566; credits 425050; 6 entries+addenda.
    // Records: header 1 + batch 1 (1 + 4 + 1) + batch 2 (1 + 2 + 1) + control 1 = 12 → 2 blocks, 8 padding.
    // 8 | SCC 220 | count 000004 | hash 0026352440 | debits 0 | credits 425050 | company id | 25 blanks | ODFI | batch 1
    expect(text[6]).toBe(
      ["8220", "000004", "0026352440", "000000000000", "000000425050", "1234567890", " ".repeat(25), "12104288", "0000001"].join(""),
    );
    const batch2 = text[10] ?? "";
    expect(batch2.slice(0, 4)).toBe("8225");
    expect(batch2.slice(4, 10)).toBe("000002");
    expect(batch2.slice(10, 20)).toBe("0025242017");
    expect(batch2.slice(20, 32)).toBe("000001244566");
    expect(batch2.slice(32, 44)).toBe("000000000000");
    expect(text[11]).toBe(`9000002000002000000060051594457000001244566000000425050${" ".repeat(39)}`);
    expect(fileTotals(sampleFile())).toEqual({
      entryAddendaCount: 6,
      entryHash: 51594457n,
      totalDebitMinor: 1244566n,
      totalCreditMinor: 425050n,
    });
  });

  it("keeps only the 10 low-order digits of the entry hash", () => {
    // 1,000 entries to RDFI 23138010: 1000 × 23138010 = 23,138,010,000 → last 10 digits 3138010000.
    const file = sampleFile();
    const template = file.batches[1]?.entries[0] as EntryDetail;
    const entries = Array.from({ length: 1000 }, (_, i) => ({
      ...template,
      receivingDfiRoutingNumber: "231380104",
      traceNumber: `12104288${String(i + 1).padStart(7, "0")}`,
    }));
    const big: NachaFile = { header: file.header, batches: [{ header: file.batches[1]?.header ?? fail(), entries }] };
    const text = lines(renderNachaFile(big));
    expect(text[1002]?.slice(0, 1)).toBe("8");
    expect(text[1002]?.slice(10, 20)).toBe("3138010000");
    expect(parseNachaFile(renderNachaFile(big)).batches[0]?.entries).toHaveLength(1000);
  });

  it("pads the last block with all-9 records to a multiple of 10", () => {
    const text = lines(renderNachaFile(sampleFile()));
    expect(text).toHaveLength(20);
    expect(text.slice(12)).toEqual(Array(8).fill(paddingRecord));
    expect(text[11]?.slice(7, 13)).toBe("000002");
  });

  it("adds no padding when the records fill their last block exactly", () => {
    // 1 header + 1 batch header + 6 entries + 1 batch control + 1 file control = 10 records.
    const file = sampleFile();
    const template = file.batches[1]?.entries[0] as EntryDetail;
    const entries = Array.from({ length: 6 }, (_, i) => ({ ...template, traceNumber: `12104288000000${i + 1}` }));
    const text = lines(renderNachaFile({ header: file.header, batches: [{ header: file.batches[1]?.header ?? fail(), entries }] }));
    expect(text).toHaveLength(10);
    expect(text).not.toContain(paddingRecord);
    expect(text[9]?.slice(7, 13)).toBe("000001");
  });

  it("reads the published moov-io/ach PPD debit sample", () => {
    const text = readFileSync(testdata("moov-ppd-debit.ach"), "utf8");
    const file = parseNachaFile(text);
    expect(file.header.immediateOrigin).toBe("0121042882");
    expect(file.batches[0]?.header).toMatchObject({ serviceClassCode: "225", secCode: "PPD", companyEntryDescription: "REG.SALARY" });
    expect(file.batches[0]?.entries[0]).toMatchObject({
      transactionCode: "27",
      receivingDfiRoutingNumber: "231380104",
      amountMinor: 100_000_000n,
    });
    expect(renderNachaFile(file)).toBe(text);
  });

  it.each([
    ["ppd-ccd.ach", sampleFile],
    ["ppd-ccd-returns.ach", sampleReturnFile],
  ])("still writes the checked-in sample %s byte for byte", (name, build) => {
    const text = renderNachaFile(build());
    // NACHA_WRITE_SAMPLES=1 regenerates the samples after a deliberate format change.
    if (process.env.NACHA_WRITE_SAMPLES === "1") writeFileSync(testdata(name), text);
    expect(readFileSync(testdata(name), "utf8")).toBe(text);
    expect(parseNachaFile(text)).toEqual(build());
  });
});

describe("writing rejects a bad model with the field's path", () => {
  it("rejects an amount beyond 10 digits of cents", () => {
    const file = sampleFile();
    (file.batches[0]?.entries[1] as EntryDetail).amountMinor = 10_000_000_000n;
    const error = catchNacha(() => renderNachaFile(file));
    expect(error.where.path).toBe("batches[0].entries[1].amountMinor");
  });

  it("rejects a receiving DFI whose check digit is wrong", () => {
    const file = sampleFile();
    (file.batches[0]?.entries[0] as EntryDetail).receivingDfiRoutingNumber = "231380105";
    const error = catchNacha(() => renderNachaFile(file));
    expect([error.code, error.where.path]).toEqual(["check_digit", "batches[0].entries[0].checkDigit"]);
  });

  it("rejects a debit in a credits-only batch and a prenote with an amount", () => {
    const file = sampleFile();
    (file.batches[0]?.entries[1] as EntryDetail).transactionCode = "37";
    expect(catchNacha(() => renderNachaFile(file)).reason).toContain("credits-only");
    const prenote = sampleFile();
    (prenote.batches[0]?.entries[2] as EntryDetail).amountMinor = 1n;
    expect(catchNacha(() => renderNachaFile(prenote)).reason).toContain("prenote");
  });

  it("rejects text too long for its field and characters outside printable ASCII", () => {
    const file = sampleFile();
    (file.batches[0]?.entries[0] as EntryDetail).receiverName = "A NAME LONGER THAN TWENTY-TWO";
    expect(catchNacha(() => renderNachaFile(file)).where.path).toBe("batches[0].entries[0].receiverName");
    const accented = sampleFile();
    (accented.batches[0]?.entries[0] as EntryDetail).receiverName = "JOSÉ";
    expect(catchNacha(() => renderNachaFile(accented)).reason).toContain("printable ASCII");
  });

  it("rejects trace numbers that do not ascend within a batch", () => {
    const file = sampleFile();
    (file.batches[0]?.entries[1] as EntryDetail).traceNumber = "121042880000001";
    expect(catchNacha(() => renderNachaFile(file)).where.path).toBe("batches[0].entries[1].traceNumber");
  });
});

function fail(): never {
  throw new Error("fixture is missing a batch");
}
