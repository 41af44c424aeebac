import { describe, expect, it } from "vitest";
import { NachaError } from "./errors.js";
import { sampleFile } from "./fixtures.js";
import { fileRecordsMax, recordLength } from "./model.js";
import { parseNachaFile } from "./read.js";
import { paddingRecord, renderNachaFile } from "./write.js";

// The sample renders to 20 records:
//  1 file header · 2 batch header (PPD) · 3 entry 22 · 4 addenda 05 · 5 entry 32 · 6 entry 23 (prenote)
//  7 batch control · 8 batch header (CCD) · 9 entry 27 · 10 entry 37 · 11 batch control · 12 file control
//  13-20 padding
const good = renderNachaFile(sampleFile()).split("\n").slice(0, -1);

/** The sample with 1-based line `line` rewritten at 1-based position `position`. */
function patched(line: number, position: number, replacement: string): string[] {
  return good.map((l, i) => (i + 1 === line ? l.slice(0, position - 1) + replacement + l.slice(position - 1 + replacement.length) : l));
}

function rejection(lines: readonly string[]): { code: string; line: number | undefined; recordType: string | undefined; reason: string } {
  try {
    parseNachaFile(`${lines.join("\n")}\n`);
  } catch (error) {
    if (!(error instanceof NachaError)) throw error;
    return { code: error.code, line: error.line, recordType: error.recordType, reason: error.reason };
  }
  throw new Error("the file was accepted");
}

describe("reading rejects a malformed file whole, naming the line", () => {
  it("accepts the unmodified sample, with LF or CRLF line ends", () => {
    expect(parseNachaFile(`${good.join("\n")}\n`)).toEqual(sampleFile());
    expect(parseNachaFile(`${good.join("\r\n")}\r\n`)).toEqual(sampleFile());
  });

  it("rejects a record of the wrong length", () => {
    expect(rejection(good.map((l, i) => (i === 4 ? l.slice(0, -1) : l)))).toMatchObject({
      code: "record_length",
      line: 5,
      recordType: "6",
    });
    expect(rejection(good.map((l, i) => (i === 11 ? `${l} ` : l)))).toMatchObject({ code: "record_length", line: 12, recordType: "9" });
  });

  it("rejects a batch control whose totals or count disagree with its entries", () => {
    expect(rejection(patched(7, 33, "000000425051"))).toMatchObject({
      code: "batch_control",
      line: 7,
      recordType: "8",
      reason: "total credit is 425051 cents; the entries sum to 425050",
    });
    expect(rejection(patched(11, 21, "000001244567"))).toMatchObject({
      code: "batch_control",
      line: 11,
      reason: expect.stringContaining("total debit"),
    });
    expect(rejection(patched(7, 5, "000005"))).toMatchObject({
      code: "batch_control",
      line: 7,
      reason: expect.stringContaining("entry/addenda count"),
    });
  });

  it("rejects a file control whose totals or counts disagree with the batches", () => {
    expect(rejection(patched(12, 32, "000001244560"))).toMatchObject({ code: "file_control", line: 12, recordType: "9" });
    expect(rejection(patched(12, 2, "000003"))).toMatchObject({
      code: "file_control",
      line: 12,
      reason: expect.stringContaining("batch count"),
    });
    expect(rejection(patched(12, 8, "000003"))).toMatchObject({
      code: "blocking",
      line: 12,
      reason: expect.stringContaining("block count"),
    });
  });

  it("rejects a wrong entry hash in a batch control or the file control", () => {
    expect(rejection(patched(11, 11, "0025242018"))).toMatchObject({ code: "entry_hash", line: 11, recordType: "8" });
    expect(rejection(patched(12, 22, "0051594458"))).toMatchObject({ code: "entry_hash", line: 12, recordType: "9" });
  });

  it("rejects a receiving DFI whose check digit is wrong", () => {
    // RDFI 02104007 has check digit 8; 9 is wrong.
    const error = rejection(patched(9, 12, "9"));
    expect(error).toMatchObject({ code: "check_digit", line: 9, recordType: "6", reason: expect.stringContaining("021040079") });
  });

  it("rejects a batch with no batch control, at the record found in its place", () => {
    expect(rejection(good.filter((_, i) => i !== 6))).toMatchObject({
      code: "record_order",
      line: 7,
      recordType: "5",
      reason: "batch 1 has no batch control (8) before the batch header (5) record",
    });
    expect(rejection(good.filter((_, i) => i !== 10))).toMatchObject({ code: "record_order", line: 11, recordType: "9" });
  });

  it("rejects a file whose padding is short, too long or not all 9s", () => {
    expect(rejection(good.slice(0, -1))).toMatchObject({ code: "blocking", line: 19, recordType: "padding" });
    expect(rejection([...good, ...Array(10).fill(paddingRecord)])).toMatchObject({ code: "blocking", line: 21 });
    expect(rejection(good.map((l, i) => (i === 15 ? `${"9".repeat(93)}8` : l)))).toMatchObject({ code: "record_order", line: 16 });
    expect(rejection(good.filter((_, i) => i !== 11))).toMatchObject({
      code: "record_order",
      line: 12,
      reason: expect.stringContaining("file control"),
    });
  });

  it("rejects unknown record types, records out of order and non-numeric numeric fields", () => {
    expect(rejection(patched(5, 1, "X"))).toMatchObject({ code: "record_type", line: 5 });
    expect(rejection([good[0] ?? "", good[2] ?? "", ...good.slice(2)])).toMatchObject({ code: "record_order", line: 2, recordType: "6" });
    expect(rejection(patched(5, 30, "A"))).toMatchObject({
      code: "field",
      line: 5,
      recordType: "6",
      reason: expect.stringContaining("amount"),
    });
  });

  it("rejects addenda that do not match the entry's addenda indicator", () => {
    expect(rejection(patched(3, 79, "0"))).toMatchObject({ code: "record_order", line: 4, recordType: "7" });
    expect(rejection(patched(5, 79, "1"))).toMatchObject({ code: "record_order", line: 5, recordType: "6" });
  });

  it("rejects a control record that names another batch than its header", () => {
    expect(rejection(patched(7, 2, "200"))).toMatchObject({
      code: "batch_control",
      line: 7,
      reason: expect.stringContaining("service class"),
    });
    expect(rejection(patched(11, 88, "0000003"))).toMatchObject({
      code: "batch_control",
      line: 11,
      reason: expect.stringContaining("batch number"),
    });
  });

  it("says where the problem is in the message", () => {
    expect(() => parseNachaFile(`${patched(7, 33, "000000425051").join("\n")}\n`)).toThrow(
      "line 7 (batch control, type 8): total credit is 425051 cents; the entries sum to 425050",
    );
  });

  it("rejects a file beyond the record limit before reading it", () => {
    const text = "9".repeat((fileRecordsMax + 1) * (recordLength + 2));
    expect(() => parseNachaFile(text)).toThrow(expect.objectContaining({ code: "too_large" }));
  });
});
