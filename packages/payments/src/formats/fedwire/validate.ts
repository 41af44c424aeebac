// Field-length, format and CTR rule checks of a Fedwire model; render and parse both run them.
import { isValidAbaRoutingNumber } from "../../aba.js";
import { encodeFedwireAmount } from "./amount.js";
import type { FedwireIssue } from "./errors.js";
import type { FedwireDepositoryInstitution, FedwireMessage, FedwireParty } from "./model.js";

/** Printable ASCII less the element delimiter '*' and the tag braces, which would break the framing. */
const fedwireCharacter = /^[\x20-\x29\x2b-\x7a\x7c\x7e]$/;
const businessFunctionCodes = new Set(["BTR", "CKS", "CTP", "CTR", "DEP", "DRB", "DRC", "DRW", "FFR", "FFS", "SVC"]);
const identificationCodes = new Set(["B", "C", "D", "F", "T", "U", "1", "2", "3", "4", "5", "9"]);
/** Type/subtype pairs allowed with CTR (moov-io/wire associatedTypeSubTypes.go). */
const customerTransferTypeSubtypes = new Set(["1000", "1002", "1008", "1500", "1502", "1508", "1600", "1602", "1608"]);
export const fedwireLineLengthMax = 35;
const shortNameLengthMax = 18;
const identifierLengthMax = 34;
const addressLinesMax = 3;
const originatorToBeneficiaryLinesMax = 4;
const senderReferenceLengthMax = 16;

type Issues = FedwireIssue[];

