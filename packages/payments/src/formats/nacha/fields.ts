// Fixed-width field layouts of the seven record kinds, and the one writer and one reader
// that use them, so rendering and parsing cannot disagree on a position.

import { NachaError, type RecordType } from "./errors.js";
import { recordLength } from "./model.js";

/** alpha: left-justified, space-filled. numeric: right-justified, zero-filled. fixed: a constant. */
export type FieldKind = "alpha" | "numeric" | "fixed";

export interface FieldSpec {
  readonly name: string;
  /** 1-based, as NACHA numbers positions. */
  readonly start: number;
  readonly length: number;
  readonly kind: FieldKind;
  /** For fixed fields: the only value allowed. */
  readonly value?: string;
}

const f = (name: string, start: number, length: number, kind: FieldKind, value?: string): FieldSpec =>
  value === undefined ? { name, start, length, kind } : { name, start, length, kind, value };
const blank = (name: string, start: number, length: number): FieldSpec => f(name, start, length, "fixed", " ".repeat(length));

export const fileHeaderLayout: readonly FieldSpec[] = [
  f("recordType", 1, 1, "fixed", "1"),
  f("priorityCode", 2, 2, "fixed", "01"),
  f("immediateDestination", 4, 10, "alpha"),
  f("immediateOrigin", 14, 10, "alpha"),
  f("fileCreationDate", 24, 6, "numeric"),
  f("fileCreationTime", 30, 4, "numeric"),
  f("fileIdModifier", 34, 1, "alpha"),
  f("recordSize", 35, 3, "fixed", "094"),
  f("blockingFactor", 38, 2, "fixed", "10"),
  f("formatCode", 40, 1, "fixed", "1"),
  f("immediateDestinationName", 41, 23, "alpha"),
  f("immediateOriginName", 64, 23, "alpha"),
  f("referenceCode", 87, 8, "alpha"),
];

export const batchHeaderLayout: readonly FieldSpec[] = [
  f("recordType", 1, 1, "fixed", "5"),
  f("serviceClassCode", 2, 3, "numeric"),
  f("companyName", 5, 16, "alpha"),
  f("companyDiscretionaryData", 21, 20, "alpha"),
  f("companyIdentification", 41, 10, "alpha"),
  f("secCode", 51, 3, "alpha"),
  f("companyEntryDescription", 54, 10, "alpha"),
  f("companyDescriptiveDate", 64, 6, "alpha"),
  f("effectiveEntryDate", 70, 6, "numeric"),
  f("settlementDate", 76, 3, "alpha"),
  f("originatorStatusCode", 79, 1, "alpha"),
  f("odfiIdentification", 80, 8, "numeric"),
  f("batchNumber", 88, 7, "numeric"),
];

export const entryDetailLayout: readonly FieldSpec[] = [
  f("recordType", 1, 1, "fixed", "6"),
  f("transactionCode", 2, 2, "numeric"),
  f("receivingDfiIdentification", 4, 8, "numeric"),
  f("checkDigit", 12, 1, "numeric"),
  f("dfiAccountNumber", 13, 17, "alpha"),
  f("amount", 30, 10, "numeric"),
  f("identificationNumber", 40, 15, "alpha"),
  f("receiverName", 55, 22, "alpha"),
  f("discretionaryData", 77, 2, "alpha"),
  f("addendaRecordIndicator", 79, 1, "numeric"),
  f("traceNumber", 80, 15, "numeric"),
];

export const paymentAddendaLayout: readonly FieldSpec[] = [
  f("recordType", 1, 1, "fixed", "7"),
  f("addendaTypeCode", 2, 2, "fixed", "05"),
  f("paymentRelatedInformation", 4, 80, "alpha"),
  f("addendaSequenceNumber", 84, 4, "numeric"),
  f("entryDetailSequenceNumber", 88, 7, "numeric"),
];

export const returnAddendaLayout: readonly FieldSpec[] = [
  f("recordType", 1, 1, "fixed", "7"),
  f("addendaTypeCode", 2, 2, "fixed", "99"),
  f("returnCode", 4, 3, "alpha"),
  f("originalTraceNumber", 7, 15, "numeric"),
  f("dateOfDeath", 22, 6, "alpha"),
  f("originalReceivingDfi", 28, 8, "numeric"),
  f("addendaInformation", 36, 44, "alpha"),
  f("traceNumber", 80, 15, "numeric"),
];

