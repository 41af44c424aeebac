// The messages that answer a credit transfer: pacs.002 status reports, pacs.004 returns and
// NACHA return files. Shared by buildReturn (we return a payment) and the simulated network
// (the other bank answers ours). Each names the paymentId through transactionIds() (ISO) or
// the 99 addenda's information field (NACHA), so readNetworkReply can map it back.
import { formatMoney } from "@qenex/platform";
import { abaCheckDigit } from "../aba.js";
import type { PaymentRecord } from "../domain/payment.js";
import * as iso20022 from "../formats/iso20022/index.js";
import { throwIfAny } from "../formats/iso20022/violations.js";
import * as nacha from "../formats/nacha/index.js";
import type { Rail } from "../validation/rails.js";
import { hhmm, isoDate, isoSeconds, transactionIds, yymmdd } from "./ids.js";
import { reasonTitle } from "./reasons.js";
import type { WireMessage } from "./types.js";

/** NACHA file header reference code of a return made before settlement (the network's reject). */
export const achRejectReferenceCode = "REJECTS";
export const achReturnReferenceCode = "RETURNS";

/** What a reply needs to know about the payment it answers. */
export interface ReplySubject {
  readonly rail: Rail;
  readonly paymentId: string;
  readonly uetr?: string;
  readonly amount: iso20022.Money;
  readonly originalMessageId: string;
  /** "pacs.008.001.08" or "MT103". */
  readonly originalMessageNameId: string;
  readonly originalEndToEndId: string;
  readonly instructingAgent?: iso20022.Agent;
  readonly instructedAgent?: iso20022.Agent;
}

export type ReplyStatus = "ACSP" | "ACSC" | "RJCT";

export interface StatusReportOptions {
  readonly messageId: string;
  readonly now: Date;
  readonly status: ReplyStatus;
  /** Required with RJCT. */
  readonly reasonCode?: string;
}

function reasons(code: string | undefined): iso20022.StatusReason[] | undefined {
  if (code === undefined || code === "") return undefined;
  const title = reasonTitle(code);
  return [{ reason: { code }, ...(title === "" ? {} : { additionalInformation: [title] }) }];
}

/** A pacs.002.001.10 with one TxInfAndSts for the subject (CBPR+ rules on SWIFT). */
export function statusReport(subject: ReplySubject, options: StatusReportOptions): WireMessage {
  if (options.status === "RJCT" && (options.reasonCode ?? "") === "") throw new Error("a rejection needs a reason code");
  const ids = transactionIds(subject.paymentId);
  const statusReasons = options.status === "RJCT" ? reasons(options.reasonCode) : undefined;
  const entry: iso20022.TransactionStatusEntry = {
    statusId: options.messageId,
    originalGroup: { messageId: subject.originalMessageId, messageNameId: subject.originalMessageNameId },
    originalInstructionId: ids.instructionId,
    originalEndToEndId: subject.originalEndToEndId,
    originalTransactionId: ids.transactionId,
    ...(subject.uetr === undefined ? {} : { originalUetr: subject.uetr }),
    status: options.status,
    ...(statusReasons === undefined ? {} : { statusReasons }),
    ...(options.status === "RJCT" ? {} : { acceptedAt: isoSeconds(options.now) }),
    ...(subject.instructingAgent === undefined ? {} : { instructingAgent: subject.instructingAgent }),
    ...(subject.instructedAgent === undefined ? {} : { instructedAgent: subject.instructedAgent }),
    originalInterbankSettlementAmount: subject.amount,
  };
  const model: iso20022.Pacs002 = { messageId: options.messageId, createdAt: isoSeconds(options.now), transactions: [entry] };
  if (subject.rail === "SWIFT") throwIfAny(iso20022.validateCbprPacs002(model));
  return { messageId: model.messageId, format: "ISO20022", messageType: "pacs.002.001.10", content: iso20022.renderPacs002(model) };
}

export interface PaymentReturnOptions {
  readonly messageId: string;
  readonly now: Date;
  readonly reasonCode: string;
}

