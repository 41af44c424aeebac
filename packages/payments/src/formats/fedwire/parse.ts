// Reads a legacy Fedwire FAIM message into the model; every error names the tag.
import { decodeFedwireAmount } from "./amount.js";
import { FedwireError, type FedwireIssue } from "./errors.js";
import type {
  FedwireBusinessFunctionCode,
  FedwireDepositoryInstitution,
  FedwireIdentificationCode,
  FedwireMessage,
  FedwireParty,
  FedwireSenderSupplied,
} from "./model.js";
import { validateFedwire } from "./validate.js";

/** Longest message accepted: far above what the supported tags can fill (about 700 characters). */
export const fedwireLengthMax = 8_000;
/** Tags this codec reads and writes; any other tag is rejected, not skipped. */
export const fedwireSupportedTags = ["1500", "1510", "1520", "2000", "3100", "3320", "3400", "3600", "4200", "5000", "6000"] as const;
const mandatoryTags = ["1500", "1510", "1520", "2000", "3100", "3400", "3600"];

function fail(issues: FedwireIssue[]): never {
  throw new FedwireError(issues);
}

/**
 * Reads the elements of one tag. A tag holding a '*' is in variable-length form, where each element
 * ends at '*' and one longer than its maximum is an error (never cut); otherwise it is fixed width, space-padded.
 */
function elementReader(tag: string, content: string) {
  const variableLength = content.includes("*");
  let rest = content;
  return {
    read(lengthMax: number, what: string): string {
      const star = variableLength ? rest.indexOf("*") : -1;
      const end = variableLength ? (star >= 0 ? star : rest.length) : Math.min(lengthMax, rest.length);
      if (end > lengthMax) {
        fail([{ code: "length", location: `tag {${tag}}`, message: `${what} is ${end} characters; at most ${lengthMax} allowed` }]);
      }
      const value = rest.slice(0, end);
      rest = rest.slice(star >= 0 ? star + 1 : end);
      return value.trimEnd();
    },
    fixed(length: number): string {
      const value = rest.slice(0, length);
      if (value.length !== length)
        fail([{ code: "length", location: `tag {${tag}}`, message: `expected ${length} more characters, found "${value}"` }]);
      rest = rest.slice(length);
      return value;
    },
    end(): void {
      if (rest.trim() !== "")
        fail([{ code: "length", location: `tag {${tag}}`, message: `unexpected text "${rest}" after the last element` }]);
    },
  };
}

/** Splits `{1500}...{1510}...` into tag contents; line breaks between tags are allowed and dropped. */
function splitTags(input: string): Map<string, string> {
  const tags = new Map<string, string>();
  const issues: FedwireIssue[] = [];
  const parts = input.trim().split(/\{([0-9]{4})\}/);
  if (parts[0] !== "") fail([{ code: "format", location: "message", message: "expected a tag such as {1500} at the start" }]);
  for (let index = 1; index < parts.length; index += 2) {
    const tag = parts[index] ?? "";
    const content = (parts[index + 1] ?? "").replace(/\r?\n$/, "");
    const location = `tag {${tag}}`;
    if (!(fedwireSupportedTags as readonly string[]).includes(tag)) {
      issues.push({
        code: "unsupported",
        location,
        message: `tag {${tag}} is not supported; supported are ${fedwireSupportedTags.join(", ")}`,
      });
    } else if (tags.has(tag)) issues.push({ code: "format", location, message: "tag appears more than once" });
    else if (/[{}\r\n]/.test(content)) issues.push({ code: "format", location, message: "content has a brace or line break" });
    else tags.set(tag, content);
  }
  for (const tag of mandatoryTags)
    if (!tags.has(tag)) issues.push({ code: "missing", location: `tag {${tag}}`, message: "mandatory tag is missing" });
  if (issues.length > 0) fail(issues);
  return tags;
}