export const batchControlLayout: readonly FieldSpec[] = [
  f("recordType", 1, 1, "fixed", "8"),
  f("serviceClassCode", 2, 3, "numeric"),
  f("entryAddendaCount", 5, 6, "numeric"),
  f("entryHash", 11, 10, "numeric"),
  f("totalDebit", 21, 12, "numeric"),
  f("totalCredit", 33, 12, "numeric"),
  f("companyIdentification", 45, 10, "alpha"),
  // Message authentication codes are not supported: the field must be blank.
  blank("messageAuthenticationCode", 55, 19),
  blank("reserved", 74, 6),
  f("odfiIdentification", 80, 8, "numeric"),
  f("batchNumber", 88, 7, "numeric"),
];

export const fileControlLayout: readonly FieldSpec[] = [
  f("recordType", 1, 1, "fixed", "9"),
  f("batchCount", 2, 6, "numeric"),
  f("blockCount", 8, 6, "numeric"),
  f("entryAddendaCount", 14, 8, "numeric"),
  f("entryHash", 22, 10, "numeric"),
  f("totalDebit", 32, 12, "numeric"),
  f("totalCredit", 44, 12, "numeric"),
  blank("reserved", 56, 39),
];

/** NACHA forbids control characters; this reader and writer keep to printable ASCII. */
const printable = /^[\x20-\x7E]*$/;
const digits = /^[0-9]*$/;

export type FieldValues = Record<string, string>;

/** Thrown by renderRecord/readRecord with the field name; the caller adds the line or path. */
export class FieldProblem extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

/** Writes one record; every non-fixed field must be given and fit its width. */
export function renderRecord(layout: readonly FieldSpec[], values: FieldValues): string {
  let out = "";
  for (const spec of layout) {
    if (spec.kind === "fixed") {
      out += spec.value;
      continue;
    }
    const value = values[spec.name];
    if (value === undefined) throw new FieldProblem(spec.name, "is missing");
    if (value.length > spec.length) throw new FieldProblem(spec.name, `"${value}" is longer than ${spec.length} characters`);
    if (spec.kind === "numeric") {
      if (!digits.test(value) || value === "") throw new FieldProblem(spec.name, `"${value}" is not a number`);
      out += value.padStart(spec.length, "0");
    } else {
      if (!printable.test(value)) throw new FieldProblem(spec.name, "holds a character outside printable ASCII");
      out += value.padEnd(spec.length, " ");
    }
  }
  if (out.length !== recordLength) throw new Error(`layout renders ${out.length} characters, not ${recordLength}`);
  return out;
}

/** Reads one record of known length: numeric fields must be all digits, alpha fields are trimmed at the end. */
export function readRecord(layout: readonly FieldSpec[], record: string): FieldValues {
  const values: FieldValues = {};
  for (const spec of layout) {
    const raw = record.slice(spec.start - 1, spec.start - 1 + spec.length);
    if (spec.kind === "fixed") {
      if (raw !== spec.value) throw new FieldProblem(spec.name, `must be "${spec.value}", found "${raw}"`);
    } else if (spec.kind === "numeric") {
      if (!digits.test(raw)) throw new FieldProblem(spec.name, `"${raw}" is not all digits`);
      values[spec.name] = raw;
    } else {
      if (!printable.test(raw)) throw new FieldProblem(spec.name, "holds a character outside printable ASCII");
      values[spec.name] = raw.trimEnd();
    }
  }
  return values;
}

/** Reads a field that readRecord has already produced. */
export function field(values: FieldValues, name: string): string {
  const value = values[name];
  if (value === undefined) throw new Error(`layout has no field ${name}`);
  return value;
}

/** Wraps a FieldProblem from one record of text into a NachaError at that line. */
export function atLine(error: unknown, line: number, recordType: RecordType): unknown {
  if (error instanceof FieldProblem) return new NachaError("field", `${error.field} ${error.reason}`, { line, recordType });
  return error;
}

/** True for a real calendar date written YYMMDD (years 2000-2099). */
export function isYymmdd(text: string): boolean {
  if (!/^[0-9]{6}$/.test(text)) return false;
  const year = 2000 + Number(text.slice(0, 2));
  const month = Number(text.slice(2, 4));
  const day = Number(text.slice(4, 6));
  if (month < 1 || month > 12 || day < 1) return false;
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

export function isHhmm(text: string): boolean {
  return /^([01][0-9]|2[0-3])[0-5][0-9]$/.test(text);
}
