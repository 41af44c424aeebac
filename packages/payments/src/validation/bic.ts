// BIC (ISO 9362) checks: our own strict structure, ibantools for the country code.
import { ValidationErrorsBIC, validateBIC } from "ibantools";
import { readText, type Violation, violation } from "./violation.js";

/**
 * ISO 20022 BICFIDec2014Identifier: institution 4 alphanumerics, ISO 3166 country 2 letters,
 * location 2 alphanumerics, optional branch 3 alphanumerics. Upper case only, as on the wire.
 */
export const bicPattern = /^[A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?$/;

/**
 * Validates a BIC of 8 or 11 characters. ibantools' own check is case-insensitive and wants
 * letters in the institution code, so it only decides whether the country code is known.
 */
export function validateBic(value: unknown, field: string): Violation[] {
  const read = readText(value, field);
  if (!read.ok) return [read.violation];
  const bic = read.text;
  if (!bicPattern.test(bic)) {
    return [
      violation(
        field,
        "bic-format",
        `${field} must be 8 or 11 upper-case characters: institution (4), country (2 letters), location (2), optional branch (3)`,
      ),
    ];
  }
  if (validateBIC(bic).errorCodes.includes(ValidationErrorsBIC.NoBICCountry)) {
    return [violation(field, "bic-country", `${field} has country code "${bic.slice(4, 6)}", which is not an ISO 3166 country`)];
  }
  return [];
}
