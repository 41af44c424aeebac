// pacs.002.001.10 FI to FI payment status report: model, check, render, parse.
import {
  type Agent,
  agentEl,
  checkAgent,
  checkCode,
  checkDateTime,
  checkMoney,
  checkOriginalGroup,
  checkPattern,
  checkReasons,
  checkText,
  defined,
  type Money,
  moneyEl,
  type OriginalGroup,
  originalGroupEl,
  type Reason,
  readAgent,
  readMoney,
  readOriginalGroup,
  readReasons,
  reasonEls,
  uetrPattern,
} from "./common.js";
import type { Violation } from "./violations.js";
import { createChecker, throwIfAny } from "./violations.js";
import {
  children,
  el,
  optEl,
  optional,
  optionalText,
  parseDocument,
  repeatedElementsMax,
  required,
  requiredText,
  serializeDocument,
  type XmlNode,
} from "./xml.js";

export const pacs002Namespace = "urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10";

/** ISO external code list ExternalPaymentTransactionStatus1Code; unknown codes are rejected. */
export type TransactionStatus =
  | "RCVD"
  | "ACTC"
  | "ACCP"
  | "ACFC"
  | "ACSP"
  | "ACSC"
  | "ACCC"
  | "ACWC"
  | "ACWP"
  | "PDNG"
  | "PART"
  | "RJCT"
  | "CANC"
  | "BLCK";
export const transactionStatuses: readonly TransactionStatus[] = [
  "RCVD",
  "ACTC",
  "ACCP",
  "ACFC",
  "ACSP",
  "ACSC",
  "ACCC",
  "ACWC",
  "ACWP",
  "PDNG",
  "PART",
  "RJCT",
  "CANC",
  "BLCK",
];

/** StsRsnInf: see Reason. */
export type StatusReason = Reason;

export interface OriginalGroupStatus {
  readonly originalMessageId: string;
  /** e.g. "pacs.008.001.08". */
  readonly originalMessageNameId: string;
  readonly originalCreatedAt?: string;
  readonly groupStatus?: TransactionStatus;
  readonly statusReasons?: readonly StatusReason[];
}

export interface TransactionStatusEntry {
  readonly statusId?: string;
  readonly originalGroup?: OriginalGroup;
  readonly originalInstructionId?: string;
  readonly originalEndToEndId?: string;
  readonly originalTransactionId?: string;
  readonly originalUetr?: string;
  readonly status?: TransactionStatus;
  readonly statusReasons?: readonly StatusReason[];
  readonly acceptedAt?: string;
  readonly instructingAgent?: Agent;
  readonly instructedAgent?: Agent;
  /** OrgnlTxRef/IntrBkSttlmAmt. */
  readonly originalInterbankSettlementAmount?: Money;
}

export interface Pacs002 {
  readonly messageId: string;
  readonly createdAt: string;
  readonly originalGroups?: readonly OriginalGroupStatus[];
  readonly transactions?: readonly TransactionStatusEntry[];
}

const root = "FIToFIPmtStsRpt";

export function checkPacs002(message: Pacs002): Violation[] {
  const c = createChecker();
  checkText(c, `${root}/GrpHdr/MsgId`, message.messageId, 35);
  checkDateTime(c, `${root}/GrpHdr/CreDtTm`, message.createdAt);
  const groups = message.originalGroups ?? [];
  const transactions = message.transactions ?? [];
  if (groups.length > repeatedElementsMax) c.add(`${root}/OrgnlGrpInfAndSts`, `more than ${repeatedElementsMax}`);
  if (transactions.length > repeatedElementsMax) c.add(`${root}/TxInfAndSts`, `more than ${repeatedElementsMax}`);
  groups.forEach((g, i) => {
    const p = `${root}/OrgnlGrpInfAndSts[${i}]`;
    checkText(c, `${p}/OrgnlMsgId`, g.originalMessageId, 35);
    checkText(c, `${p}/OrgnlMsgNmId`, g.originalMessageNameId, 35);
    checkDateTime(c, `${p}/OrgnlCreDtTm`, g.originalCreatedAt);
    checkCode(c, `${p}/GrpSts`, g.groupStatus, transactionStatuses);
    checkReasons(c, p, "StsRsnInf", g.statusReasons);
  });
  transactions.forEach((tx, i) => {
    const p = `${root}/TxInfAndSts[${i}]`;
    checkText(c, `${p}/StsId`, tx.statusId, 35);
    checkOriginalGroup(c, `${p}/OrgnlGrpInf`, tx.originalGroup);
    checkText(c, `${p}/OrgnlInstrId`, tx.originalInstructionId, 35);
    checkText(c, `${p}/OrgnlEndToEndId`, tx.originalEndToEndId, 35);
    checkText(c, `${p}/OrgnlTxId`, tx.originalTransactionId, 35);
    checkPattern(c, `${p}/OrgnlUETR`, tx.originalUetr, uetrPattern, "UETR (lowercase UUIDv4)");
    checkCode(c, `${p}/TxSts`, tx.status, transactionStatuses);
    checkReasons(c, p, "StsRsnInf", tx.statusReasons);
    checkDateTime(c, `${p}/AccptncDtTm`, tx.acceptedAt);
    checkAgent(c, `${p}/InstgAgt`, tx.instructingAgent);
    checkAgent(c, `${p}/InstdAgt`, tx.instructedAgent);
    checkMoney(c, `${p}/OrgnlTxRef/IntrBkSttlmAmt`, tx.originalInterbankSettlementAmount);
  });
  return c.violations;
}

