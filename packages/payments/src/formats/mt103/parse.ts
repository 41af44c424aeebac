// Reads a FIN MT103 (input form) into the model; every error names the block, field and line.
import { decodeSwiftAmount } from "./amount.js";
import { Mt103Error, type Mt103Issue } from "./errors.js";
import { fieldRank } from "./fields.js";
import type {
  BankOperationCode,
  DetailsOfCharges,
  Mt103BicParty,
  Mt103Message,
  Mt103Money,
  Mt103NamedParty,
  Mt103Priority,
  Mt103Text,
} from "./model.js";
import { validateMt103 } from "./validate.js";

/** Longest message accepted; FIN caps block 4 at 10,000 characters, the headers add a few hundred. */
export const mt103LengthMax = 12_000;
/** More lines than any supported field needs (5 per party, 4 for 70): stops a runaway continuation. */
const fieldLinesMax = 10;

interface RawField {
  tag: string;
  lines: string[];
  /** 1-based line inside block 4, counting the first field line as 1. */
  line: number;
}

type Issues = Mt103Issue[];

function fail(code: Mt103Issue["code"], location: string, message: string): never {
  throw new Mt103Error([{ code, location, message }]);
}

function nestedEnd(input: string, from: number, id: string): number {
  let position = from;
  while (input[position] === "{") {
    const close = input.indexOf("}", position);
    if (close < 0) fail("format", `block ${id}`, "a tag is not closed with '}'");
    position = close + 1;
  }
  if (input[position] !== "}") fail("format", `block ${id}`, `expected '}' at character ${position + 1}`);
  return position;
}

/** Splits `{1:..}{2:..}{3:{..}}{4:\r\n..\r\n-}{5:{..}}` into block contents, checking their order. */
function splitBlocks(input: string): Map<string, string> {
  const blocks = new Map<string, string>();
  let position = 0;
  let previous = 0;
  while (position < input.length && input.slice(position).trim() !== "") {
    if (input[position] !== "{") fail("format", "message", `expected '{' at character ${position + 1}`);
    const colon = input.indexOf(":", position);
    const id = colon < 0 ? "" : input.slice(position + 1, colon);
    if (!/^[1-5]$/.test(id)) fail("format", "message", `"${id}" at character ${position + 1} is not a block number 1-5`);
    if (Number(id) <= previous) fail("order", `block ${id}`, `block ${id} follows block ${previous}; blocks must ascend and not repeat`);
    previous = Number(id);
    let end: number;
    if (id === "4") {
      end = input.indexOf("\n-}", colon);
      if (end < 0) fail("format", "block 4", "no closing line '-}'");
      blocks.set(id, input.slice(colon + 1, end).replace(/\r$/, ""));
      position = end + 3;
      continue;
    }
    if (id === "3" || id === "5") end = nestedEnd(input, colon + 1, id);
    else end = input.indexOf("}", colon);
    if (end < 0) fail("format", `block ${id}`, "not closed with '}'");
    blocks.set(id, input.slice(colon + 1, end));
    position = end + 1;
  }
  return blocks;
}

function parseBasicHeader(content: string | undefined): Mt103Message["basicHeader"] {
  if (content === undefined) fail("missing", "block 1", "basic header block is missing");
  if (!content.startsWith("F01") || content.length !== 25)
    fail("format", "block 1", "expected F01 + 12-character LT address + 4-digit session + 6-digit sequence");
  return { senderLtAddress: content.slice(3, 15), sessionNumber: content.slice(15, 19), sequenceNumber: content.slice(19, 25) };
}

function parseApplicationHeader(content: string | undefined): Mt103Message["applicationHeader"] {
  if (content === undefined) fail("missing", "block 2", "application header block is missing");
  if (content.startsWith("O")) fail("unsupported", "block 2", "output (O) application headers are not supported; only input (I103)");
  if (!content.startsWith("I103")) fail("format", "block 2", `expected I103, found "${content.slice(0, 4)}"`);
  const rest = content.slice(17);
  if (content.length < 17 || ![0, 1, 3, 4].includes(rest.length))
    fail("format", "block 2", "expected I103 + 12-character LT address + priority [+ monitoring][+ obsolescence]");
  const header: Mt103Message["applicationHeader"] = {
    receiverLtAddress: content.slice(4, 16),
    priority: content.slice(16, 17) as Mt103Priority,
  };
  if (rest.length === 1 || rest.length === 4) header.deliveryMonitoring = rest.slice(0, 1) as "1" | "2" | "3";
  if (rest.length >= 3) header.obsolescencePeriod = rest.slice(-3);
  return header;
}

