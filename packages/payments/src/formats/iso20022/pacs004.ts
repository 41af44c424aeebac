// pacs.004.001.09 payment return: model, check, render, parse.
import {
  type Agent,
  agentEl,
  type ChargeBearer,
  chargeBearers,
  checkAgent,
  checkCode,
  checkDate,
  checkMoney,
  checkOriginalGroup,
  checkPattern,
  checkReasons,
  checkSettledGroupHeader,
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
  readSettledGroupHeader,
  reasonEls,
  type SettledGroupHeader,
  settledGroupHeaderEl,
  uetrPattern,
} from "./common.js";
import { createChecker, throwIfAny, type Violation } from "./violations.js";
import { children, el, optEl, optionalText, parseDocument, repeatedElementsMax, serializeDocument, type XmlNode } from "./xml.js";

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
export interface Pacs004 extends SettledGroupHeader {
  readonly transactions: readonly ReturnedTransaction[];
}

const root = "PmtRtr";

export function checkPacs004(message: Pacs004): Violation[] {
  const c = createChecker();
  checkSettledGroupHeader(c, root, message);
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
  const header = settledGroupHeaderEl(message, message.transactions.length);
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
  const transactions = children(message, "TxInf", root).map((tx, i) => readReturn(tx, `${root}/TxInf[${i}]`));
  const model: Pacs004 = { ...readSettledGroupHeader(message, root, transactions.length), transactions };
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
