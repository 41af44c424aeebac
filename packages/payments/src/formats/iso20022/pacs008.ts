// pacs.008.001.08 FI to FI customer credit transfer: model, check, render, parse.
import {
  type Account,
  type Agent,
  accountEl,
  agentEl,
  type ChargeBearer,
  chargeBearers,
  checkAccount,
  checkAgent,
  checkCode,
  checkDate,
  checkMoney,
  checkParty,
  checkPattern,
  checkPaymentType,
  checkSettledGroupHeader,
  checkText,
  checkUnstructured,
  defined,
  type Money,
  moneyEl,
  type Party,
  type PaymentType,
  partyEl,
  paymentTypeEl,
  readAccount,
  readAgent,
  readMoney,
  readPaymentType,
  readRequiredAgent,
  readRequiredMoney,
  readRequiredParty,
  readSettledGroupHeader,
  readUnstructured,
  remittanceEl,
  type SettledGroupHeader,
  settledGroupHeaderEl,
  uetrPattern,
} from "./common.js";
import { createChecker, throwIfAny, type Violation } from "./violations.js";
import {
  children,
  el,
  optEl,
  optionalText,
  parseDocument,
  repeatedElementsMax,
  required,
  requiredText,
  serializeDocument,
  type XmlElement,
  type XmlNode,
} from "./xml.js";

export const pacs008Namespace = "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08";

export interface CreditTransfer {
  readonly instructionId?: string;
  readonly endToEndId: string;
  readonly transactionId?: string;
  /** Lowercase UUIDv4 (crypto.randomUUID()). */
  readonly uetr?: string;
  readonly paymentType?: PaymentType;
  readonly interbankSettlementAmount: Money;
  /** ISO date, YYYY-MM-DD. */
  readonly interbankSettlementDate?: string;
  readonly instructedAmount?: Money;
  readonly chargeBearer: ChargeBearer;
  readonly instructingAgent?: Agent;
  readonly instructedAgent?: Agent;
  readonly debtor: Party;
  readonly debtorAccount?: Account;
  readonly debtorAgent: Agent;
  readonly creditorAgent: Agent;
  readonly creditor: Party;
  readonly creditorAccount?: Account;
  /** RmtInf/Ustrd lines. */
  readonly remittanceInformation?: readonly string[];
}

/** NbOfTxs is derived from transactions.length, never stored. */
export interface Pacs008 extends SettledGroupHeader {
  readonly transactions: readonly CreditTransfer[];
}

const root = "FIToFICstmrCdtTrf";

/** Schema-level violations of the model (what the XSD would reject, plus exact amounts). */
export function checkPacs008(message: Pacs008): Violation[] {
  const c = createChecker();
  checkSettledGroupHeader(c, root, message);
  const count = message.transactions.length;
  if (count === 0 || count > repeatedElementsMax) {
    c.add(`${root}/CdtTrfTxInf`, `needs 1 to ${repeatedElementsMax} transactions, has ${count}`);
  }
  message.transactions.forEach((tx, i) => {
    const p = `${root}/CdtTrfTxInf[${i}]`;
    checkText(c, `${p}/PmtId/InstrId`, tx.instructionId, 35);
    checkText(c, `${p}/PmtId/EndToEndId`, tx.endToEndId, 35);
    checkText(c, `${p}/PmtId/TxId`, tx.transactionId, 35);
    checkPattern(c, `${p}/PmtId/UETR`, tx.uetr, uetrPattern, "UETR (lowercase UUIDv4)");
    checkPaymentType(c, `${p}/PmtTpInf`, tx.paymentType);
    checkMoney(c, `${p}/IntrBkSttlmAmt`, tx.interbankSettlementAmount);
    checkDate(c, `${p}/IntrBkSttlmDt`, tx.interbankSettlementDate);
    checkMoney(c, `${p}/InstdAmt`, tx.instructedAmount);
    checkCode(c, `${p}/ChrgBr`, tx.chargeBearer, chargeBearers);
    checkAgent(c, `${p}/InstgAgt`, tx.instructingAgent);
    checkAgent(c, `${p}/InstdAgt`, tx.instructedAgent);
    checkParty(c, `${p}/Dbtr`, tx.debtor);
    checkAccount(c, `${p}/DbtrAcct`, tx.debtorAccount);
    checkAgent(c, `${p}/DbtrAgt`, tx.debtorAgent);
    checkAgent(c, `${p}/CdtrAgt`, tx.creditorAgent);
    checkParty(c, `${p}/Cdtr`, tx.creditor);
    checkAccount(c, `${p}/CdtrAcct`, tx.creditorAccount);
    checkUnstructured(c, `${p}/RmtInf`, tx.remittanceInformation);
  });
  return c.violations;
}

