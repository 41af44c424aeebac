// Fixed-width NACHA text → model. Every record, count, total, hash and the blocking are
// checked; the first problem rejects the whole file with its line, record type and reason.

import { NachaError, type NachaErrorCode, type RecordType, recordTypeNames } from "./errors.js";
import {
  atLine,
  batchControlLayout,
  batchHeaderLayout,
  entryDetailLayout,
  type FieldSpec,
  type FieldValues,
  field,
  fileControlLayout,
  fileHeaderLayout,
  paymentAddendaLayout,
  readRecord,
  returnAddendaLayout,
} from "./fields.js";
import {
  type Addenda,
  type Batch,
  type BatchHeader,
  blockingFactor,
  type ControlTotals,
  type EntryDetail,
  type FileHeader,
  fileRecordsMax,
  type NachaFile,
  recordLength,
  type SecCode,
  type ServiceClassCode,
  type TransactionCode,
} from "./model.js";
import { batchHeaderProblem, batchTotals, entryInBatchProblem, entryProblem, fileHeaderProblem, type Problem, sumTotals } from "./rules.js";
import { paddingRecord } from "./write.js";

/** Parses a whole file; lines end in "\n" or "\r\n". Throws NachaError on the first problem. */
export function parseNachaFile(text: string): NachaFile {
  if (text.length > fileRecordsMax * (recordLength + 2)) {
    throw new NachaError("too_large", `the file is longer than ${fileRecordsMax} records`, {});
  }
  const lines = text.split("\n").map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
  if (lines.at(-1) === "") lines.pop();
  if (lines.length === 0) throw new NachaError("record_order", "the file is empty", { line: 1 });
  lines.forEach((l, i) => {
    if (l.length !== recordLength) {
      const recordType = isRecordType(l[0]) ? l[0] : undefined;
      throw new NachaError("record_length", `record is ${l.length} characters, not ${recordLength}`, {
        line: i + 1,
        ...(recordType ? { recordType } : {}),
      });
    }
  });
  return new Reader(lines).file();
}

function isRecordType(c: string | undefined): c is RecordType {
  return c !== undefined && Object.hasOwn(recordTypeNames, c);
}

class Reader {
  /** 0-based index of the next unread line. */
  private next = 0;
  constructor(private readonly lines: readonly string[]) {}

  file(): NachaFile {
    if (this.peekType() !== "1") this.fail("record_order", "a file starts with a file header (1)");
    const header = this.fileHeader();
    const batches: Batch[] = [];
    const totalsByBatch: ControlTotals[] = [];
    while (this.peekType() === "5") {
      const { batch, totals } = this.batch();
      const previous = batches.at(-1);
      if (previous && batch.header.batchNumber <= previous.header.batchNumber) {
        this.fail("record_order", `batch number ${batch.header.batchNumber} does not ascend`, this.batchHeaderLine, "5");
      }
      batches.push(batch);
      totalsByBatch.push(totals);
    }
    const type = this.peekType();
    if (type !== "9") this.unexpected(type, "a batch header (5) or the file control (9)");
    if (batches.length === 0) this.fail("record_order", "a file holds at least one batch", this.next + 1, "9");
    const file = { header, batches };
    this.fileControl(file, sumTotals(totalsByBatch));
    this.padding();
    return file;
  }

  private batchHeaderLine = 0;

  private batch(): { batch: Batch; totals: ControlTotals } {
    this.batchHeaderLine = this.next + 1;
    const v = this.read(batchHeaderLayout, "5");
    const header: BatchHeader = {
      serviceClassCode: field(v, "serviceClassCode") as ServiceClassCode,
      companyName: field(v, "companyName"),
      companyDiscretionaryData: field(v, "companyDiscretionaryData"),
      companyIdentification: field(v, "companyIdentification"),
      secCode: field(v, "secCode") as SecCode,
      companyEntryDescription: field(v, "companyEntryDescription"),
      companyDescriptiveDate: field(v, "companyDescriptiveDate"),
      effectiveEntryDate: field(v, "effectiveEntryDate"),
      settlementDate: field(v, "settlementDate"),
      originatorStatusCode: field(v, "originatorStatusCode"),
      odfiIdentification: field(v, "odfiIdentification"),
      batchNumber: Number(field(v, "batchNumber")),
    };
    this.checkAt(batchHeaderProblem(header), this.batchHeaderLine, "5");
    const entries: EntryDetail[] = [];
    for (;;) {
      const type = this.peekType();
      if (type === "8") break;
      if (type === "6") {
        entries.push(this.entry(header, entries.at(-1)?.traceNumber));
        continue;
      }
      if (type === "7") this.fail("record_order", "an addenda (7) must follow an entry detail (6)", this.next + 1, type);
      if (type !== undefined && !isRecordType(type)) this.unexpected(type, "an entry detail (6) or a batch control (8)");
      const what = type === undefined ? "the end of the file" : `the ${describe(type)} record`;
      this.fail("record_order", `batch ${header.batchNumber} has no batch control (8) before ${what}`, this.next + 1, type);
    }
    if (entries.length === 0) this.fail("record_order", "a batch holds at least one entry", this.next + 1, "8");
    const totals = batchTotals(entries);
    this.batchControl(header, totals);
    return { batch: { header, entries }, totals };
  }

