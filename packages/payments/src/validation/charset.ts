// The character sets rails accept in free-text fields, and a check that names the offender.
import { readText, type Violation, violation } from "./violation.js";

export interface Charset {
  readonly name: string;
  /** Matches one allowed character. */
  readonly allowed: RegExp;
}

/** SWIFT X (MT fields), single line: a-z A-Z 0-9 / - ? : ( ) . , ' + space. CR LF only separate lines. */
export const swiftX: Charset = { name: "SWIFT X", allowed: /^[a-zA-Z0-9/\-?:().,'+ ]$/ };

/**
 * EPC basic Latin subset for SEPA (EPC guidelines on character set): the same characters as
 * SWIFT X, no line breaks. Others must be converted before sending (EPC conversion table).
 */
export const epcLatin: Charset = { name: "EPC Latin", allowed: swiftX.allowed };

/** Printable ASCII 0x20–0x7E: NACHA forbids control characters; we also keep out non-ASCII. */
export const printableAscii: Charset = { name: "printable ASCII", allowed: /^[\x20-\x7E]$/ };

/** How many distinct offending characters one message names before it stops listing. */
const namedCharactersMax = 5;

function describe(character: string): string {
  const codePoint = character.codePointAt(0) ?? 0;
  return `"${character}" (U+${codePoint.toString(16).toUpperCase().padStart(4, "0")})`;
}

/** Distinct characters of text outside the charset, in order of first appearance. */
export function invalidCharacters(text: string, charset: Charset): string[] {
  const found = new Set<string>();
  for (const character of text) {
    if (!charset.allowed.test(character)) found.add(character);
  }
  return [...found];
}

export function validateCharset(text: string, charset: Charset, field: string): Violation[] {
  const invalid = invalidCharacters(text, charset);
  if (invalid.length === 0) return [];
  const named = invalid.slice(0, namedCharactersMax).map(describe).join(", ");
  const more = invalid.length > namedCharactersMax ? ` and ${invalid.length - namedCharactersMax} more` : "";
  return [violation(field, "charset", `${field} contains ${named}${more}, outside the ${charset.name} character set`)];
}

/** A required free-text field: present, at most lengthMax characters, all inside the charset. */
export function validateText(value: unknown, field: string, lengthMax: number, charset: Charset): Violation[] {
  const read = readText(value, field);
  if (!read.ok) return [read.violation];
  const violations: Violation[] = [];
  const length = [...read.text].length;
  if (length > lengthMax) {
    violations.push(violation(field, "too-long", `${field} has ${length} characters; at most ${lengthMax} allowed`));
  }
  violations.push(...validateCharset(read.text, charset, field));
  return violations;
}
