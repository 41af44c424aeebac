// pacs.004.001.09 payment return: model, check, render, parse.
import {
  type Agent,
  agentEl,
  type ChargeBearer,
  chargeBearers,
  checkAgent,
  checkCode,
  checkCount,
  checkDate,
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
  readRequiredMoney,
  reasonEls,
  uetrPattern,
} from "./common.js";
import { type SettlementMethod, settlementMethods } from "./pacs008.js";
import { createChecker, throwIfAny, type Violation } from "./violations.js";
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

export const pacs004Namespace = "urn:iso:std:iso:20022:tech:xsd:pacs.004.001.09";

/** RtrRsnInf: see Reason. */
export type ReturnReason = Reason;

export interface ReturnedTransaction {
  readonly returnId?: string;
  readonly originalGroup?: OriginalGroup;
  readonly originalInstructionId?: string;
  readonly originalEndToEndId?: string;
  readonly originalTransactionId?: string;
  readonly originalUetr?: string;
  readonly originalInterbankSettlementAmount?: Money;
  readonly returnedInterbankSettlementAmount: Money;
  readonly interbankSettlementDate?: string;
  readonly chargeBearer?: ChargeBearer;
  readonly instructingAgent?: Agent;
  readonly instructedAgent?: Agent;
  readonly returnReasons?: readonly ReturnReason[];
}

/** NbOfTxs is derived from transactions.length, never stored. */
export interface Pacs004 {
  readonly messageId: string;
  readonly createdAt: string;
  readonly settlementMethod: SettlementMethod;
  readonly clearingSystemCode?: string;
  readonly transactions: readonly ReturnedTransaction[];
}

const root = "PmtRtr";

export function checkPacs004(message: Pacs004): Violation[] {
  const c = createChecker();
  checkText(c, `${root}/GrpHdr/MsgId`, message.messageId, 35);
  checkDateTime(c, `${root}/GrpHdr/CreDtTm`, message.createdAt);
  checkCode(c, `${root}/GrpHdr/SttlmInf/SttlmMtd`, message.settlementMethod, settlementMethods);
  checkText(c, `${root}/GrpHdr/SttlmInf/ClrSys/Cd`, message.clearingSystemCode, 3);
  if (message.transactions.length > repeatedElementsMax) c.add(`${root}/TxInf`, `more than ${repeatedElementsMax}`);
  message.transactions.forEach((tx, i) => {
    const p = `${root}/TxInf[${i}]`;
    checkText(c, `${p}/RtrId`, tx.returnId, 35);
    checkOriginalGroup(c, `${p}/OrgnlGrpInf`, tx.originalGroup);
    checkText(c, `${p}/OrgnlInstrId`, tx.originalInstructionId, 35);
    checkText(c, `${p}/OrgnlEndToEndId`, tx.originalEndToEndId, 35);
    checkText(c, `${p}/OrgnlTxId`, tx.originalTransactionId, 35);
    checkPattern(c, `${p}/OrgnlUETR`, tx.originalUetr, uetrPattern, "UETR (lowercase UUIDv4)");
    checkMoney(c, `${p}/OrgnlIntrBkSttlmAmt`, tx.originalInterbankSettlementAmount);
    checkMoney(c, `${p}/RtrdIntrBkSttlmAmt`, tx.returnedInterbankSettlementAmount);
    checkDate(c, `${p}/IntrBkSttlmDt`, tx.interbankSettlementDate);
    checkCode(c, `${p}/ChrgBr`, tx.chargeBearer, chargeBearers);
    checkAgent(c, `${p}/InstgAgt`, tx.instructingAgent);
    checkAgent(c, `${p}/InstdAgt`, tx.instructedAgent);
    checkReasons(c, p, "RtrRsnInf", tx.returnReasons);
  });
  return c.violations;
}