  private entry(header: BatchHeader, previousTrace: string | undefined): EntryDetail {
    const entryLine = this.next + 1;
    const v = this.read(entryDetailLayout, "6");
    const entry: EntryDetail = {
      transactionCode: field(v, "transactionCode") as TransactionCode,
      receivingDfiRoutingNumber: field(v, "receivingDfiIdentification") + field(v, "checkDigit"),
      dfiAccountNumber: field(v, "dfiAccountNumber"),
      amountMinor: BigInt(field(v, "amount")),
      identificationNumber: field(v, "identificationNumber"),
      receiverName: field(v, "receiverName"),
      discretionaryData: field(v, "discretionaryData"),
      traceNumber: field(v, "traceNumber"),
      addenda: [],
    };
    const indicator = field(v, "addendaRecordIndicator");
    if (indicator !== "0" && indicator !== "1") this.fail("field", "addenda record indicator must be 0 or 1", entryLine, "6");
    while (this.peekType() === "7") {
      if (indicator === "0") this.fail("record_order", "an addenda follows an entry whose addenda indicator is 0", this.next + 1, "7");
      entry.addenda.push(this.addenda(entry));
    }
    if (indicator === "1" && entry.addenda.length === 0)
      this.fail("record_order", "addenda indicator is 1 but no addenda follows", entryLine, "6");
    const found = entryProblem(entry) ?? entryInBatchProblem(entry, header, previousTrace);
    const addendaIndex = found ? /^addenda\[(\d+)\]/.exec(found.field)?.[1] : undefined;
    if (addendaIndex !== undefined) this.checkAt(found, entryLine + 1 + Number(addendaIndex), "7");
    else this.checkAt(found, entryLine, "6");
    return entry;
  }

  private addenda(entry: EntryDetail): Addenda {
    const line = this.next + 1;
    const typeCode = this.lines[this.next]?.slice(1, 3);
    if (typeCode === "05") {
      const v = this.read(paymentAddendaLayout, "7");
      if (Number(field(v, "addendaSequenceNumber")) !== entry.addenda.length + 1) {
        this.fail("field", `addenda sequence number must be ${entry.addenda.length + 1}`, line, "7");
      }
      if (field(v, "entryDetailSequenceNumber") !== entry.traceNumber.slice(-7)) {
        this.fail(
          "field",
          `entry detail sequence number must be ${entry.traceNumber.slice(-7)}, the end of the entry's trace number`,
          line,
          "7",
        );
      }
      return { typeCode: "05", paymentRelatedInformation: field(v, "paymentRelatedInformation") };
    }
    if (typeCode === "99") {
      const v = this.read(returnAddendaLayout, "7");
      if (field(v, "traceNumber") !== entry.traceNumber) this.fail("field", "a 99 addenda repeats its entry's trace number", line, "7");
      return {
        typeCode: "99",
        returnCode: field(v, "returnCode"),
        originalTraceNumber: field(v, "originalTraceNumber"),
        dateOfDeath: field(v, "dateOfDeath"),
        originalReceivingDfi: field(v, "originalReceivingDfi"),
        addendaInformation: field(v, "addendaInformation"),
      };
    }
    return this.fail("field", `addenda type code "${typeCode}" is not supported (05, 99)`, line, "7");
  }

  private batchControl(header: BatchHeader, totals: ControlTotals): void {
    const line = this.next + 1;
    const v = this.read(batchControlLayout, "8");
    const same = (name: string, expected: string, label: string) => {
      if (field(v, name) !== expected)
        this.fail("batch_control", `${label} "${field(v, name)}" differs from the batch header's "${expected}"`, line, "8");
    };
    same("serviceClassCode", header.serviceClassCode, "service class code");
    same("companyIdentification", header.companyIdentification, "company identification");
    same("odfiIdentification", header.odfiIdentification, "ODFI identification");
    same("batchNumber", String(header.batchNumber).padStart(7, "0"), "batch number");
    this.compareTotals(v, totals, line, "8", "batch_control");
  }