export function renderPacs002(message: Pacs002): string {
  throwIfAny(checkPacs002(message));
  const groups = (message.originalGroups ?? []).map((g) =>
    el("OrgnlGrpInfAndSts", [
      el("OrgnlMsgId", g.originalMessageId),
      el("OrgnlMsgNmId", g.originalMessageNameId),
      optEl("OrgnlCreDtTm", g.originalCreatedAt),
      optEl("GrpSts", g.groupStatus),
      ...reasonEls("StsRsnInf", g.statusReasons),
    ]),
  );
  const transactions = (message.transactions ?? []).map((tx) =>
    el("TxInfAndSts", [
      optEl("StsId", tx.statusId),
      originalGroupEl("OrgnlGrpInf", tx.originalGroup),
      optEl("OrgnlInstrId", tx.originalInstructionId),
      optEl("OrgnlEndToEndId", tx.originalEndToEndId),
      optEl("OrgnlTxId", tx.originalTransactionId),
      optEl("OrgnlUETR", tx.originalUetr),
      optEl("TxSts", tx.status),
      ...reasonEls("StsRsnInf", tx.statusReasons),
      optEl("AccptncDtTm", tx.acceptedAt),
      agentEl("InstgAgt", tx.instructingAgent),
      agentEl("InstdAgt", tx.instructedAgent),
      tx.originalInterbankSettlementAmount === undefined
        ? undefined
        : el("OrgnlTxRef", [moneyEl("IntrBkSttlmAmt", tx.originalInterbankSettlementAmount)]),
    ]),
  );
  const header = el("GrpHdr", [el("MsgId", message.messageId), el("CreDtTm", message.createdAt)]);
  return serializeDocument(pacs002Namespace, el(root, [header, ...groups, ...transactions]));
}

export function parsePacs002(xml: string): Pacs002 {
  const message = parseDocument(xml, pacs002Namespace, root);
  const h = `${root}/GrpHdr`;
  const header = required(message, "GrpHdr", root);
  const groups = children(message, "OrgnlGrpInfAndSts", root).map((g, i) => {
    const p = `${root}/OrgnlGrpInfAndSts[${i}]`;
    return defined<OriginalGroupStatus>({
      originalMessageId: requiredText(g, "OrgnlMsgId", p),
      originalMessageNameId: requiredText(g, "OrgnlMsgNmId", p),
      originalCreatedAt: optionalText(g, "OrgnlCreDtTm", p),
      groupStatus: optionalText(g, "GrpSts", p) as TransactionStatus | undefined,
      statusReasons: readReasons(g, "StsRsnInf", p),
    });
  });
  const transactions = children(message, "TxInfAndSts", root).map((tx, i) => readEntry(tx, `${root}/TxInfAndSts[${i}]`));
  const model = defined<Pacs002>({
    messageId: requiredText(header, "MsgId", h),
    createdAt: requiredText(header, "CreDtTm", h),
    originalGroups: groups.length > 0 ? groups : undefined,
    transactions: transactions.length > 0 ? transactions : undefined,
  });
  throwIfAny(checkPacs002(model));
  return model;
}

function readEntry(tx: XmlNode, p: string): TransactionStatusEntry {
  const reference = optional(tx, "OrgnlTxRef", p);
  return defined<TransactionStatusEntry>({
    statusId: optionalText(tx, "StsId", p),
    originalGroup: readOriginalGroup(tx, "OrgnlGrpInf", p),
    originalInstructionId: optionalText(tx, "OrgnlInstrId", p),
    originalEndToEndId: optionalText(tx, "OrgnlEndToEndId", p),
    originalTransactionId: optionalText(tx, "OrgnlTxId", p),
    originalUetr: optionalText(tx, "OrgnlUETR", p),
    status: optionalText(tx, "TxSts", p) as TransactionStatus | undefined,
    statusReasons: readReasons(tx, "StsRsnInf", p),
    acceptedAt: optionalText(tx, "AccptncDtTm", p),
    instructingAgent: readAgent(tx, "InstgAgt", p),
    instructedAgent: readAgent(tx, "InstdAgt", p),
    originalInterbankSettlementAmount: reference && readMoney(reference, "IntrBkSttlmAmt", `${p}/OrgnlTxRef`),
  });
}
