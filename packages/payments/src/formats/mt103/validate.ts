// Format and network-rule checks of an MT103 model; render and parse both run them.
import { bicPattern } from "../../validation/bic.js";
import { uetrPattern } from "../iso20022/common.js";
import { encodeSwiftAmount } from "./amount.js";
import { findNonXCharacter } from "./charset.js";
import type { Mt103Issue } from "./errors.js";
import type { Mt103BicParty, Mt103Message, Mt103NamedParty, Mt103Text } from "./model.js";
import { swiftLineLengthMax } from "./wrap.js";

const ltAddressPattern = /^[A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}[A-Z0-9][A-Z0-9]{3}$/;
const isoDatePattern = /^(20[0-9]{2})-([0-9]{2})-([0-9]{2})$/;
const bankOperationCodes = new Set(["CRED", "CRTS", "SPAY", "SPRI", "SSTD"]);
const chargeCodes = new Set(["OUR", "SHA", "BEN"]);
const sendersReferenceLengthMax = 16;
const accountLengthMax = 34;
const namedPartyLinesMax = 4;
const remittanceLinesMax = 4;
const sendersChargesMax = 10;
const trailerTagsMax = 10;
const trailerValueLengthMax = 64;

/** Where a block 4 field sits in the parsed text, when it came from text. */
export type LineOf = (tag: string) => number | undefined;

class IssueList {
  readonly issues: Mt103Issue[] = [];
  constructor(private readonly lineOf: LineOf) {}

  /** `lineOffset` counts lines after the field's first, so a parse error points at the offending line. */
  field(tag: string, lineOffset = 0): string {
    const line = this.lineOf(tag);
    return `block 4, field ${tag}${line === undefined ? "" : `, line ${line + lineOffset}`}`;
  }

  add(code: Mt103Issue["code"], location: string, message: string): void {
    this.issues.push({ code, location, message });
  }

  /** X charset and the 35-character line limit; names the field, the line and the character. */
  text(location: string, value: string, what: string, lengthMax = swiftLineLengthMax): void {
    const bad = findNonXCharacter(value);
    if (bad)
      this.add("charset", location, `${what} has ${bad.description} at position ${bad.index + 1}, outside the SWIFT X character set`);
    if (value.length > lengthMax) this.add("length", location, `${what} is ${value.length} characters; at most ${lengthMax} allowed`);
  }
}

function checkLines(list: IssueList, tag: string, lines: readonly string[], linesMax: number, what: string, firstLine = 0): void {
  const location = list.field(tag, firstLine);
  if (lines.length === 0) list.add("missing", location, `${what} needs at least one line`);
  if (lines.length > linesMax) list.add("length", location, `${what} has ${lines.length} lines; at most ${linesMax} allowed`);
  lines.forEach((line, index) => {
    const location = list.field(tag, firstLine + index);
    list.text(location, line, `${what} line ${index + 1}`);
    if (line === "") list.add("format", location, `${what} line ${index + 1} is empty`);
    if (line.startsWith(":") || line.startsWith("-")) list.add("format", location, `${what} line ${index + 1} starts with '${line[0]}'`);
  });
}

function checkAccount(list: IssueList, tag: string, account: string | undefined): void {
  if (account === undefined) return;
  list.text(list.field(tag), account, "account", accountLengthMax);
  if (account === "") list.add("format", list.field(tag), "account is empty");
}

function checkBicParty(list: IssueList, tag: string, party: Mt103BicParty): void {
  checkAccount(list, tag, party.account);
  // Structure only: the country letters are not checked against ISO 3166 (published test BICs use fake ones).
  if (!bicPattern.test(party.bic)) list.add("format", list.field(tag), `"${party.bic}" is not a BIC (8 or 11 upper-case characters)`);
}

function checkNamedParty(list: IssueList, tag: string, party: Mt103NamedParty): void {
  checkAccount(list, tag, party.account);
  checkLines(list, tag, party.nameAndAddress, namedPartyLinesMax, "name and address", party.account === undefined ? 0 : 1);
  if (party.nameAndAddress[0]?.startsWith("/"))
    list.add("format", list.field(tag), "name line 1 starts with '/', which reads as an account");
}

function checkDate(list: IssueList, isoDate: string): void {
  const match = isoDatePattern.exec(isoDate);
  const date = new Date(`${isoDate}T00:00:00Z`);
  if (!match || Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== isoDate) {
    list.add("format", list.field("32A"), `value date "${isoDate}" is not a calendar date YYYY-MM-DD in 2000-2099`);
  }
}

function checkSendersReference(list: IssueList, reference: string): void {
  const location = list.field("20");
  list.text(location, reference, "sender's reference", sendersReferenceLengthMax);
  if (reference === "") list.add("missing", location, "sender's reference is empty");
  if (reference.startsWith("/") || reference.endsWith("/") || reference.includes("//")) {
    list.add("format", location, "sender's reference must not start or end with '/' or contain '//' (T26)");
  }
}