  private fileControl(file: NachaFile, totals: ControlTotals): void {
    const line = this.next + 1;
    if (this.lines[this.next] === paddingRecord) this.fail("record_order", "padding where the file control (9) belongs", line, "padding");
    const v = this.read(fileControlLayout, "9");
    const batchCount = Number(field(v, "batchCount"));
    if (batchCount !== file.batches.length)
      this.fail("file_control", `batch count is ${batchCount}; the file holds ${file.batches.length}`, line, "9");
    const expectedBlocks = Math.ceil(line / blockingFactor);
    const blockCount = Number(field(v, "blockCount"));
    if (blockCount !== expectedBlocks)
      this.fail("blocking", `block count is ${blockCount}; ${line} records make ${expectedBlocks}`, line, "9");
    this.compareTotals(v, totals, line, "9", "file_control");
  }

  private compareTotals(v: FieldValues, t: ControlTotals, line: number, type: RecordType, code: NachaErrorCode): void {
    const count = Number(field(v, "entryAddendaCount"));
    if (count !== t.entryAddendaCount)
      this.fail(code, `entry/addenda count is ${count}; the records hold ${t.entryAddendaCount}`, line, type);
    const hash = BigInt(field(v, "entryHash"));
    if (hash !== t.entryHash) this.fail("entry_hash", `entry hash is ${hash}; the receiving DFI ids sum to ${t.entryHash}`, line, type);
    const debit = BigInt(field(v, "totalDebit"));
    if (debit !== t.totalDebitMinor) this.fail(code, `total debit is ${debit} cents; the entries sum to ${t.totalDebitMinor}`, line, type);
    const credit = BigInt(field(v, "totalCredit"));
    if (credit !== t.totalCreditMinor)
      this.fail(code, `total credit is ${credit} cents; the entries sum to ${t.totalCreditMinor}`, line, type);
  }

  /** After the file control only all-'9' records may follow, and only up to the end of its block. */
  private padding(): void {
    const blocksEnd = Math.ceil(this.next / blockingFactor) * blockingFactor;
    for (; this.next < this.lines.length; this.next++) {
      const line = this.next + 1;
      if (this.lines[this.next] !== paddingRecord)
        this.fail("record_order", "only all-9 padding records may follow the file control", line, "padding");
      if (line > blocksEnd) this.fail("blocking", `padding runs past the end of block ${blocksEnd / blockingFactor}`, line, "padding");
    }
    if (this.lines.length !== blocksEnd) {
      this.fail(
        "blocking",
        `${this.lines.length} records are not a whole number of ${blockingFactor}-record blocks`,
        this.lines.length,
        "padding",
      );
    }
  }

  private fileHeader(): FileHeader {
    const v = this.read(fileHeaderLayout, "1");
    const destination = field(v, "immediateDestination");
    const origin = field(v, "immediateOrigin");
    if (!/^ [0-9]{9}$/.test(destination)) this.fail("field", "immediate destination must be a space and a 9-digit routing number", 1, "1");
    const header: FileHeader = {
      immediateDestination: destination.slice(1),
      immediateOrigin: /^ [0-9]{9}$/.test(origin) ? origin.slice(1) : origin,
      fileCreationDate: field(v, "fileCreationDate"),
      fileCreationTime: field(v, "fileCreationTime"),
      fileIdModifier: field(v, "fileIdModifier"),
      immediateDestinationName: field(v, "immediateDestinationName"),
      immediateOriginName: field(v, "immediateOriginName"),
      referenceCode: field(v, "referenceCode"),
    };
    this.checkAt(fileHeaderProblem(header), 1, "1");
    return header;
  }

  private read(layout: readonly FieldSpec[], type: RecordType): FieldValues {
    const line = this.next + 1;
    const record = this.lines[this.next];
    if (record === undefined) return this.fail("record_order", `the file ends where the ${describe(type)} record belongs`, line - 1, type);
    this.next++;
    try {
      return readRecord(layout, record);
    } catch (error) {
      throw atLine(error, line, type);
    }
  }

  private peekType(): string | undefined {
    return this.lines[this.next]?.[0];
  }

  private unexpected(type: string | undefined, wanted: string): never {
    if (type === undefined) return this.fail("record_order", `the file ends where ${wanted} belongs`, this.lines.length);
    const reason = isRecordType(type)
      ? `the ${describe(type)} record is out of place; expected ${wanted}`
      : `"${type}" is not a record type`;
    return this.fail(isRecordType(type) ? "record_order" : "record_type", reason, this.next + 1, type);
  }

  private checkAt(found: Problem | undefined, line: number, type: RecordType): void {
    if (found) this.fail(found.code, `${found.field}: ${found.reason}`, line, type);
  }

  private fail(code: NachaErrorCode, reason: string, line: number = this.next + 1, type?: string | "padding"): never {
    const recordType = type === "padding" || isRecordType(type) ? type : undefined;
    throw new NachaError(code, reason, { line, ...(recordType ? { recordType } : {}) });
  }
}

function describe(type: string): string {
  return isRecordType(type) ? `${recordTypeNames[type]} (${type})` : `"${type}"`;
}
