// Messages that arrive from a network: credit transfers to book (parseInbound: MT103, pacs.008,
// NACHA credits) and the network's answers to ours (readNetworkReply: pacs.002, pacs.004,
// NACHA return files). A malformed message is refused whole with one InboundError.
import { parseMoney } from "@qenex/platform";
import * as iso20022 from "../formats/iso20022/index.js";
import * as mt103 from "../formats/mt103/index.js";
import * as nacha from "../formats/nacha/index.js";
import { paymentIdFrom, paymentIdPattern } from "./ids.js";
import { endToEndIdNotProvided, mt103MessageId } from "./messages.js";
import { achRejectReferenceCode } from "./replies.js";
import type { NetworkEventKind, WireMessage } from "./types.js";

/** Longest message parseInbound reads. */
export const inboundCharsMax = 4_000_000;
/** Most entries one inbound message may carry. */
export const inboundEntriesMax = 10_000;

export type InboundFormat = "MT103" | "ISO20022" | "NACHA";

export interface InboundEntry {
  /** 0-based position in the message. */
  readonly index: number;
  readonly creditorAccount: string;
  readonly creditorName: string;
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly reference: string;
  readonly debtorName: string;
}

export interface InboundMessage {
  readonly format: InboundFormat;
  readonly messageId: string;
  readonly entries: readonly InboundEntry[];
}

/** Names where the message is wrong: "line 7" (MT, NACHA) or an XML element path, and why. */
export class InboundError extends Error {
  override readonly name = "InboundError";
}

/** Recognises MT103 ("{1:"), a pacs.008 document ("<") or a NACHA file ("1" + 94-character records) and reads it. */
export function parseInbound(content: string): InboundMessage {
  if (content.length > inboundCharsMax) throw new InboundError(`message is ${content.length} characters; at most ${inboundCharsMax}`);
  const start = content.trimStart();
  let message: InboundMessage;
  if (start.startsWith("{1:")) message = readMt103(content);
  else if (start.startsWith("<")) message = readPacs008(content);
  else if (start.startsWith("101") || start.startsWith("1")) message = readNacha(content);
  else throw new InboundError("line 1: not an MT103 ({1:), an ISO 20022 document (<) nor a NACHA file (record type 1)");
  if (message.entries.length > inboundEntriesMax) {
    throw new InboundError(`message carries ${message.entries.length} entries; at most ${inboundEntriesMax}`);
  }
  return message;
}

function amountMinorOf(amount: string, currency: string, where: string): bigint {
  const parsed = parseMoney(amount, currency);
  if (!parsed.ok) throw new InboundError(`${where}: ${parsed.reason}`);
  if (parsed.amountMinor <= 0n) throw new InboundError(`${where}: amount must be positive`);
  return parsed.amountMinor;
}

/** Line of a 1-based position in text. */
function lineAt(text: string, index: number): number {
  return text.slice(0, index).split("\n").length;
}

/** The text line where block 4 field `tag` starts, for errors about values the codec accepted. */
function fieldLine(content: string, tag: string): string {
  const at = content.indexOf(`:${tag}:`);
  return at < 0 ? `field ${tag}` : `line ${lineAt(content, at)} (field ${tag})`;
}

function readMt103(content: string): InboundMessage {
  let model: mt103.Mt103Message;
  try {
    model = mt103.parseMt103(content);
  } catch (error) {
    if (error instanceof mt103.Mt103Error) throw new InboundError(`MT103 ${describeMtIssues(content, error)}`);
    throw error;
  }
  const { text } = model;
  const beneficiary = text.beneficiary;
  const ordering = text.orderingCustomer;
  const amountMinor = amountMinorOf(text.interbankSettlement.amount, text.interbankSettlement.currency, fieldLine(content, "32A"));
  return {
    format: "MT103",
    messageId: mt103MessageId(text.sendersReference, model.userHeader.uetr),
    entries: [
      {
        index: 0,
        creditorAccount: beneficiary.account ?? "",
        creditorName: beneficiary.option === "none" ? (beneficiary.nameAndAddress[0] ?? "") : "",
        amountMinor,
        currency: text.interbankSettlement.currency,
        reference: text.remittanceInformation?.join(" ") ?? text.sendersReference,
        debtorName: ordering.option === "K" ? (ordering.nameAndAddress[0] ?? "") : "",
      },
    ],
  };
}

/** Mt103Error locations say "block 4, field 32A, line 3" (line inside block 4); add the message line. */
function describeMtIssues(content: string, error: mt103.Mt103Error): string {
  const block4Line = lineAt(content, Math.max(0, content.indexOf("{4:")));
  return error.issues
    .map((issue) => {
      const match = /, line (\d+)$/.exec(issue.location);
      const where = match ? `line ${block4Line + Number(match[1])} (${issue.location})` : issue.location;
      return `${where}: ${issue.message}`;
    })
    .join("; ");
}