function senderSupplied(content: string): FedwireSenderSupplied {
  if (content.length !== 11 && content.length !== 12) {
    fail([
      { code: "length", location: "tag {1500}", message: "expected version (2) + correlation (8) + test/production (1) + duplication (1)" },
    ]);
  }
  return {
    formatVersion: content.slice(0, 2) as "30",
    userRequestCorrelation: content.slice(2, 10).trimEnd(),
    testProductionCode: content.slice(10, 11) as "T" | "P",
    messageDuplicationCode: content.slice(11, 12).trim() as "" | "R" | "P",
  };
}

function institution(tag: string, content: string): FedwireDepositoryInstitution {
  const reader = elementReader(tag, content);
  const value = { routingNumber: reader.fixed(9), shortName: reader.read(18, "short name") };
  reader.end();
  return value;
}

function party(tag: string, content: string): FedwireParty {
  const reader = elementReader(tag, content);
  const identificationCode = reader.fixed(1) as FedwireIdentificationCode;
  const identifier = reader.read(34, "identifier");
  const name = reader.read(35, "name");
  const addressLines = [1, 2, 3].map((line) => reader.read(35, `address line ${line}`));
  reader.end();
  while (addressLines.length > 0 && addressLines[addressLines.length - 1] === "") addressLines.pop();
  return { identificationCode, identifier, name, addressLines };
}

function lines(tag: string, content: string, count: number): string[] {
  const reader = elementReader(tag, content);
  const values = Array.from({ length: count }, (_, index) => reader.read(35, `line ${index + 1}`));
  reader.end();
  while (values.length > 0 && values[values.length - 1] === "") values.pop();
  return values;
}

function imad(content: string): FedwireMessage["imad"] {
  if (content.length !== 22)
    fail([{ code: "length", location: "tag {1520}", message: `IMAD is ${content.length} characters; expected 22` }]);
  const date = `${content.slice(0, 4)}-${content.slice(4, 6)}-${content.slice(6, 8)}`;
  return { cycleDate: date, inputSource: content.slice(8, 16), inputSequenceNumber: content.slice(16, 22) };
}

function businessFunction(content: string): FedwireMessage["businessFunction"] {
  const reader = elementReader("3600", content);
  const code = reader.fixed(3) as FedwireBusinessFunctionCode;
  const transactionTypeCode = reader.read(3, "transaction type code");
  reader.end();
  return transactionTypeCode === "" ? { code } : { code, transactionTypeCode };
}

function senderReference(content: string): string {
  const reader = elementReader("3320", content);
  const value = reader.read(16, "sender reference");
  reader.end();
  return value;
}

/** Reads a FAIM message (tags on one line or one per line); throws FedwireError naming each bad tag. */
export function parseFedwire(input: string): FedwireMessage {
  if (input.length > fedwireLengthMax)
    fail([{ code: "length", location: "message", message: `${input.length} characters; at most ${fedwireLengthMax}` }]);
  const tags = splitTags(input);
  const get = (tag: string) => tags.get(tag) ?? "";
  const typeSubtype = get("1510");
  if (typeSubtype.length !== 4) fail([{ code: "length", location: "tag {1510}", message: "expected type (2) + subtype (2)" }]);
  const amount = decodeFedwireAmount(get("2000"));
  if (!amount.ok) fail([{ code: "format", location: "tag {2000}", message: amount.reason }]);
  const message: FedwireMessage = {
    senderSupplied: senderSupplied(get("1500")),
    typeSubtype: { typeCode: typeSubtype.slice(0, 2), subtypeCode: typeSubtype.slice(2, 4) },
    imad: imad(get("1520")),
    amountUsd: amount.value,
    senderDepositoryInstitution: institution("3100", get("3100")),
    receiverDepositoryInstitution: institution("3400", get("3400")),
    businessFunction: businessFunction(get("3600")),
  };
  const reference = tags.get("3320");
  if (reference !== undefined) message.senderReference = senderReference(reference);
  const beneficiary = tags.get("4200");
  if (beneficiary !== undefined) message.beneficiary = party("4200", beneficiary);
  const originator = tags.get("5000");
  if (originator !== undefined) message.originator = party("5000", originator);
  const information = tags.get("6000");
  if (information !== undefined) message.originatorToBeneficiary = lines("6000", information, 4);
  const issues = validateFedwire(message);
  if (issues.length > 0) fail(issues);
  return message;
}
