// pain.001.001.10 customer credit transfer initiation: model, check, render, parse.
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
  checkCount,
  checkDate,
  checkDateTime,
  checkMoney,
  checkParty,
  checkPattern,
  checkPaymentType,
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
  readParty,
  readPaymentType,
  readRequiredAgent,
  readRequiredMoney,
  readRequiredParty,
  readUnstructured,
  remittanceEl,
  uetrPattern,
} from "./common.js";
import { createChecker, Iso20022Error, throwIfAny, type Violation } from "./violations.js";
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

export const pain001Namespace = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.10";

export type PaymentMethod = "TRF" | "CHK" | "TRA";
const paymentMethods: readonly PaymentMethod[] = ["TRF", "CHK", "TRA"];

export interface InitiationTransfer {
  readonly instructionId?: string;
  readonly endToEndId: string;
  readonly uetr?: string;
  /** Amt/InstdAmt. */
  readonly instructedAmount: Money;
  readonly chargeBearer?: ChargeBearer;
  readonly creditorAgent?: Agent;
  readonly creditor?: Party;
  readonly creditorAccount?: Account;
  readonly remittanceInformation?: readonly string[];
}

/** PmtInf. NbOfTxs is derived from transactions.length. */
export interface PaymentInstruction {
  readonly paymentInformationId: string;
  readonly paymentMethod: PaymentMethod;
  readonly batchBooking?: boolean;
  readonly paymentType?: PaymentType;
  /** ReqdExctnDt: an ISO date renders as Dt, an ISO date-time as DtTm. */
  readonly requestedExecutionDate: string;
  readonly debtor: Party;
  readonly debtorAccount: Account;
  readonly debtorAgent: Agent;
  readonly chargeBearer?: ChargeBearer;
  readonly transactions: readonly InitiationTransfer[];
}

/** GrpHdr NbOfTxs is derived: the transactions of all payment instructions. */
export interface Pain001 {
  readonly messageId: string;
  readonly createdAt: string;
  readonly initiatingParty: Party;
  readonly paymentInstructions: readonly PaymentInstruction[];
}

const root = "CstmrCdtTrfInitn";

function isDateOnly(value: string): boolean {
  return !value.includes("T");
}

function transactionCount(message: Pain001): number {
  return message.paymentInstructions.reduce((sum, p) => sum + p.transactions.length, 0);
}

export function checkPain001(message: Pain001): Violation[] {
  const c = createChecker();
  checkText(c, `${root}/GrpHdr/MsgId`, message.messageId, 35);
  checkDateTime(c, `${root}/GrpHdr/CreDtTm`, message.createdAt);
  checkParty(c, `${root}/GrpHdr/InitgPty`, message.initiatingParty);
  const instructions = message.paymentInstructions;
  if (instructions.length === 0) c.add(`${root}/PmtInf`, "needs at least one payment instruction");
  if (transactionCount(message) > repeatedElementsMax) c.add(root, `more than ${repeatedElementsMax} transactions`);
  instructions.forEach((pmt, i) => {
    const p = `${root}/PmtInf[${i}]`;
    checkText(c, `${p}/PmtInfId`, pmt.paymentInformationId, 35);
    checkCode(c, `${p}/PmtMtd`, pmt.paymentMethod, paymentMethods);
    checkPaymentType(c, `${p}/PmtTpInf`, pmt.paymentType);
    const date = pmt.requestedExecutionDate;
    if (isDateOnly(date)) checkDate(c, `${p}/ReqdExctnDt/Dt`, date);
    else checkDateTime(c, `${p}/ReqdExctnDt/DtTm`, date);
    checkParty(c, `${p}/Dbtr`, pmt.debtor);
    checkAccount(c, `${p}/DbtrAcct`, pmt.debtorAccount);
    checkAgent(c, `${p}/DbtrAgt`, pmt.debtorAgent);
    checkCode(c, `${p}/ChrgBr`, pmt.chargeBearer, chargeBearers);
    if (pmt.transactions.length === 0) c.add(`${p}/CdtTrfTxInf`, "needs at least one transaction");
    pmt.transactions.forEach((tx, j) => {
      const t = `${p}/CdtTrfTxInf[${j}]`;
      checkText(c, `${t}/PmtId/InstrId`, tx.instructionId, 35);
      checkText(c, `${t}/PmtId/EndToEndId`, tx.endToEndId, 35);
      checkPattern(c, `${t}/PmtId/UETR`, tx.uetr, uetrPattern, "UETR (lowercase UUIDv4)");
      checkMoney(c, `${t}/Amt/InstdAmt`, tx.instructedAmount);
      checkCode(c, `${t}/ChrgBr`, tx.chargeBearer, chargeBearers);
      checkAgent(c, `${t}/CdtrAgt`, tx.creditorAgent);
      checkParty(c, `${t}/Cdtr`, tx.creditor);
      checkAccount(c, `${t}/CdtrAcct`, tx.creditorAccount);
      checkUnstructured(c, `${t}/RmtInf`, tx.remittanceInformation);
    });
  });
  return c.violations;
}

export function renderPain001(message: Pain001): string {
  throwIfAny(checkPain001(message));
  return serializeDocument(pain001Namespace, pain001Element(message));
}