/** Renders the message as an XML document; throws Iso20022Error listing every violation. */
export function renderPacs008(message: Pacs008): string {
  throwIfAny(checkPacs008(message));
  return serializeDocument(pacs008Namespace, pacs008Element(message));
}

/** The message element the document wraps; call only after checkPacs008 found nothing. */
export function pacs008Element(message: Pacs008): XmlElement {
  const header = settledGroupHeaderEl(message, message.transactions.length);
  return el(root, [header, ...message.transactions.map(transactionEl)]);
}

function transactionEl(tx: CreditTransfer) {
  return el("CdtTrfTxInf", [
    el("PmtId", [
      optEl("InstrId", tx.instructionId),
      el("EndToEndId", tx.endToEndId),
      optEl("TxId", tx.transactionId),
      optEl("UETR", tx.uetr),
    ]),
    paymentTypeEl("PmtTpInf", tx.paymentType),
    moneyEl("IntrBkSttlmAmt", tx.interbankSettlementAmount),
    optEl("IntrBkSttlmDt", tx.interbankSettlementDate),
    tx.instructedAmount === undefined ? undefined : moneyEl("InstdAmt", tx.instructedAmount),
    el("ChrgBr", tx.chargeBearer),
    agentEl("InstgAgt", tx.instructingAgent),
    agentEl("InstdAgt", tx.instructedAgent),
    partyEl("Dbtr", tx.debtor),
    accountEl("DbtrAcct", tx.debtorAccount),
    agentEl("DbtrAgt", tx.debtorAgent),
    agentEl("CdtrAgt", tx.creditorAgent),
    partyEl("Cdtr", tx.creditor),
    accountEl("CdtrAcct", tx.creditorAccount),
    remittanceEl(tx.remittanceInformation),
  ]);
}

/**
 * Reads a pacs.008.001.08 document into the model. Elements the model does not hold
 * (e.g. structured remittance) are ignored; run the XSD first where that matters.
 */
export function parsePacs008(xml: string): Pacs008 {
  const message = parseDocument(xml, pacs008Namespace, root);
  const transactions = children(message, "CdtTrfTxInf", root).map((tx, i) => readTransaction(tx, `${root}/CdtTrfTxInf[${i}]`));
  const model: Pacs008 = { ...readSettledGroupHeader(message, root, transactions.length), transactions };
  throwIfAny(checkPacs008(model));
  return model;
}

function readTransaction(tx: XmlNode, p: string): CreditTransfer {
  const id = required(tx, "PmtId", p);
  return defined<CreditTransfer>({
    instructionId: optionalText(id, "InstrId", `${p}/PmtId`),
    endToEndId: requiredText(id, "EndToEndId", `${p}/PmtId`),
    transactionId: optionalText(id, "TxId", `${p}/PmtId`),
    uetr: optionalText(id, "UETR", `${p}/PmtId`),
    paymentType: readPaymentType(tx, "PmtTpInf", p),
    interbankSettlementAmount: readRequiredMoney(tx, "IntrBkSttlmAmt", p),
    interbankSettlementDate: optionalText(tx, "IntrBkSttlmDt", p),
    instructedAmount: readMoney(tx, "InstdAmt", p),
    chargeBearer: requiredText(tx, "ChrgBr", p) as ChargeBearer,
    instructingAgent: readAgent(tx, "InstgAgt", p),
    instructedAgent: readAgent(tx, "InstdAgt", p),
    debtor: readRequiredParty(tx, "Dbtr", p),
    debtorAccount: readAccount(tx, "DbtrAcct", p),
    debtorAgent: readRequiredAgent(tx, "DbtrAgt", p),
    creditorAgent: readRequiredAgent(tx, "CdtrAgt", p),
    creditor: readRequiredParty(tx, "Cdtr", p),
    creditorAccount: readAccount(tx, "CdtrAcct", p),
    remittanceInformation: readUnstructured(tx, p),
  });
}