function parseTags(content: string, id: string): { tag: string; value: string }[] {
  const tags: { tag: string; value: string }[] = [];
  for (const match of content.matchAll(/\{([^:{}]*):([^{}]*)\}/g)) tags.push({ tag: match[1] ?? "", value: match[2] ?? "" });
  if (tags.map(({ tag, value }) => `{${tag}:${value}}`).join("") !== content)
    fail("format", `block ${id}`, "expected a sequence of {tag:value}");
  return tags;
}

function parseUserHeader(content: string | undefined): Mt103Message["userHeader"] {
  if (content === undefined) fail("missing", "block 3", "user header block with {121:UETR} is missing");
  let uetr: string | undefined;
  const header: Partial<Mt103Message["userHeader"]> = {};
  for (const { tag, value } of parseTags(content, "3")) {
    if (tag === "121") uetr = value;
    else if (tag === "108") header.messageUserReference = value;
    else if (tag === "119" && value === "STP") header.stp = true;
    else fail("unsupported", `block 3, tag ${tag}`, `{${tag}:${value}} is not supported; only {108:}, {119:STP} and {121:}`);
  }
  if (uetr === undefined) fail("missing", "block 3, tag 121", "UETR {121:} is missing");
  return { ...header, uetr };
}

function splitFields(content: string | undefined): RawField[] {
  if (content === undefined) fail("missing", "block 4", "text block is missing");
  const lines = content.split(/\r?\n/);
  if (lines[0] !== "") fail("format", "block 4", "text must start on a new line after '{4:'");
  const fields: RawField[] = [];
  lines.slice(1).forEach((text, index) => {
    const line = index + 1;
    const tagMatch = /^:([0-9]{2}[A-Z]?):/.exec(text);
    const current = fields[fields.length - 1];
    if (tagMatch) fields.push({ tag: tagMatch[1] ?? "", lines: [text.slice(tagMatch[0].length)], line });
    else if (!current) fail("format", `block 4, line ${line}`, "expected a field tag such as :20:");
    else if (current.lines.length >= fieldLinesMax)
      fail("length", `block 4, field ${current.tag}, line ${line}`, `more than ${fieldLinesMax} lines`);
    else current.lines.push(text);
  });
  return fields;
}

function checkFieldOrder(fields: RawField[], issues: Issues): void {
  let previousRank = -1;
  for (const field of fields) {
    const location = `block 4, field ${field.tag}, line ${field.line}`;
    const rank = fieldRank(field.tag);
    if (rank === undefined)
      issues.push({ code: "unsupported", location, message: `field ${field.tag} is not supported by this MT103 codec` });
    else if (rank < previousRank || (rank === previousRank && field.tag !== "71F")) {
      issues.push({ code: "order", location, message: `field ${field.tag} is out of MT103 order or repeated` });
    } else previousRank = rank;
  }
  for (const [tags, name] of [
    [["20"], "20"],
    [["23B"], "23B"],
    [["32A"], "32A"],
    [["50A", "50K"], "50a"],
    [["59", "59A"], "59a"],
    [["71A"], "71A"],
  ] as const) {
    if (!fields.some((field) => (tags as readonly string[]).includes(field.tag))) {
      issues.push({ code: "missing", location: "block 4", message: `mandatory field ${name} is missing` });
    }
  }
}

function withAccount(lines: string[]): { account?: string; rest: string[] } {
  const first = lines[0];
  return first?.startsWith("/") ? { account: first.slice(1), rest: lines.slice(1) } : { rest: lines };
}

function bicParty(field: RawField, issues: Issues): Mt103BicParty {
  const { account, rest } = withAccount(field.lines);
  if (rest.length !== 1)
    issues.push({
      code: "format",
      location: `block 4, field ${field.tag}, line ${field.line}`,
      message: "expected [/account] and one BIC line",
    });
  return { ...(account === undefined ? {} : { account }), bic: rest[0] ?? "" };
}

