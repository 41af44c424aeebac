// IBAN checks via ibantools: country, per-country length and BBAN format, mod-97.
import { electronicFormatIBAN, ValidationErrorsIBAN, validateIBAN } from "ibantools";
import { readText, type Violation, violation } from "./violation.js";

/** Longest IBAN any country issues (ISO 13616). */
const ibanLengthMax = 34;

/** Electronic format: spaces removed, upper case ("de89 3704…" → "DE893704…"). */
export function normalizeIban(iban: string): string {
  return electronicFormatIBAN(iban) ?? "";
}

/** Validates an IBAN, given in electronic or print format (spaces allowed, any case). */
export function validateIban(value: unknown, field: string): Violation[] {
  const read = readText(value, field);
  if (!read.ok) return [read.violation];
  const iban = normalizeIban(read.text);
  if (iban.length > ibanLengthMax) {
    return [violation(field, "iban-length", `${field} has ${iban.length} characters; an IBAN has at most ${ibanLengthMax}`)];
  }
  const result = validateIBAN(iban);
  if (result.valid) return [];
  const codes = new Set(result.errorCodes);
  const country = iban.slice(0, 2);
  if (codes.has(ValidationErrorsIBAN.NoIBANCountry) || codes.has(ValidationErrorsIBAN.NoIBANProvided)) {
    return [violation(field, "iban-country", `${field} starts with "${country}", which is not an IBAN country`)];
  }
  // A wrong length also fails the BBAN format and the checksum; the length is the cause to report.
  if (codes.has(ValidationErrorsIBAN.WrongBBANLength)) {
    return [violation(field, "iban-length", `${field} has ${iban.length} characters; ${country} IBANs have a different length`)];
  }
  if (codes.has(ValidationErrorsIBAN.WrongBBANFormat) || codes.has(ValidationErrorsIBAN.ChecksumNotNumber)) {
    return [violation(field, "iban-format", `${field} does not have the ${country} IBAN format`)];
  }
  if (codes.has(ValidationErrorsIBAN.WrongAccountBankBranchChecksum)) {
    return [violation(field, "iban-checksum", `${field} fails the ${country} national account checksum`)];
  }
  return [violation(field, "iban-checksum", `${field} fails the IBAN mod-97 check`)];
}
