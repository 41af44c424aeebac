// Scheme rules layered on the base XSD: SEPA (EPC SCT), SWIFT CBPR+ and Fedwire ISO.
// Each validator first runs the schema-level check, then the scheme's own rules, and
// returns every violation (XML path + reason); an empty list means the message passes.
import { parseMoney } from "@qenex/platform";
import { isValidIBAN } from "ibantools";
import { epcLatin } from "../../validation/charset.js";
import type { Account, Agent, Money } from "./common.js";
import { checkPacs002, type Pacs002 } from "./pacs002.js";
import { checkPacs004, type Pacs004 } from "./pacs004.js";
import { checkPacs008, type Pacs008, pacs008Element } from "./pacs008.js";
import { checkPain001, type Pain001, pain001Element } from "./pain001.js";
import { type Checker, createChecker, type Violation } from "./violations.js";
import { leaves, type XmlElement } from "./xml.js";

/** EuroMax9Amount: 0.01 to 999,999,999.99 EUR. */
export const sepaAmountMinorMax = 99_999_999_999n;
const sepaNameCharsMax = 70;
const sepaUnstructuredLinesMax = 1;
const sepaIdElements = new Set(["MsgId", "PmtInfId", "InstrId", "EndToEndId", "TxId"]);

/** Every text element of the message against the EPC Latin set (other characters must be converted before sending). */
function checkSepaText(c: Checker, message: XmlElement): void {
  for (const leaf of leaves(message, message.name)) {
    const bad = [...leaf.text].filter((ch) => !epcLatin.allowed.test(ch));
    if (bad.length > 0) {
      c.add(leaf.path, `characters outside the SEPA Latin set: ${[...new Set(bad)].map((ch) => JSON.stringify(ch)).join(" ")}`);
    }
    if (sepaIdElements.has(leaf.name) && (leaf.text.startsWith("/") || leaf.text.includes("//"))) {
      c.add(leaf.path, 'a SEPA identifier must not start with "/" or contain "//"');
    }
    if (leaf.name === "Nm" && [...leaf.text].length > sepaNameCharsMax) {
      c.add(leaf.path, `SEPA names are at most ${sepaNameCharsMax} characters`);
    }
  }
}

function checkSepaAmount(c: Checker, path: string, money: Money): void {
  if (money.currency !== "EUR") {
    c.add(`${path}/@Ccy`, `SEPA credit transfers are in EUR only, not ${money.currency}`);
    return;
  }
  const parsed = parseMoney(money.amount, "EUR");
  if (parsed.ok && (parsed.amountMinor < 1n || parsed.amountMinor > sepaAmountMinorMax)) {
    c.add(path, `SEPA amounts are 0.01 to 999999999.99 EUR, not ${money.amount}`);
  }
}

function checkSepaIban(c: Checker, path: string, account: Account | undefined): void {
  if (account === undefined) c.add(path, "SEPA requires the account, identified by IBAN");
  else if (account.kind !== "iban") c.add(`${path}/Id`, "SEPA accounts must be identified by IBAN");
  else if (!isValidIBAN(account.iban)) c.add(`${path}/Id/IBAN`, `"${account.iban}" fails the IBAN check (country, length, mod 97)`);
}

function checkSepaRemittance(c: Checker, path: string, lines: readonly string[] | undefined): void {
  if ((lines ?? []).length > sepaUnstructuredLinesMax) c.add(`${path}/RmtInf/Ustrd`, "SEPA allows one Ustrd line of 140");
}

