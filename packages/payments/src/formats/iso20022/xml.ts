// The XML layer: an ordered element builder with escaping for rendering, and a
// fast-xml-parser wrapper plus path-tracking readers for parsing.
import { XMLParser } from "fast-xml-parser";
import { Iso20022Error } from "./violations.js";

/** Largest document parse() accepts, in UTF-16 code units; bounds memory per message. */
export const xmlCharsMax = 16 * 1024 * 1024;

/** Largest number of repetitions of any element we read (transactions, reasons, lines). */
export const repeatedElementsMax = 10_000;

export interface XmlElement {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly content: string | readonly XmlElement[];
}

/** An element; undefined children are optional elements left out. */
export function el(
  name: string,
  content: string | readonly (XmlElement | undefined)[],
  attributes: Readonly<Record<string, string>> = {},
): XmlElement {
  if (typeof content === "string") return { name, attributes, content };
  return { name, attributes, content: content.filter((c): c is XmlElement => c !== undefined) };
}

/** A text element when the value is present, otherwise nothing. */
export function optEl(name: string, value: string | undefined): XmlElement | undefined {
  return value === undefined ? undefined : el(name, value);
}

// XML 1.0 Char production: tab, LF, CR and U+0020 upwards, minus surrogates and U+FFFE/U+FFFF.
// Anything else cannot be written at all, escaped or not.
export const invalidXmlChar = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** Escapes text content; CR becomes a reference so a parser's newline normalisation keeps it. */
function escapeText(value: string): string {
  if (invalidXmlChar.test(value)) throw Iso20022Error.at("Document", "text holds a character XML 1.0 cannot carry");
  return value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/\r/g, "&#13;");
}

