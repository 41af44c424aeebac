// The typed model of a NACHA ACH file. Control records (8, 9) and padding are not stored:
// they are derived from the batches when writing and checked against them when reading.

/** Every record is exactly this many characters. */
export const recordLength = 94;
/** Records per block; the last block is filled with all-'9' records. */
export const blockingFactor = 10;
/** Largest file the reader and writer accept, in records (≈ 94 MB); the format allows 9,999,990. */
export const fileRecordsMax = 1_000_000;
/** Largest amount of one entry: 10 digits of cents, $99,999,999.99. */
export const entryAmountMinorMax = 9_999_999_999n;
/** Largest batch or file total: 12 digits of cents. */
export const totalAmountMinorMax = 999_999_999_999n;
/** Largest batch number: 7 digits. */
export const batchNumberMax = 9_999_999;

/** 200 mixed debits and credits, 220 credits only, 225 debits only. */
export type ServiceClassCode = "200" | "220" | "225";
export const serviceClassCodes: readonly ServiceClassCode[] = ["200", "220", "225"];

/** PPD: to a consumer's account; CCD: between companies. Both allow at most one 05 addenda per entry. */
export type SecCode = "PPD" | "CCD";
export const secCodes: readonly SecCode[] = ["PPD", "CCD"];

/**
 * First digit: 2 checking, 3 savings. Second: 2 credit, 7 debit, 3/8 prenote credit/debit
 * (zero amount), 1/6 return of a credit/debit.
 */
export type TransactionCode = "21" | "22" | "23" | "26" | "27" | "28" | "31" | "32" | "33" | "36" | "37" | "38";
export const transactionCodes: readonly TransactionCode[] = ["21", "22", "23", "26", "27", "28", "31", "32", "33", "36", "37", "38"];

/** Credits carry a second digit 0-4, debits 5-9; a return of a debit is counted as a debit. */
export function isCredit(code: TransactionCode): boolean {
  return Number(code[1]) <= 4;
}

export function isPrenote(code: TransactionCode): boolean {
  return code[1] === "3" || code[1] === "8";
}

export function isReturn(code: TransactionCode): boolean {
  return code[1] === "1" || code[1] === "6";
}

export interface FileHeader {
  /** 9-digit routing number of the receiving point (the ACH Operator or bank). */
  immediateDestination: string;
  /** 9-digit routing number (written with a leading space) or a 10-character id such as "1" + EIN. */
  immediateOrigin: string;
  /** YYMMDD */
  fileCreationDate: string;
  /** HHMM */
  fileCreationTime: string;
  /** A-Z or 0-9: tells apart files created on the same date for the same destination. */
  fileIdModifier: string;
  immediateDestinationName: string;
  immediateOriginName: string;
  referenceCode: string;
}

export interface BatchHeader {
  serviceClassCode: ServiceClassCode;
  companyName: string;
  companyDiscretionaryData: string;
  /** 10 characters, usually "1" + the originator's EIN. */
  companyIdentification: string;
  secCode: SecCode;
  /** Shown on the receiver's statement, e.g. "PAYROLL". */
  companyEntryDescription: string;
  companyDescriptiveDate: string;
  /** YYMMDD: the banking day the originator intends the entries to settle. */
  effectiveEntryDate: string;
  /** Julian day filled in by the ACH Operator; blank when originating. */
  settlementDate: string;
  /** "1" for a depository financial institution. */
  originatorStatusCode: string;
  /** First 8 digits of the originating DFI's routing number; every trace number starts with it. */
  odfiIdentification: string;
  batchNumber: number;
}

export interface PaymentAddenda {
  typeCode: "05";
  paymentRelatedInformation: string;
}

export interface ReturnAddenda {
  typeCode: "99";
  /** R01, R02, …: see return-codes.ts. */
  returnCode: string;
  originalTraceNumber: string;
  /** YYMMDD, only for R14/R15 (death); blank otherwise. */
  dateOfDeath: string;
  /** First 8 digits of the original entry's receiving DFI. */
  originalReceivingDfi: string;
  addendaInformation: string;
}

export type Addenda = PaymentAddenda | ReturnAddenda;

export interface EntryDetail {
  transactionCode: TransactionCode;
  /** Full 9-digit routing number; written as 8-digit DFI id + check digit. */
  receivingDfiRoutingNumber: string;
  dfiAccountNumber: string;
  /** Cents. Zero for prenotes. */
  amountMinor: bigint;
  identificationNumber: string;
  /** Individual name (PPD) or receiving company name (CCD). */
  receiverName: string;
  discretionaryData: string;
  /** 15 digits: the ODFI's 8-digit id + a 7-digit sequence, ascending within the batch. */
  traceNumber: string;
  /** The addenda indicator and addenda sequence numbers are derived from this list. */
  addenda: Addenda[];
}

export interface Batch {
  header: BatchHeader;
  entries: EntryDetail[];
}

export interface NachaFile {
  header: FileHeader;
  batches: Batch[];
}

/** Totals carried by a batch control (8) or the file control (9) record. */
export interface ControlTotals {
  entryAddendaCount: number;
  /** The 10 low-order digits of the sum of 8-digit receiving DFI ids. */
  entryHash: bigint;
  totalDebitMinor: bigint;
  totalCreditMinor: bigint;
}