function checkAmount(list: IssueList, tag: string, currency: string, amount: string): void {
  if (!/^[A-Z]{3}$/.test(currency)) list.add("format", list.field(tag), `currency "${currency}" is not an ISO 4217 code`);
  const encoded = encodeSwiftAmount(amount, currency);
  if (!encoded.ok) list.add("format", list.field(tag), encoded.reason);
}

function checkCharges(list: IssueList, text: Mt103Text): void {
  if (!chargeCodes.has(text.detailsOfCharges)) list.add("format", list.field("71A"), `"${text.detailsOfCharges}" is not OUR, SHA or BEN`);
  const charges = text.sendersCharges ?? [];
  if (charges.length > sendersChargesMax) list.add("length", list.field("71F"), `${charges.length} charges; at most ${sendersChargesMax}`);
  for (const charge of charges) checkAmount(list, "71F", charge.currency, charge.amount);
  if (text.detailsOfCharges === "OUR" && charges.length > 0) list.add("rule", list.field("71F"), "71F is not allowed when 71A is OUR");
  if (text.detailsOfCharges === "BEN" && charges.length === 0) list.add("rule", list.field("71A"), "71A BEN needs at least one 71F");
}

function checkText(list: IssueList, text: Mt103Text): void {
  checkSendersReference(list, text.sendersReference);
  if (!bankOperationCodes.has(text.bankOperationCode)) {
    list.add("format", list.field("23B"), `"${text.bankOperationCode}" is not CRED, CRTS, SPAY, SPRI or SSTD`);
  }
  checkDate(list, text.valueDate);
  checkAmount(list, "32A", text.interbankSettlement.currency, text.interbankSettlement.amount);
  const ordering = text.orderingCustomer;
  if (ordering.option === "A") checkBicParty(list, "50A", ordering);
  else checkNamedParty(list, "50K", ordering);
  if (text.orderingInstitution) checkBicParty(list, "52A", text.orderingInstitution);
  if (text.accountWithInstitution) checkBicParty(list, "57A", text.accountWithInstitution);
  const beneficiary = text.beneficiary;
  if (beneficiary.option === "A") checkBicParty(list, "59A", beneficiary);
  else checkNamedParty(list, "59", beneficiary);
  if (text.remittanceInformation) checkLines(list, "70", text.remittanceInformation, remittanceLinesMax, "remittance information");
  checkCharges(list, text);
}

function checkHeaders(list: IssueList, message: Mt103Message): void {
  const { basicHeader, applicationHeader, userHeader } = message;
  if (!ltAddressPattern.test(basicHeader.senderLtAddress))
    list.add("format", "block 1", `"${basicHeader.senderLtAddress}" is not a 12-character LT address`);
  if (!/^[0-9]{4}$/.test(basicHeader.sessionNumber)) list.add("format", "block 1", "session number must be 4 digits");
  if (!/^[0-9]{6}$/.test(basicHeader.sequenceNumber)) list.add("format", "block 1", "sequence number must be 6 digits");
  if (!ltAddressPattern.test(applicationHeader.receiverLtAddress)) {
    list.add("format", "block 2", `"${applicationHeader.receiverLtAddress}" is not a 12-character LT address`);
  }
  if (!["N", "U", "S"].includes(applicationHeader.priority)) list.add("format", "block 2", "priority must be N, U or S");
  const { deliveryMonitoring, obsolescencePeriod } = applicationHeader;
  if (deliveryMonitoring !== undefined && !["1", "2", "3"].includes(deliveryMonitoring))
    list.add("format", "block 2", "delivery monitoring must be 1, 2 or 3");
  if (obsolescencePeriod !== undefined && !/^[0-9]{3}$/.test(obsolescencePeriod))
    list.add("format", "block 2", "obsolescence period must be 3 digits");
  if (!uetrPattern.test(userHeader.uetr)) list.add("format", "block 3, tag 121", `UETR "${userHeader.uetr}" is not a lower-case UUID v4`);
  if (userHeader.messageUserReference !== undefined)
    list.text("block 3, tag 108", userHeader.messageUserReference, "message user reference", 16);
  const trailer = message.trailer ?? [];
  if (trailer.length > trailerTagsMax) list.add("length", "block 5", `${trailer.length} tags; at most ${trailerTagsMax}`);
  for (const { tag, value } of trailer) {
    if (!/^[A-Z]{3}$/.test(tag)) list.add("format", "block 5", `tag "${tag}" is not 3 upper-case letters`);
    list.text(`block 5, tag ${tag}`, value, "value", trailerValueLengthMax);
  }
}

/** Every problem with the message; empty when it can be rendered. */
export function validateMt103(message: Mt103Message, lineOf: LineOf = () => undefined): Mt103Issue[] {
  const list = new IssueList(lineOf);
  checkHeaders(list, message);
  checkText(list, message.text);
  return list.issues;
}
