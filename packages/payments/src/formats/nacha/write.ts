// Model → fixed-width NACHA text: validates the model, derives the control records and the addenda
// sequence numbers, and pads the last block with all-'9' records.

import { NachaError } from "./errors.js";
import {
  batchControlLayout,
  batchHeaderLayout,
  entryDetailLayout,
  FieldProblem,
  type FieldSpec,
  type FieldValues,
  fileControlLayout,
  fileHeaderLayout,
  paymentAddendaLayout,
  renderRecord,
  returnAddendaLayout,
} from "./fields.js";
import {
  type Addenda,
  type Batch,
  blockingFactor,
  type ControlTotals,
  type EntryDetail,
  fileRecordsMax,
  type NachaFile,
  recordLength,
  totalAmountMinorMax,
} from "./model.js";
import {
  batchHeaderProblem,
  batchTotals,
  entryInBatchProblem,
  entryProblem,
  fileHeaderProblem,
  type Problem,
  recordCount,
  sumTotals,
} from "./rules.js";

export const paddingRecord = "9".repeat(recordLength);

/** Renders a file, one record per line ending in "\n". Throws NachaError (with a model path) on a bad model. */
export function renderNachaFile(file: NachaFile): string {
  const records = renderRecords(file);
  return `${records.join("\n")}\n`;
}

/** The records of a file, padding included; the count is always a multiple of the blocking factor. */
export function renderRecords(file: NachaFile): string[] {
  check(fileHeaderProblem(file.header), "header");
  if (file.batches.length === 0) throw new NachaError("record_order", "a file holds at least one batch", { path: "batches" });
  const totalsByBatch = file.batches.map((b) => batchTotals(b.entries));
  const unpadded = recordCount(totalsByBatch);
  if (unpadded > fileRecordsMax)
    throw new NachaError("too_large", `${unpadded} records exceed the limit of ${fileRecordsMax}`, { path: "batches" });
  const records = [render(fileHeaderLayout, fileHeaderValues(file), "header")];
  let previousBatchNumber = 0;
  for (const [i, batch] of file.batches.entries()) {
    const path = `batches[${i}]`;
    if (batch.header.batchNumber <= previousBatchNumber) {
      throw new NachaError("record_order", "batch numbers must ascend through the file", { path: `${path}.header.batchNumber` });
    }
    previousBatchNumber = batch.header.batchNumber;
    records.push(...renderBatch(batch, totalsByBatch[i] as ControlTotals, path));
  }
  const totals = sumTotals(totalsByBatch);
  checkTotals(totals, "file");
  const blockCount = Math.ceil((records.length + 1) / blockingFactor);
  records.push(
    render(
      fileControlLayout,
      { batchCount: String(file.batches.length), blockCount: String(blockCount), ...totalValues(totals) },
      "file control",
    ),
  );
  while (records.length % blockingFactor !== 0) records.push(paddingRecord);
  return records;
}

function renderBatch(batch: Batch, totals: ControlTotals, path: string): string[] {
  const h = batch.header;
  check(batchHeaderProblem(h), `${path}.header`);
  if (batch.entries.length === 0) throw new NachaError("record_order", "a batch holds at least one entry", { path: `${path}.entries` });
  const records = [render(batchHeaderLayout, { ...h, batchNumber: String(h.batchNumber) }, `${path}.header`)];
  let previousTrace: string | undefined;
  for (const [j, entry] of batch.entries.entries()) {
    const entryPath = `${path}.entries[${j}]`;
    check(entryProblem(entry) ?? entryInBatchProblem(entry, h, previousTrace), entryPath);
    previousTrace = entry.traceNumber;
    records.push(render(entryDetailLayout, entryValues(entry), entryPath));
    for (const [k, addenda] of entry.addenda.entries()) {
      const layout = addenda.typeCode === "05" ? paymentAddendaLayout : returnAddendaLayout;
      records.push(render(layout, addendaValues(addenda, k, entry), `${entryPath}.addenda[${k}]`));
    }
  }
  checkTotals(totals, path);
  const control = { ...totalValues(totals), serviceClassCode: h.serviceClassCode, companyIdentification: h.companyIdentification };
  records.push(
    render(
      batchControlLayout,
      { ...control, odfiIdentification: h.odfiIdentification, batchNumber: String(h.batchNumber) },
      `${path}.control`,
    ),
  );
  return records;
}

function fileHeaderValues(file: NachaFile): FieldValues {
  const h = file.header;
  return {
    ...h,
    immediateDestination: ` ${h.immediateDestination}`,
    immediateOrigin: h.immediateOrigin.length === 9 ? ` ${h.immediateOrigin}` : h.immediateOrigin,
  };
}

function entryValues(e: EntryDetail): FieldValues {
  return {
    transactionCode: e.transactionCode,
    receivingDfiIdentification: e.receivingDfiRoutingNumber.slice(0, 8),
    checkDigit: e.receivingDfiRoutingNumber.slice(8),
    dfiAccountNumber: e.dfiAccountNumber,
    amount: e.amountMinor.toString(),
    identificationNumber: e.identificationNumber,
    receiverName: e.receiverName,
    discretionaryData: e.discretionaryData,
    addendaRecordIndicator: e.addenda.length > 0 ? "1" : "0",
    traceNumber: e.traceNumber,
  };
}

function addendaValues(a: Addenda, index: number, e: EntryDetail): FieldValues {
  if (a.typeCode === "99") return { ...a, traceNumber: e.traceNumber };
  return {
    paymentRelatedInformation: a.paymentRelatedInformation,
    addendaSequenceNumber: String(index + 1),
    entryDetailSequenceNumber: e.traceNumber.slice(-7),
  };
}

function totalValues(t: ControlTotals): FieldValues {
  return {
    entryAddendaCount: String(t.entryAddendaCount),
    entryHash: t.entryHash.toString(),
    totalDebit: t.totalDebitMinor.toString(),
    totalCredit: t.totalCreditMinor.toString(),
  };
}

function checkTotals(t: ControlTotals, path: string): void {
  if (t.totalDebitMinor > totalAmountMinorMax || t.totalCreditMinor > totalAmountMinorMax) {
    throw new NachaError("too_large", `totals exceed ${totalAmountMinorMax} cents, the 12 digits a control record holds`, { path });
  }
}

function check(found: Problem | undefined, path: string): void {
  if (found) throw new NachaError(found.code, found.reason, { path: `${path}.${found.field}` });
}

function render(layout: readonly FieldSpec[], values: FieldValues | object, path: string): string {
  try {
    return renderRecord(layout, values as FieldValues);
  } catch (error) {
    if (error instanceof FieldProblem) throw new NachaError("field", error.reason, { path: `${path}.${error.field}` });
    throw error;
  }
}
