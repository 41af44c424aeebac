// Return entries: the RDFI sends an original entry back to its ODFI with a 99 addenda and an R-code.

import { abaCheckDigit } from "../../aba.js";
import { NachaError } from "./errors.js";
import type { EntryDetail, TransactionCode } from "./model.js";
import { isCredit, isReturn } from "./model.js";
import type { ReturnCode } from "./return-codes.js";
import { entryProblem } from "./rules.js";

export interface ReturnEntryInput {
  original: EntryDetail;
  returnCode: ReturnCode;
  /** The return's own trace number: the returning DFI's 8-digit id (the original RDFI) + a 7-digit sequence. */
  traceNumber: string;
  /** YYMMDD, required for R14 and R15 only. */
  dateOfDeath?: string;
  addendaInformation?: string;
}

/**
 * Builds the return of an original entry. The return carries the original's account, amount,
 * id and name; it is addressed to the original ODFI, whose id opens the original trace number.
 */
export function createReturnEntry(input: ReturnEntryInput): EntryDetail {
  const { original } = input;
  if (isReturn(original.transactionCode)) {
    throw new NachaError("field", "a return entry cannot itself be returned here (dishonoured returns are not supported)", {
      path: "original.transactionCode",
    });
  }
  const originalRdfi = original.receivingDfiRoutingNumber.slice(0, 8);
  if (!input.traceNumber.startsWith(originalRdfi)) {
    throw new NachaError("field", `a return's trace number starts with the returning DFI ${originalRdfi}`, { path: "traceNumber" });
  }
  const originalOdfi = original.traceNumber.slice(0, 8);
  const entry: EntryDetail = {
    transactionCode: returnTransactionCode(original.transactionCode),
    receivingDfiRoutingNumber: originalOdfi + abaCheckDigit(originalOdfi),
    dfiAccountNumber: original.dfiAccountNumber,
    amountMinor: original.amountMinor,
    identificationNumber: original.identificationNumber,
    receiverName: original.receiverName,
    discretionaryData: original.discretionaryData,
    traceNumber: input.traceNumber,
    addenda: [
      {
        typeCode: "99",
        returnCode: input.returnCode,
        originalTraceNumber: original.traceNumber,
        dateOfDeath: input.dateOfDeath ?? "",
        originalReceivingDfi: originalRdfi,
        addendaInformation: input.addendaInformation ?? "",
      },
    ],
  };
  const found = entryProblem(entry);
  if (found) throw new NachaError(found.code, found.reason, { path: found.field });
  return entry;
}

/** Same account type, second digit 1 for a returned credit (or credit prenote) and 6 for a debit. */
export function returnTransactionCode(original: TransactionCode): TransactionCode {
  return `${original[0]}${isCredit(original) ? "1" : "6"}` as TransactionCode;
}