/** A pacs.004.001.09 returning the subject in full: CBPR+ on SWIFT, Fedwire rules on FEDWIRE. */
export function paymentReturnOf(subject: ReplySubject, options: PaymentReturnOptions): WireMessage {
  const ids = transactionIds(subject.paymentId);
  const returnReasons = reasons(options.reasonCode);
  const model: iso20022.Pacs004 = {
    messageId: options.messageId,
    createdAt: isoSeconds(options.now),
    settlementMethod: subject.rail === "SWIFT" ? "INDA" : "CLRG",
    ...(subject.rail === "FEDWIRE" ? { clearingSystemCode: "FDW" } : {}),
    transactions: [
      {
        returnId: options.messageId,
        originalGroup: { messageId: subject.originalMessageId, messageNameId: subject.originalMessageNameId },
        originalInstructionId: ids.instructionId,
        originalEndToEndId: subject.originalEndToEndId,
        originalTransactionId: ids.transactionId,
        ...(subject.uetr === undefined ? {} : { originalUetr: subject.uetr }),
        originalInterbankSettlementAmount: subject.amount,
        returnedInterbankSettlementAmount: subject.amount,
        interbankSettlementDate: isoDate(options.now),
        chargeBearer: "SLEV",
        ...(subject.instructingAgent === undefined ? {} : { instructingAgent: subject.instructingAgent }),
        ...(subject.instructedAgent === undefined ? {} : { instructedAgent: subject.instructedAgent }),
        ...(returnReasons === undefined ? {} : { returnReasons }),
      },
    ],
  };
  if (subject.rail === "SWIFT") throwIfAny(iso20022.validateCbprPacs004(model));
  if (subject.rail === "FEDWIRE") throwIfAny(iso20022.validateFedwirePacs004(model));
  return { messageId: model.messageId, format: "ISO20022", messageType: "pacs.004.001.09", content: iso20022.renderPacs004(model) };
}

/** Our return of a payment we received, addressed back to the debtor's bank. */
export function paymentReturn(
  payment: PaymentRecord,
  options: PaymentReturnOptions & { readonly ourBic: string; readonly originalMessageId: string; readonly originalEndToEndId: string },
): WireMessage {
  const fedwireRail = payment.rail === "FEDWIRE";
  const agent = (bic: string, routingNumber: string): iso20022.Agent | undefined => {
    if (fedwireRail) return routingNumber === "" ? undefined : { clearingSystemMember: { systemCode: "USABA", memberId: routingNumber } };
    return bic === "" ? undefined : { bicfi: bic };
  };
  const instructingAgent = agent(options.ourBic, payment.creditor.routingNumber);
  const instructedAgent = agent(payment.debtor.bic, payment.debtor.routingNumber);
  return paymentReturnOf(
    {
      rail: payment.rail,
      paymentId: payment.paymentId,
      uetr: payment.uetr,
      amount: { currency: payment.currency, amount: formatMoney(payment.amountMinor, payment.currency) },
      originalMessageId: options.originalMessageId,
      originalMessageNameId: "pacs.008.001.08",
      originalEndToEndId: options.originalEndToEndId,
      ...(instructingAgent === undefined ? {} : { instructingAgent }),
      ...(instructedAgent === undefined ? {} : { instructedAgent }),
    },
    options,
  );
}

export interface AchReturnItem {
  readonly paymentId: string;
  readonly original: nacha.EntryDetail;
  readonly secCode: nacha.SecCode;
  /** The original batch's company id and name, echoed in the return batch. */
  readonly companyIdentification: string;
  readonly companyName: string;
}

export interface AchReturnOptions {
  readonly now: Date;
  readonly reasonCode: string;
  /** False for a return before settlement (the network rejects): the header says REJECTS. */
  readonly afterSettlement: boolean;
  readonly messageId: string;
}

/**
 * A NACHA file from the original RDFI with one return entry (R-code in the 99 addenda, whose
 * addenda information carries the paymentId), addressed to the original ODFI.
 */
export function achReturnFile(item: AchReturnItem, options: AchReturnOptions): WireMessage {
  if (!nacha.isReturnCode(options.reasonCode)) throw new Error(`"${options.reasonCode}" is not an ACH return code`);
  const rdfi = item.original.receivingDfiRoutingNumber;
  const odfi8 = item.original.traceNumber.slice(0, 8);
  const entry = nacha.createReturnEntry({
    original: item.original,
    returnCode: options.reasonCode,
    traceNumber: `${rdfi.slice(0, 8)}0000001`,
    addendaInformation: item.paymentId,
  });
  const file: nacha.NachaFile = {
    header: {
      immediateDestination: odfi8 + abaCheckDigit(odfi8),
      immediateOrigin: rdfi,
      fileCreationDate: yymmdd(options.now),
      fileCreationTime: hhmm(options.now),
      fileIdModifier: "A",
      immediateDestinationName: "",
      immediateOriginName: "",
      referenceCode: options.afterSettlement ? achReturnReferenceCode : achRejectReferenceCode,
    },
    batches: [
      {
        header: {
          serviceClassCode: "200",
          companyName: item.companyName,
          companyDiscretionaryData: "",
          companyIdentification: item.companyIdentification,
          secCode: item.secCode,
          companyEntryDescription: "RETURN",
          companyDescriptiveDate: "",
          effectiveEntryDate: yymmdd(options.now),
          settlementDate: "",
          originatorStatusCode: "1",
          odfiIdentification: rdfi.slice(0, 8),
          batchNumber: 1,
        },
        entries: [entry],
      },
    ],
  };
  return { messageId: options.messageId, format: "NACHA", messageType: "NACHA return", content: nacha.renderNachaFile(file) };
}
