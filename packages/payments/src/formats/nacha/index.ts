// NACHA ACH files: a typed model, written to and read from the 94-character fixed-width format.

export { NachaError, type NachaErrorCode, type RecordType, recordTypeNames } from "./errors.js";
export {
  type Addenda,
  type Batch,
  type BatchHeader,
  batchNumberMax,
  blockingFactor,
  type ControlTotals,
  type EntryDetail,
  entryAmountMinorMax,
  type FileHeader,
  fileRecordsMax,
  isCredit,
  isPrenote,
  isReturn,
  type NachaFile,
  type PaymentAddenda,
  type ReturnAddenda,
  recordLength,
  type SecCode,
  type ServiceClassCode,
  type TransactionCode,
  totalAmountMinorMax,
} from "./model.js";
export { parseNachaFile } from "./read.js";
export { isReturnCode, type ReturnCode, returnCodes } from "./return-codes.js";
export { createReturnEntry, type ReturnEntryInput, returnTransactionCode } from "./returns.js";
export { batchTotals, fileTotals } from "./rules.js";
export { paddingRecord, renderNachaFile, renderRecords } from "./write.js";