function namedParty(field: RawField): Mt103NamedParty {
  const { account, rest } = withAccount(field.lines);
  return { ...(account === undefined ? {} : { account }), nameAndAddress: rest };
}

function money(field: RawField, text: string, issues: Issues): Mt103Money {
  const currency = text.slice(0, 3);
  const decoded = decodeSwiftAmount(text.slice(3), currency);
  if (!decoded.ok) issues.push({ code: "format", location: `block 4, field ${field.tag}, line ${field.line}`, message: decoded.reason });
  return { currency, amount: decoded.ok ? decoded.value : "" };
}

function singleLine(field: RawField, issues: Issues): string {
  if (field.lines.length !== 1)
    issues.push({ code: "format", location: `block 4, field ${field.tag}, line ${field.line}`, message: "expected one line" });
  return field.lines[0] ?? "";
}

function settlement(field: RawField, issues: Issues): { valueDate: string; interbankSettlement: Mt103Money } {
  const line = singleLine(field, issues);
  const match = /^([0-9]{2})([0-9]{2})([0-9]{2})(.*)$/.exec(line);
  if (!match)
    issues.push({ code: "format", location: `block 4, field 32A, line ${field.line}`, message: "expected YYMMDD + currency + amount" });
  return { valueDate: `20${match?.[1]}-${match?.[2]}-${match?.[3]}`, interbankSettlement: money(field, match?.[4] ?? "", issues) };
}

function fieldsToText(fields: RawField[], issues: Issues): Mt103Text {
  const text: Partial<Mt103Text> = {};
  const charges: Mt103Money[] = [];
  for (const field of fields) {
    if (field.tag === "20") text.sendersReference = singleLine(field, issues);
    else if (field.tag === "23B") text.bankOperationCode = singleLine(field, issues) as BankOperationCode;
    else if (field.tag === "32A") Object.assign(text, settlement(field, issues));
    else if (field.tag === "50A") text.orderingCustomer = { option: "A", ...bicParty(field, issues) };
    else if (field.tag === "50K") text.orderingCustomer = { option: "K", ...namedParty(field) };
    else if (field.tag === "52A") text.orderingInstitution = bicParty(field, issues);
    else if (field.tag === "57A") text.accountWithInstitution = bicParty(field, issues);
    else if (field.tag === "59") text.beneficiary = { option: "none", ...namedParty(field) };
    else if (field.tag === "59A") text.beneficiary = { option: "A", ...bicParty(field, issues) };
    else if (field.tag === "70") text.remittanceInformation = field.lines;
    else if (field.tag === "71A") text.detailsOfCharges = singleLine(field, issues) as DetailsOfCharges;
    else if (field.tag === "71F") charges.push(money(field, singleLine(field, issues), issues));
  }
  if (charges.length > 0) text.sendersCharges = charges;
  return text as Mt103Text;
}

/** Reads a whole FIN MT103; throws Mt103Error with every problem, each naming its block, field and line. */
export function parseMt103(input: string): Mt103Message {
  if (input.length > mt103LengthMax) fail("length", "message", `${input.length} characters; at most ${mt103LengthMax}`);
  const blocks = splitBlocks(input);
  const fields = splitFields(blocks.get("4"));
  const issues: Issues = [];
  checkFieldOrder(fields, issues);
  const message: Mt103Message = {
    basicHeader: parseBasicHeader(blocks.get("1")),
    applicationHeader: parseApplicationHeader(blocks.get("2")),
    userHeader: parseUserHeader(blocks.get("3")),
    text: fieldsToText(fields, issues),
  };
  const trailer = blocks.get("5");
  if (trailer !== undefined) message.trailer = parseTags(trailer, "5");
  if (issues.length > 0) throw new Mt103Error(issues);
  const lineOf = (tag: string) => fields.find((field) => field.tag === tag)?.line;
  const invalid = validateMt103(message, lineOf);
  if (invalid.length > 0) throw new Mt103Error(invalid);
  return message;
}