/** The message element the document wraps; call only after checkPain001 found nothing. */
export function pain001Element(message: Pain001): XmlElement {
  const header = el("GrpHdr", [
    el("MsgId", message.messageId),
    el("CreDtTm", message.createdAt),
    el("NbOfTxs", String(transactionCount(message))),
    partyEl("InitgPty", message.initiatingParty),
  ]);
  return el(root, [header, ...message.paymentInstructions.map(instructionEl)]);
}

function instructionEl(pmt: PaymentInstruction) {
  const date = pmt.requestedExecutionDate;
  return el("PmtInf", [
    el("PmtInfId", pmt.paymentInformationId),
    el("PmtMtd", pmt.paymentMethod),
    pmt.batchBooking === undefined ? undefined : el("BtchBookg", String(pmt.batchBooking)),
    el("NbOfTxs", String(pmt.transactions.length)),
    paymentTypeEl("PmtTpInf", pmt.paymentType),
    el("ReqdExctnDt", [el(isDateOnly(date) ? "Dt" : "DtTm", date)]),
    partyEl("Dbtr", pmt.debtor),
    accountEl("DbtrAcct", pmt.debtorAccount),
    agentEl("DbtrAgt", pmt.debtorAgent),
    optEl("ChrgBr", pmt.chargeBearer),
    ...pmt.transactions.map((tx) =>
      el("CdtTrfTxInf", [
        el("PmtId", [optEl("InstrId", tx.instructionId), el("EndToEndId", tx.endToEndId), optEl("UETR", tx.uetr)]),
        el("Amt", [moneyEl("InstdAmt", tx.instructedAmount)]),
        optEl("ChrgBr", tx.chargeBearer),
        agentEl("CdtrAgt", tx.creditorAgent),
        partyEl("Cdtr", tx.creditor),
        accountEl("CdtrAcct", tx.creditorAccount),
        remittanceEl(tx.remittanceInformation),
      ]),
    ),
  ]);
}

export function parsePain001(xml: string): Pain001 {
  const message = parseDocument(xml, pain001Namespace, root);
  const h = `${root}/GrpHdr`;
  const header = required(message, "GrpHdr", root);
  const instructions = children(message, "PmtInf", root).map((pmt, i) => readInstruction(pmt, `${root}/PmtInf[${i}]`));
  const model: Pain001 = {
    messageId: requiredText(header, "MsgId", h),
    createdAt: requiredText(header, "CreDtTm", h),
    initiatingParty: readRequiredParty(header, "InitgPty", h),
    paymentInstructions: instructions,
  };
  checkCount(`${h}/NbOfTxs`, requiredText(header, "NbOfTxs", h), transactionCount(model));
  throwIfAny(checkPain001(model));
  return model;
}

function readBoolean(value: string | undefined, path: string): boolean | undefined {
  if (value === undefined) return undefined;
  // xs:boolean lexical space.
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  throw Iso20022Error.at(path, `"${value}" is not a boolean`);
}

function readInstruction(pmt: XmlNode, p: string): PaymentInstruction {
  const date = required(pmt, "ReqdExctnDt", p);
  const transactions = children(pmt, "CdtTrfTxInf", p).map((tx, j) => {
    const t = `${p}/CdtTrfTxInf[${j}]`;
    const id = required(tx, "PmtId", t);
    return defined<InitiationTransfer>({
      instructionId: optionalText(id, "InstrId", `${t}/PmtId`),
      endToEndId: requiredText(id, "EndToEndId", `${t}/PmtId`),
      uetr: optionalText(id, "UETR", `${t}/PmtId`),
      instructedAmount: readRequiredMoney(required(tx, "Amt", t), "InstdAmt", `${t}/Amt`),
      chargeBearer: optionalText(tx, "ChrgBr", t) as ChargeBearer | undefined,
      creditorAgent: readAgent(tx, "CdtrAgt", t),
      creditor: readParty(tx, "Cdtr", t),
      creditorAccount: readAccount(tx, "CdtrAcct", t),
      remittanceInformation: readUnstructured(tx, t),
    });
  });
  checkCount(`${p}/NbOfTxs`, optionalText(pmt, "NbOfTxs", p), transactions.length);
  const debtorAccount = readAccount(pmt, "DbtrAcct", p);
  if (debtorAccount === undefined) throw Iso20022Error.at(`${p}/DbtrAcct`, "is required");
  return defined<PaymentInstruction>({
    paymentInformationId: requiredText(pmt, "PmtInfId", p),
    paymentMethod: requiredText(pmt, "PmtMtd", p) as PaymentMethod,
    batchBooking: readBoolean(optionalText(pmt, "BtchBookg", p), `${p}/BtchBookg`),
    paymentType: readPaymentType(pmt, "PmtTpInf", p),
    requestedExecutionDate: optionalText(date, "Dt", `${p}/ReqdExctnDt`) ?? requiredText(date, "DtTm", `${p}/ReqdExctnDt`),
    debtor: readRequiredParty(pmt, "Dbtr", p),
    debtorAccount,
    debtorAgent: readRequiredAgent(pmt, "DbtrAgt", p),
    chargeBearer: optionalText(pmt, "ChrgBr", p) as ChargeBearer | undefined,
    transactions,
  });
}