function readPacs008(content: string): InboundMessage {
  let model: iso20022.Pacs008;
  try {
    model = iso20022.parsePacs008(content);
  } catch (error) {
    if (error instanceof iso20022.Iso20022Error) throw new InboundError(`pacs.008 element ${error.message}`);
    throw error;
  }
  const entries = model.transactions.map((tx, index): InboundEntry => {
    const p = `FIToFICstmrCdtTrf/CdtTrfTxInf[${index}]`;
    const account = tx.creditorAccount;
    if (account === undefined) throw new InboundError(`pacs.008 element ${p}/CdtrAcct: is required to credit an account`);
    const money = tx.interbankSettlementAmount;
    const reference = tx.endToEndId === endToEndIdNotProvided ? (tx.remittanceInformation?.[0] ?? "") : tx.endToEndId;
    return {
      index,
      creditorAccount: account.kind === "iban" ? account.iban : account.id,
      creditorName: tx.creditor.name ?? "",
      amountMinor: amountMinorOf(money.amount, money.currency, `pacs.008 element ${p}/IntrBkSttlmAmt`),
      currency: money.currency,
      reference,
      debtorName: tx.debtor.name ?? "",
    };
  });
  return { format: "ISO20022", messageId: model.messageId, entries };
}

function parseNacha(content: string): nacha.NachaFile {
  try {
    return nacha.parseNachaFile(content);
  } catch (error) {
    if (error instanceof nacha.NachaError) throw new InboundError(`NACHA ${error.message}`);
    throw error;
  }
}

/** Credit entries only: a debit, prenote or return in an inbound file refuses the file, naming its line. */
function readNacha(content: string): InboundMessage {
  const file = parseNacha(content);
  const entries: InboundEntry[] = [];
  let line = 1;
  for (const batch of file.batches) {
    line += 1;
    for (const entry of batch.entries) {
      line += 1;
      const code = entry.transactionCode;
      if (!nacha.isCredit(code) || nacha.isReturn(code) || nacha.isPrenote(code)) {
        throw new InboundError(`NACHA line ${line}: transaction code ${code} is not a credit to book; inbound files carry credits only`);
      }
      entries.push({
        index: entries.length,
        creditorAccount: entry.dfiAccountNumber.trim(),
        creditorName: entry.receiverName.trim(),
        amountMinor: entry.amountMinor,
        currency: "USD",
        reference: entry.identificationNumber.trim(),
        debtorName: batch.header.companyName.trim(),
      });
      if (entries.length > inboundEntriesMax) throw new InboundError(`NACHA line ${line}: more than ${inboundEntriesMax} entries`);
      line += entry.addenda.length;
    }
    line += 1;
  }
  const h = file.header;
  return { format: "NACHA", messageId: `${h.immediateOrigin}${h.fileCreationDate}${h.fileCreationTime}${h.fileIdModifier}`, entries };
}

// --- replies to our messages ----------------------------------------------------------------

export interface NetworkReply {
  readonly kind: NetworkEventKind;
  /** The payments it answers, mapped back from OrgnlInstrId + OrgnlTxId or the 99 addenda. */
  readonly paymentIds: readonly string[];
  /** ISO status/return reason or ACH R-code; empty for an acceptance or settlement. */
  readonly reasonCode: string;
  readonly reasonText: string;
  /** OrgnlMsgId of the answered message (ISO), empty for NACHA returns. */
  readonly originalMessageId: string;
  /** OrgnlUETR (ISO) or original trace number (NACHA) of each entry, in order. */
  readonly originalReferences: readonly string[];
}

interface ReplyEntry {
  readonly kind: NetworkEventKind;
  readonly paymentId: string;
  readonly reasonCode: string;
  readonly reasonText: string;
  readonly originalMessageId: string;
  readonly originalReference: string;
}

const statusKinds: Partial<Record<iso20022.TransactionStatus, NetworkEventKind>> = {
  ACTC: "ACCEPTED",
  ACCP: "ACCEPTED",
  ACSP: "ACCEPTED",
  ACWC: "ACCEPTED",
  ACSC: "SETTLED",
  ACCC: "SETTLED",
  RJCT: "REJECTED",
};

/**
 * Reads a pacs.002, pacs.004 or NACHA return file (by messageType) and maps it back to our
 * paymentIds. Every entry must say the same thing (kind and reason): the simulator sends one
 * payment per reply; a mixed message is refused rather than summarised wrongly.
 */