/** SEPA SCT interbank rules for pacs.008.001.08. */
export function validateSepaPacs008(message: Pacs008): Violation[] {
  const schema = checkPacs008(message);
  if (schema.length > 0) return schema;
  const c = createChecker();
  message.transactions.forEach((tx, i) => {
    const p = `FIToFICstmrCdtTrf/CdtTrfTxInf[${i}]`;
    checkSepaAmount(c, `${p}/IntrBkSttlmAmt`, tx.interbankSettlementAmount);
    if (tx.chargeBearer !== "SLEV") c.add(`${p}/ChrgBr`, `SEPA requires SLEV, not ${tx.chargeBearer}`);
    if (tx.paymentType?.serviceLevelCode !== "SEPA") c.add(`${p}/PmtTpInf/SvcLvl/Cd`, "SEPA requires service level SEPA");
    checkSepaIban(c, `${p}/DbtrAcct`, tx.debtorAccount);
    checkSepaIban(c, `${p}/CdtrAcct`, tx.creditorAccount);
    if (tx.debtorAgent.bicfi === undefined) c.add(`${p}/DbtrAgt/FinInstnId/BICFI`, "SEPA interbank requires the BIC");
    if (tx.creditorAgent.bicfi === undefined) c.add(`${p}/CdtrAgt/FinInstnId/BICFI`, "SEPA interbank requires the BIC");
    if (tx.debtor.name === undefined) c.add(`${p}/Dbtr/Nm`, "SEPA requires the debtor name");
    if (tx.creditor.name === undefined) c.add(`${p}/Cdtr/Nm`, "SEPA requires the creditor name");
    checkSepaRemittance(c, p, tx.remittanceInformation);
  });
  checkSepaText(c, pacs008Element(message));
  return c.violations;
}

/** SEPA SCT customer-to-bank rules for pain.001.001.10 (BIC optional: "IBAN-only"). */
export function validateSepaPain001(message: Pain001): Violation[] {
  const schema = checkPain001(message);
  if (schema.length > 0) return schema;
  const c = createChecker();
  message.paymentInstructions.forEach((pmt, i) => {
    const p = `CstmrCdtTrfInitn/PmtInf[${i}]`;
    if (pmt.paymentMethod !== "TRF") c.add(`${p}/PmtMtd`, "SEPA credit transfers use TRF");
    const serviceLevel = pmt.paymentType?.serviceLevelCode;
    if (serviceLevel !== undefined && serviceLevel !== "SEPA") c.add(`${p}/PmtTpInf/SvcLvl/Cd`, "must be SEPA");
    if (pmt.chargeBearer !== undefined && pmt.chargeBearer !== "SLEV") c.add(`${p}/ChrgBr`, "SEPA requires SLEV");
    checkSepaIban(c, `${p}/DbtrAcct`, pmt.debtorAccount);
    pmt.transactions.forEach((tx, j) => {
      const t = `${p}/CdtTrfTxInf[${j}]`;
      checkSepaAmount(c, `${t}/Amt/InstdAmt`, tx.instructedAmount);
      if (tx.chargeBearer !== undefined && tx.chargeBearer !== "SLEV") c.add(`${t}/ChrgBr`, "SEPA requires SLEV");
      checkSepaIban(c, `${t}/CdtrAcct`, tx.creditorAccount);
      if (tx.creditor?.name === undefined) c.add(`${t}/Cdtr/Nm`, "SEPA requires the creditor name");
      checkSepaRemittance(c, t, tx.remittanceInformation);
    });
  });
  checkSepaText(c, pain001Element(message));
  return c.violations;
}

function checkBicAgent(c: Checker, path: string, agent: Agent | undefined, scheme: string): void {
  if (agent === undefined) c.add(path, `${scheme} requires this agent`);
  else if (agent.bicfi === undefined) c.add(`${path}/FinInstnId/BICFI`, `${scheme} identifies agents by BICFI`);
}

