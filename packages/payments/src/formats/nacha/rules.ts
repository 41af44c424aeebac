// Rules on the model that both the writer and the reader enforce. Each check returns the
// first problem or undefined; the writer reports it by model path, the reader by line.

import { isValidAbaRoutingNumber } from "../../aba.js";
import { NachaError, type NachaErrorCode } from "./errors.js";
import { isHhmm, isYymmdd } from "./fields.js";
import {
  type Addenda,
  type BatchHeader,
  batchNumberMax,
  type ControlTotals,
  type EntryDetail,
  entryAmountMinorMax,
  type FileHeader,
  isCredit,
  isPrenote,
  isReturn,
  type NachaFile,
  secCodes,
  serviceClassCodes,
  transactionCodes,
} from "./model.js";
import { isReturnCode, returnCodesWithDateOfDeath } from "./return-codes.js";

export interface Problem {
  code: NachaErrorCode;
  /** Model field at fault, relative to the record ("traceNumber") or its addenda ("addenda[0].returnCode"). */
  field: string;
  reason: string;
}

const problem = (field: string, reason: string, code: NachaErrorCode = "field"): Problem => ({ code, field, reason });
const isBlank = (text: string) => text.trim() === "";

export function fileHeaderProblem(h: FileHeader): Problem | undefined {
  if (!/^[0-9]{9}$/.test(h.immediateDestination)) return problem("immediateDestination", "must be a 9-digit routing number");
  if (!isValidAbaRoutingNumber(h.immediateDestination)) {
    return problem("immediateDestination", `routing number ${h.immediateDestination} fails its check digit`, "check_digit");
  }
  if (!/^([0-9]{9}|[0-9A-Z]{10})$/.test(h.immediateOrigin)) {
    return problem("immediateOrigin", "must be a 9-digit routing number or a 10-character id");
  }
  if (!isYymmdd(h.fileCreationDate)) return problem("fileCreationDate", `"${h.fileCreationDate}" is not a YYMMDD date`);
  if (!isHhmm(h.fileCreationTime)) return problem("fileCreationTime", `"${h.fileCreationTime}" is not an HHMM time`);
  if (!/^[A-Z0-9]$/.test(h.fileIdModifier)) return problem("fileIdModifier", "must be one character A-Z or 0-9");
  return undefined;
}

export function batchHeaderProblem(h: BatchHeader): Problem | undefined {
  if (!serviceClassCodes.includes(h.serviceClassCode)) return problem("serviceClassCode", `"${h.serviceClassCode}" is not 200, 220 or 225`);
  if (!secCodes.includes(h.secCode)) return problem("secCode", `"${h.secCode}" is not a supported SEC code (PPD, CCD)`);
  if (isBlank(h.companyName)) return problem("companyName", "is mandatory");
  if (isBlank(h.companyIdentification)) return problem("companyIdentification", "is mandatory");
  if (isBlank(h.companyEntryDescription)) return problem("companyEntryDescription", "is mandatory");
  if (!isYymmdd(h.effectiveEntryDate)) return problem("effectiveEntryDate", `"${h.effectiveEntryDate}" is not a YYMMDD date`);
  if (!/^( {3}|[0-9]{3})$|^$/.test(h.settlementDate)) return problem("settlementDate", "must be blank or a 3-digit Julian day");
  if (h.originatorStatusCode !== "1" && h.originatorStatusCode !== "2") return problem("originatorStatusCode", "must be 1 or 2");
  if (!/^[0-9]{8}$/.test(h.odfiIdentification)) return problem("odfiIdentification", "must be 8 digits");
  if (!Number.isSafeInteger(h.batchNumber) || h.batchNumber < 1 || h.batchNumber > batchNumberMax) {
    return problem("batchNumber", `must be 1 to ${batchNumberMax}`);
  }
  return undefined;
}

/** One entry on its own, and its addenda against it. */
export function entryProblem(e: EntryDetail): Problem | undefined {
  if (!transactionCodes.includes(e.transactionCode))
    return problem("transactionCode", `"${e.transactionCode}" is not a supported transaction code`);
  if (!/^[0-9]{9}$/.test(e.receivingDfiRoutingNumber)) return problem("receivingDfiRoutingNumber", "must be 9 digits");
  if (!isValidAbaRoutingNumber(e.receivingDfiRoutingNumber)) {
    return problem("checkDigit", `routing number ${e.receivingDfiRoutingNumber} fails its check digit`, "check_digit");
  }
  if (isBlank(e.dfiAccountNumber)) return problem("dfiAccountNumber", "is mandatory");
  if (e.amountMinor < 0n || e.amountMinor > entryAmountMinorMax) return problem("amountMinor", `must be 0 to ${entryAmountMinorMax} cents`);
  if (isPrenote(e.transactionCode) && e.amountMinor !== 0n) return problem("amountMinor", "a prenote carries a zero amount");
  if (isBlank(e.receiverName)) return problem("receiverName", "is mandatory");
  if (!/^[0-9]{15}$/.test(e.traceNumber)) return problem("traceNumber", "must be 15 digits");
  return addendaProblem(e);
}