export function readNetworkReply(message: WireMessage): NetworkReply {
  if (message.content.length > inboundCharsMax)
    throw new InboundError(`message is ${message.content.length} characters; at most ${inboundCharsMax}`);
  let entries: ReplyEntry[];
  if (message.messageType === "pacs.002.001.10") entries = readPacs002(message.content);
  else if (message.messageType === "pacs.004.001.09") entries = readPacs004(message.content);
  else if (message.messageType === "NACHA return") entries = readAchReturns(message.content);
  else throw new InboundError(`${message.messageType} is not a network reply (pacs.002, pacs.004 or NACHA return)`);
  const first = entries[0];
  if (first === undefined) throw new InboundError(`${message.messageType} ${message.messageId} answers no payment`);
  for (const entry of entries) {
    if (entry.kind !== first.kind || entry.reasonCode !== first.reasonCode) {
      throw new InboundError(
        `${message.messageType} ${message.messageId} mixes ${first.kind} ${first.reasonCode} with ${entry.kind} ${entry.reasonCode}`,
      );
    }
  }
  return {
    kind: first.kind,
    paymentIds: entries.map((e) => e.paymentId),
    reasonCode: first.reasonCode,
    reasonText: first.reasonText,
    originalMessageId: first.originalMessageId,
    originalReferences: entries.map((e) => e.originalReference),
  };
}

function iso<T>(what: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof iso20022.Iso20022Error) throw new InboundError(`${what} element ${error.message}`);
    throw error;
  }
}

function firstReason(reasons: readonly iso20022.StatusReason[] | undefined): { code: string; text: string } {
  const reason = reasons?.[0];
  const code = reason?.reason === undefined ? "" : "code" in reason.reason ? reason.reason.code : reason.reason.proprietary;
  return { code, text: reason?.additionalInformation?.join(" ") ?? "" };
}

function paymentIdOf(path: string, instructionId: string | undefined, transactionId: string | undefined): string {
  const paymentId = paymentIdFrom(instructionId, transactionId);
  if (paymentId === undefined) throw new InboundError(`${path}/OrgnlTxId: "${transactionId ?? ""}" does not name one of our payments`);
  return paymentId;
}

function readPacs002(content: string): ReplyEntry[] {
  const model = iso("pacs.002", () => iso20022.parsePacs002(content));
  return (model.transactions ?? []).map((tx, i) => {
    const p = `FIToFIPmtStsRpt/TxInfAndSts[${i}]`;
    const kind = tx.status === undefined ? undefined : statusKinds[tx.status];
    if (kind === undefined) throw new InboundError(`pacs.002 element ${p}/TxSts: "${tx.status ?? ""}" is not a status we act on`);
    const reason = firstReason(tx.statusReasons);
    if (kind === "REJECTED" && reason.code === "") throw new InboundError(`pacs.002 element ${p}/StsRsnInf: a rejection needs a reason`);
    return {
      kind,
      paymentId: paymentIdOf(p, tx.originalInstructionId, tx.originalTransactionId),
      reasonCode: reason.code,
      reasonText: reason.text,
      originalMessageId: tx.originalGroup?.messageId ?? model.originalGroups?.[0]?.originalMessageId ?? "",
      originalReference: tx.originalUetr ?? "",
    };
  });
}

function readPacs004(content: string): ReplyEntry[] {
  const model = iso("pacs.004", () => iso20022.parsePacs004(content));
  return model.transactions.map((tx, i) => {
    const p = `PmtRtr/TxInf[${i}]`;
    const reason = firstReason(tx.returnReasons);
    if (reason.code === "") throw new InboundError(`pacs.004 element ${p}/RtrRsnInf: a return needs a reason`);
    return {
      kind: "RETURNED",
      paymentId: paymentIdOf(p, tx.originalInstructionId, tx.originalTransactionId),
      reasonCode: reason.code,
      reasonText: reason.text,
      originalMessageId: tx.originalGroup?.messageId ?? "",
      originalReference: tx.originalUetr ?? "",
    };
  });
}

/** A header reference code of REJECTS marks returns made before settlement (the network refused). */
function readAchReturns(content: string): ReplyEntry[] {
  const file = parseNacha(content);
  const kind: NetworkEventKind = file.header.referenceCode.trim() === achRejectReferenceCode ? "REJECTED" : "RETURNED";
  let line = 1;
  const entries: ReplyEntry[] = [];
  for (const batch of file.batches) {
    line += 1;
    for (const entry of batch.entries) {
      line += 1;
      const addenda = entry.addenda[0];
      if (!nacha.isReturn(entry.transactionCode) || addenda?.typeCode !== "99") {
        throw new InboundError(`NACHA line ${line}: transaction code ${entry.transactionCode} is not a return entry`);
      }
      const paymentId = addenda.addendaInformation.trim();
      if (!paymentIdPattern.test(paymentId)) {
        throw new InboundError(`NACHA line ${line + 1}: the 99 addenda information "${paymentId}" does not name one of our payments`);
      }
      entries.push({
        kind,
        paymentId,
        reasonCode: addenda.returnCode,
        reasonText: nacha.isReturnCode(addenda.returnCode) ? nacha.returnCodes[addenda.returnCode] : "",
        originalMessageId: "",
        originalReference: addenda.originalTraceNumber,
      });
      line += entry.addenda.length;
    }
    line += 1;
  }
  return entries;
}