/** SWIFT CBPR+ rules for pacs.008.001.08: one transaction, UETR, agents by BICFI. */
export function validateCbprPacs008(message: Pacs008): Violation[] {
  const schema = checkPacs008(message);
  if (schema.length > 0) return schema;
  const c = createChecker();
  if (message.transactions.length !== 1) c.add("FIToFICstmrCdtTrf/GrpHdr/NbOfTxs", "CBPR+ carries exactly one transaction");
  message.transactions.forEach((tx, i) => {
    const p = `FIToFICstmrCdtTrf/CdtTrfTxInf[${i}]`;
    if (tx.uetr === undefined) c.add(`${p}/PmtId/UETR`, "CBPR+ requires the UETR");
    checkBicAgent(c, `${p}/InstgAgt`, tx.instructingAgent, "CBPR+");
    checkBicAgent(c, `${p}/InstdAgt`, tx.instructedAgent, "CBPR+");
    checkBicAgent(c, `${p}/DbtrAgt`, tx.debtorAgent, "CBPR+");
    checkBicAgent(c, `${p}/CdtrAgt`, tx.creditorAgent, "CBPR+");
  });
  return c.violations;
}

/** SWIFT CBPR+ rules for pacs.002.001.10: every entry names the original UETR. */
export function validateCbprPacs002(message: Pacs002): Violation[] {
  const schema = checkPacs002(message);
  if (schema.length > 0) return schema;
  const c = createChecker();
  (message.transactions ?? []).forEach((tx, i) => {
    if (tx.originalUetr === undefined) c.add(`FIToFIPmtStsRpt/TxInfAndSts[${i}]/OrgnlUETR`, "CBPR+ requires the UETR");
  });
  return c.violations;
}

/** SWIFT CBPR+ rules for pacs.004.001.09: every return names the original UETR. */
export function validateCbprPacs004(message: Pacs004): Violation[] {
  const schema = checkPacs004(message);
  if (schema.length > 0) return schema;
  const c = createChecker();
  message.transactions.forEach((tx, i) => {
    if (tx.originalUetr === undefined) c.add(`PmtRtr/TxInf[${i}]/OrgnlUETR`, "CBPR+ requires the UETR");
  });
  return c.violations;
}

function checkUsd(c: Checker, path: string, money: Money | undefined): void {
  if (money !== undefined && money.currency !== "USD") c.add(`${path}/@Ccy`, `Fedwire settles USD only, not ${money.currency}`);
}

function checkFedwireSettlement(c: Checker, header: string, method: string, clearingSystem: string | undefined) {
  if (method !== "CLRG") c.add(`${header}/SttlmInf/SttlmMtd`, "Fedwire settles by CLRG");
  if (clearingSystem !== "FDW") c.add(`${header}/SttlmInf/ClrSys/Cd`, "Fedwire's clearing system code is FDW");
}

/** Fedwire Funds ISO rules for pacs.008.001.08: USD, UETR, CLRG through FDW. */
export function validateFedwirePacs008(message: Pacs008): Violation[] {
  const schema = checkPacs008(message);
  if (schema.length > 0) return schema;
  const c = createChecker();
  checkFedwireSettlement(c, "FIToFICstmrCdtTrf/GrpHdr", message.settlementMethod, message.clearingSystemCode);
  message.transactions.forEach((tx, i) => {
    const p = `FIToFICstmrCdtTrf/CdtTrfTxInf[${i}]`;
    checkUsd(c, `${p}/IntrBkSttlmAmt`, tx.interbankSettlementAmount);
    checkUsd(c, `${p}/InstdAmt`, tx.instructedAmount);
    if (tx.uetr === undefined) c.add(`${p}/PmtId/UETR`, "Fedwire requires the UETR");
  });
  return c.violations;
}

/** Fedwire Funds ISO rules for a pacs.004 return: USD, CLRG through FDW. */
export function validateFedwirePacs004(message: Pacs004): Violation[] {
  const schema = checkPacs004(message);
  if (schema.length > 0) return schema;
  const c = createChecker();
  checkFedwireSettlement(c, "PmtRtr/GrpHdr", message.settlementMethod, message.clearingSystemCode);
  message.transactions.forEach((tx, i) => {
    checkUsd(c, `PmtRtr/TxInf[${i}]/RtrdIntrBkSttlmAmt`, tx.returnedInterbankSettlementAmount);
    checkUsd(c, `PmtRtr/TxInf[${i}]/OrgnlIntrBkSttlmAmt`, tx.originalInterbankSettlementAmount);
  });
  return c.violations;
}