/** Charset and length of one element; names the tag, the element and the character. */
function checkText(issues: Issues, location: string, value: string, what: string, lengthMax: number, required = true): void {
  let index = 0;
  for (const character of value) {
    if (!fedwireCharacter.test(character)) {
      const hex = (character.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0");
      issues.push({
        code: "charset",
        location,
        message: `${what} has '${character}' (U+${hex}) at position ${index + 1}; allowed is printable ASCII except * { }`,
      });
      break;
    }
    index += 1;
  }
  if (value.length > lengthMax)
    issues.push({ code: "length", location, message: `${what} is ${value.length} characters; at most ${lengthMax} allowed` });
  if (required && value === "") issues.push({ code: "missing", location, message: `${what} is empty` });
  if (value !== value.trimEnd()) issues.push({ code: "format", location, message: `${what} ends with a space` });
}

function checkInstitution(issues: Issues, tag: string, institution: FedwireDepositoryInstitution): void {
  const location = `tag {${tag}}`;
  if (!/^[0-9]{9}$/.test(institution.routingNumber))
    issues.push({ code: "format", location, message: `routing number "${institution.routingNumber}" is not 9 digits` });
  else if (!isValidAbaRoutingNumber(institution.routingNumber)) {
    issues.push({ code: "checksum", location, message: `routing number "${institution.routingNumber}" fails the ABA 3-7-1 checksum` });
  }
  checkText(issues, location, institution.shortName, "short name", shortNameLengthMax);
}

function checkParty(issues: Issues, tag: string, party: FedwireParty): void {
  const location = `tag {${tag}}`;
  if (!identificationCodes.has(party.identificationCode))
    issues.push({ code: "format", location, message: `"${party.identificationCode}" is not an ID code` });
  checkText(issues, location, party.identifier, "identifier", identifierLengthMax);
  checkText(issues, location, party.name, "name", fedwireLineLengthMax);
  if (party.addressLines.length > addressLinesMax)
    issues.push({ code: "length", location, message: `${party.addressLines.length} address lines; at most ${addressLinesMax}` });
  party.addressLines.forEach((line, index) => {
    checkText(issues, location, line, `address line ${index + 1}`, fedwireLineLengthMax, false);
  });
}

function checkHeader(issues: Issues, message: FedwireMessage): void {
  const { senderSupplied, typeSubtype, imad } = message;
  if (senderSupplied.formatVersion !== "30") issues.push({ code: "format", location: "tag {1500}", message: "format version must be 30" });
  checkText(issues, "tag {1500}", senderSupplied.userRequestCorrelation, "user request correlation", 8, false);
  if (!["T", "P"].includes(senderSupplied.testProductionCode))
    issues.push({ code: "format", location: "tag {1500}", message: "test/production code must be T or P" });
  if (!["", "R", "P"].includes(senderSupplied.messageDuplicationCode)) {
    issues.push({ code: "format", location: "tag {1500}", message: "duplication code must be empty (original), R or P" });
  }
  if (!/^[0-9]{2}$/.test(typeSubtype.typeCode) || !/^[0-9]{2}$/.test(typeSubtype.subtypeCode)) {
    issues.push({ code: "format", location: "tag {1510}", message: "type and subtype codes must be 2 digits each" });
  }
  const date = new Date(`${imad.cycleDate}T00:00:00Z`);
  if (
    !/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(imad.cycleDate) ||
    Number.isNaN(date.getTime()) ||
    date.toISOString().slice(0, 10) !== imad.cycleDate
  ) {
    issues.push({ code: "format", location: "tag {1520}", message: `cycle date "${imad.cycleDate}" is not a calendar date YYYY-MM-DD` });
  }
  if (!/^[A-Za-z0-9]{8}$/.test(imad.inputSource))
    issues.push({ code: "format", location: "tag {1520}", message: "input source must be 8 letters or digits" });
  if (!/^[0-9]{6}$/.test(imad.inputSequenceNumber))
    issues.push({ code: "format", location: "tag {1520}", message: "input sequence number must be 6 digits" });
  const amount = encodeFedwireAmount(message.amountUsd);
  if (!amount.ok) issues.push({ code: "format", location: "tag {2000}", message: amount.reason });
  else if (/^0+$/.test(amount.value) && typeSubtype.subtypeCode !== "90") {
    issues.push({ code: "rule", location: "tag {2000}", message: "amount may be zero only for subtype 90" });
  }
}

function checkCustomerTransfer(issues: Issues, message: FedwireMessage): void {
  const typeSubtype = message.typeSubtype.typeCode + message.typeSubtype.subtypeCode;
  if (!customerTransferTypeSubtypes.has(typeSubtype))
    issues.push({ code: "rule", location: "tag {1510}", message: `type/subtype ${typeSubtype} is not allowed with CTR` });
  if (message.businessFunction.transactionTypeCode === "COV")
    issues.push({ code: "rule", location: "tag {3600}", message: "transaction type COV is not allowed with CTR" });
  if (!message.beneficiary) issues.push({ code: "missing", location: "tag {4200}", message: "beneficiary is mandatory for CTR" });
  if (!message.originator) issues.push({ code: "missing", location: "tag {5000}", message: "originator is mandatory for CTR" });
}

/** Every problem with the message; empty when it can be rendered. */
export function validateFedwire(message: FedwireMessage): FedwireIssue[] {
  const issues: Issues = [];
  checkHeader(issues, message);
  checkInstitution(issues, "3100", message.senderDepositoryInstitution);
  if (message.senderReference !== undefined)
    checkText(issues, "tag {3320}", message.senderReference, "sender reference", senderReferenceLengthMax);
  checkInstitution(issues, "3400", message.receiverDepositoryInstitution);
  const { code, transactionTypeCode } = message.businessFunction;
  if (!businessFunctionCodes.has(code))
    issues.push({ code: "format", location: "tag {3600}", message: `"${code}" is not a business function code` });
  if (transactionTypeCode !== undefined && !/^[A-Z0-9]{3}$/.test(transactionTypeCode)) {
    issues.push({ code: "format", location: "tag {3600}", message: "transaction type code must be 3 letters or digits" });
  }
  if (code === "CTR") checkCustomerTransfer(issues, message);
  if (message.beneficiary) checkParty(issues, "4200", message.beneficiary);
  if (message.originator) checkParty(issues, "5000", message.originator);
  const lines = message.originatorToBeneficiary ?? [];
  if (lines.length > originatorToBeneficiaryLinesMax) {
    issues.push({ code: "length", location: "tag {6000}", message: `${lines.length} lines; at most ${originatorToBeneficiaryLinesMax}` });
  }
  lines.forEach((line, index) => {
    checkText(issues, "tag {6000}", line, `line ${index + 1}`, fedwireLineLengthMax, false);
  });
  return issues;
}