export function renderPacs004(message: Pacs004): string {
  throwIfAny(checkPacs004(message));
  const header = el("GrpHdr", [
    el("MsgId", message.messageId),
    el("CreDtTm", message.createdAt),
    el("NbOfTxs", String(message.transactions.length)),
    el("SttlmInf", [
      el("SttlmMtd", message.settlementMethod),
      message.clearingSystemCode === undefined ? undefined : el("ClrSys", [el("Cd", message.clearingSystemCode)]),
    ]),
  ]);
  return serializeDocument(pacs004Namespace, el(root, [header, ...message.transactions.map(returnEl)]));
}

function returnEl(tx: ReturnedTransaction) {
  return el("TxInf", [
    optEl("RtrId", tx.returnId),
    originalGroupEl("OrgnlGrpInf", tx.originalGroup),
    optEl("OrgnlInstrId", tx.originalInstructionId),
    optEl("OrgnlEndToEndId", tx.originalEndToEndId),
    optEl("OrgnlTxId", tx.originalTransactionId),
    optEl("OrgnlUETR", tx.originalUetr),
    tx.originalInterbankSettlementAmount === undefined ? undefined : moneyEl("OrgnlIntrBkSttlmAmt", tx.originalInterbankSettlementAmount),
    moneyEl("RtrdIntrBkSttlmAmt", tx.returnedInterbankSettlementAmount),
    optEl("IntrBkSttlmDt", tx.interbankSettlementDate),
    optEl("ChrgBr", tx.chargeBearer),
    agentEl("InstgAgt", tx.instructingAgent),
    agentEl("InstdAgt", tx.instructedAgent),
    ...reasonEls("RtrRsnInf", tx.returnReasons),
  ]);
}

export function parsePacs004(xml: string): Pacs004 {
  const message = parseDocument(xml, pacs004Namespace, root);
  const h = `${root}/GrpHdr`;
  const header = required(message, "GrpHdr", root);
  const settlement = required(header, "SttlmInf", h);
  const clearingSystem = optional(settlement, "ClrSys", `${h}/SttlmInf`);
  const transactions = children(message, "TxInf", root).map((tx, i) => readReturn(tx, `${root}/TxInf[${i}]`));
  checkCount(`${h}/NbOfTxs`, requiredText(header, "NbOfTxs", h), transactions.length);
  const model = defined<Pacs004>({
    messageId: requiredText(header, "MsgId", h),
    createdAt: requiredText(header, "CreDtTm", h),
    settlementMethod: requiredText(settlement, "SttlmMtd", `${h}/SttlmInf`) as SettlementMethod,
    clearingSystemCode: clearingSystem && optionalText(clearingSystem, "Cd", `${h}/SttlmInf/ClrSys`),
    transactions,
  });
  throwIfAny(checkPacs004(model));
  return model;
}

function readReturn(tx: XmlNode, p: string): ReturnedTransaction {
  return defined<ReturnedTransaction>({
    returnId: optionalText(tx, "RtrId", p),
    originalGroup: readOriginalGroup(tx, "OrgnlGrpInf", p),
    originalInstructionId: optionalText(tx, "OrgnlInstrId", p),
    originalEndToEndId: optionalText(tx, "OrgnlEndToEndId", p),
    originalTransactionId: optionalText(tx, "OrgnlTxId", p),
    originalUetr: optionalText(tx, "OrgnlUETR", p),
    originalInterbankSettlementAmount: readMoney(tx, "OrgnlIntrBkSttlmAmt", p),
    returnedInterbankSettlementAmount: readRequiredMoney(tx, "RtrdIntrBkSttlmAmt", p),
    interbankSettlementDate: optionalText(tx, "IntrBkSttlmDt", p),
    chargeBearer: optionalText(tx, "ChrgBr", p) as ChargeBearer | undefined,
    instructingAgent: readAgent(tx, "InstgAgt", p),
    instructedAgent: readAgent(tx, "InstdAgt", p),
    returnReasons: readReasons(tx, "RtrRsnInf", p),
  });
}