function escapeAttribute(value: string): string {
  return escapeText(value).replace(/"/g, "&quot;").replace(/\t/g, "&#9;").replace(/\n/g, "&#10;");
}

function write(element: XmlElement, depth: number, out: string[]): void {
  const indent = "  ".repeat(depth);
  const attributes = Object.entries(element.attributes)
    .map(([name, value]) => ` ${name}="${escapeAttribute(value)}"`)
    .join("");
  if (typeof element.content === "string") {
    out.push(`${indent}<${element.name}${attributes}>${escapeText(element.content)}</${element.name}>`);
    return;
  }
  out.push(`${indent}<${element.name}${attributes}>`);
  for (const child of element.content) write(child, depth + 1, out);
  out.push(`${indent}</${element.name}>`);
}

/** Writes `<Document xmlns=namespace>` around the message element, indented, UTF-8. */
export function serializeDocument(namespace: string, message: XmlElement): string {
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  write(el("Document", [message], { xmlns: namespace }), 0, out);
  return `${out.join("\n")}\n`;
}

/** A parsed element: children by local name, text under "#text", attributes under "@_". */
export type XmlNode = { readonly [key: string]: unknown };

/** Elements that may repeat in the messages we read: always arrays, so paths carry an index. */
const repeatedElements = new Set([
  "CdtTrfTxInf",
  "PmtInf",
  "TxInfAndSts",
  "OrgnlGrpInfAndSts",
  "TxInf",
  "StsRsnInf",
  "RtrRsnInf",
  "Ustrd",
  "AdrLine",
  "AddtlInf",
]);

const parser = new XMLParser({
  isArray: (name) => repeatedElements.has(name),
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  // Values stay strings: amounts and ids must never pass through a JS number.
  parseTagValue: false,
  parseAttributeValue: false,
  // Keep text exactly; whitespace between elements lands in "#text" of containers and is ignored.
  trimValues: false,
  // Decodes character references (&#233;); DOCTYPE entities never get here (rejected below).
  htmlEntities: true,
  transformTagName: (name) => name.slice(name.indexOf(":") + 1),
});

/**
 * Parses an ISO 20022 document and returns its message element (the one child of
 * Document), after checking the Document's namespace. A DOCTYPE is refused: ISO
 * messages never carry one, and refusing it closes off entity-expansion attacks.
 */
export function parseDocument(xml: string, namespace: string, messageName: string): XmlNode {
  if (xml.length > xmlCharsMax) throw Iso20022Error.at("Document", `document exceeds ${xmlCharsMax} characters`);
  if (/<!DOCTYPE/i.test(xml)) throw Iso20022Error.at("Document", "a DOCTYPE is not allowed");
  const root = /<(?:([A-Za-z_][\w.-]*):)?Document[\s/>]/.exec(xml);
  if (!root) throw Iso20022Error.at("Document", "no Document element");
  let tree: XmlNode;
  try {
    tree = parser.parse(xml, true) as XmlNode;
  } catch (error) {
    throw Iso20022Error.at("Document", `not well-formed XML: ${(error as Error).message}`);
  }
  const document = tree.Document;
  if (!isNode(document)) throw Iso20022Error.at("Document", "no Document element");
  const xmlnsAttribute = root[1] === undefined ? "@_xmlns" : `@_xmlns:${root[1]}`;
  if (document[xmlnsAttribute] !== namespace) {
    throw Iso20022Error.at("Document", `namespace is not ${namespace}`);
  }
  return required(document, messageName, "Document");
}

function isNode(value: unknown): value is XmlNode {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function join(path: string, name: string): string {
  return `${path}/${name}`;
}

/** All occurrences of a child element, in document order. */
export function children(node: XmlNode, name: string, path: string): XmlNode[] {
  const value = node[name];
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  if (list.length > repeatedElementsMax) {
    throw Iso20022Error.at(join(path, name), `more than ${repeatedElementsMax} occurrences`);
  }
  return list.map((item: unknown, index) => {
    if (isNode(item)) return item;
    // An empty container parses as "", whitespace-only text included.
    if (typeof item === "string" && item.trim() === "") return {};
    throw Iso20022Error.at(`${join(path, name)}[${index}]`, "expected child elements, found text");
  });
}

export function optional(node: XmlNode, name: string, path: string): XmlNode | undefined {
  const value = node[name];
  if (Array.isArray(value) && value.length !== 1) throw Iso20022Error.at(join(path, name), "must occur at most once");
  if (value === undefined) return undefined;
  return children(node, name, path)[0];
}

export function required(node: XmlNode, name: string, path: string): XmlNode {
  const child = optional(node, name, path);
  if (child === undefined) throw Iso20022Error.at(join(path, name), "is required");
  return child;
}

function leafText(value: unknown, path: string): string {
  if (typeof value === "string") return value;
  if (isNode(value)) {
    const elementNames = Object.keys(value).filter((k) => k !== "#text" && !k.startsWith("@_"));
    if (elementNames.length === 0) return typeof value["#text"] === "string" ? value["#text"] : "";
  }
  throw Iso20022Error.at(path, "expected text, found child elements");
}

export function optionalText(node: XmlNode, name: string, path: string): string | undefined {
  const value = node[name];
  if (Array.isArray(value)) throw Iso20022Error.at(join(path, name), "must occur at most once");
  return value === undefined ? undefined : leafText(value, join(path, name));
}

export interface XmlLeaf {
  /** Element path with an index on repeated elements, e.g. `PmtInf[0]/Dbtr/Nm`. */
  readonly path: string;
  readonly name: string;
  readonly text: string;
}

/**
 * Every text element under a message element (inside Document), paths as a reader
 * of the written document sees them: same-named siblings grouped in order of first
 * appearance, an index on repeated elements or on a name that occurs more than once.
 */
export function leaves(message: XmlElement, path: string): XmlLeaf[] {
  const out: XmlLeaf[] = [];
  const visit = (at: XmlElement, atPath: string): void => {
    if (typeof at.content === "string") {
      out.push({ path: atPath, name: at.name, text: at.content });
      return;
    }
    const byName = new Map<string, XmlElement[]>();
    for (const child of at.content) byName.set(child.name, [...(byName.get(child.name) ?? []), child]);
    for (const [name, group] of byName) {
      const indexed = group.length > 1 || repeatedElements.has(name);
      group.forEach((child, i) => {
        visit(child, indexed ? `${atPath}/${name}[${i}]` : `${atPath}/${name}`);
      });
    }
  };
  visit(message, path);
  return out;
}

export function requiredText(node: XmlNode, name: string, path: string): string {
  const text = optionalText(node, name, path);
  if (text === undefined) throw Iso20022Error.at(join(path, name), "is required");
  return text;
}

export function texts(node: XmlNode, name: string, path: string): string[] {
  const value = node[name];
  if (value === undefined) return [];
  const list: unknown[] = Array.isArray(value) ? value : [value];
  if (list.length > repeatedElementsMax) {
    throw Iso20022Error.at(join(path, name), `more than ${repeatedElementsMax} occurrences`);
  }
  return list.map((item, index) => leafText(item, `${join(path, name)}[${index}]`));
}

/** An attribute of a text element (e.g. Ccy on an amount). */
export function attribute(node: XmlNode, element: string, name: string, path: string): string | undefined {
  const value = node[element];
  if (!isNode(value)) return undefined;
  const attr = value[`@_${name}`];
  if (attr !== undefined && typeof attr !== "string") throw Iso20022Error.at(join(path, element), `bad ${name}`);
  return attr;
}