function addendaProblem(e: EntryDetail): Problem | undefined {
  const returns = e.addenda.filter((a) => a.typeCode === "99");
  if (isReturn(e.transactionCode)) {
    if (returns.length !== 1 || e.addenda.length !== 1) return problem("addenda", "a return entry carries exactly one 99 addenda");
  } else {
    if (returns.length > 0) return problem("addenda", `a 99 addenda needs a return transaction code, not ${e.transactionCode}`);
    // PPD and CCD allow a single 05 addenda per entry.
    if (e.addenda.length > 1) return problem("addenda", "PPD and CCD entries carry at most one 05 addenda");
  }
  for (const [i, a] of e.addenda.entries()) {
    const found = oneAddendaProblem(a);
    if (found) return { ...found, field: `addenda[${i}].${found.field}` };
  }
  return undefined;
}

function oneAddendaProblem(a: Addenda): Problem | undefined {
  if (a.typeCode === "05") return undefined;
  if (!isReturnCode(a.returnCode)) return problem("returnCode", `"${a.returnCode}" is not an ACH return code`);
  if (!/^[0-9]{15}$/.test(a.originalTraceNumber)) return problem("originalTraceNumber", "must be 15 digits");
  if (!/^[0-9]{8}$/.test(a.originalReceivingDfi)) return problem("originalReceivingDfi", "must be 8 digits");
  const needsDeath = returnCodesWithDateOfDeath.includes(a.returnCode);
  if (needsDeath && !isYymmdd(a.dateOfDeath)) return problem("dateOfDeath", `${a.returnCode} needs a YYMMDD date of death`);
  if (!needsDeath && !isBlank(a.dateOfDeath)) return problem("dateOfDeath", `must be blank for ${a.returnCode}`);
  return undefined;
}

/** An entry against its batch header and the entry before it. */
export function entryInBatchProblem(e: EntryDetail, h: BatchHeader, previousTraceNumber: string | undefined): Problem | undefined {
  if (h.serviceClassCode === "220" && !isCredit(e.transactionCode)) {
    return problem("transactionCode", `debit ${e.transactionCode} in a credits-only (220) batch`, "batch_control");
  }
  if (h.serviceClassCode === "225" && isCredit(e.transactionCode)) {
    return problem("transactionCode", `credit ${e.transactionCode} in a debits-only (225) batch`, "batch_control");
  }
  if (!e.traceNumber.startsWith(h.odfiIdentification)) {
    return problem("traceNumber", `${e.traceNumber} does not start with the batch's ODFI ${h.odfiIdentification}`);
  }
  if (previousTraceNumber !== undefined && e.traceNumber <= previousTraceNumber) {
    return problem("traceNumber", `${e.traceNumber} does not ascend from ${previousTraceNumber}`);
  }
  return undefined;
}

/** The 10 least-significant digits of a sum of 8-digit DFI ids. */
const entryHashModulus = 10_000_000_000n;

export function batchTotals(entries: readonly EntryDetail[]): ControlTotals {
  let entryAddendaCount = 0;
  let entryHash = 0n;
  let totalDebitMinor = 0n;
  let totalCreditMinor = 0n;
  for (const [i, e] of entries.entries()) {
    entryAddendaCount += 1 + e.addenda.length;
    // Totals come before the per-entry checks when writing: a bad routing number must still be a NachaError.
    const dfi = e.receivingDfiRoutingNumber.slice(0, 8);
    if (!/^[0-9]{8}$/.test(dfi)) {
      throw new NachaError("field", "receivingDfiRoutingNumber must be 9 digits", { path: `entries[${i}].receivingDfiRoutingNumber` });
    }
    entryHash += BigInt(dfi);
    if (isCredit(e.transactionCode)) totalCreditMinor += e.amountMinor;
    else totalDebitMinor += e.amountMinor;
  }
  return { entryAddendaCount, entryHash: entryHash % entryHashModulus, totalDebitMinor, totalCreditMinor };
}

/** File totals: sums of batch totals, the entry hash again truncated to 10 digits. */
export function sumTotals(totalsByBatch: readonly ControlTotals[]): ControlTotals {
  const total: ControlTotals = { entryAddendaCount: 0, entryHash: 0n, totalDebitMinor: 0n, totalCreditMinor: 0n };
  for (const t of totalsByBatch) {
    total.entryAddendaCount += t.entryAddendaCount;
    total.entryHash = (total.entryHash + t.entryHash) % entryHashModulus;
    total.totalDebitMinor += t.totalDebitMinor;
    total.totalCreditMinor += t.totalCreditMinor;
  }
  return total;
}

export function fileTotals(file: NachaFile): ControlTotals {
  return sumTotals(file.batches.map((b) => batchTotals(b.entries)));
}

/** Records before padding: file header and control, two per batch, one per entry and addenda. */
export function recordCount(totalsByBatch: readonly ControlTotals[]): number {
  return 2 + totalsByBatch.reduce((n, t) => n + 2 + t.entryAddendaCount, 0);
}
