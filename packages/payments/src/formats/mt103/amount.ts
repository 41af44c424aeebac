// SWIFT "15d" amounts: comma decimal separator, at most the currency's ISO 4217 minor digits, 15 characters at most.
import { currencyDigits, formatMoney, parseMoney } from "@qenex/platform";

/** Longest a `15d` amount may be, comma included. */
export const swiftAmountLengthMax = 15;

export type SwiftAmountResult = { ok: true; value: string } | { ok: false; reason: string };

/** "1000.00" USD → "1000,00"; "5000" JPY → "5000,". Rejects more decimals than the currency has, never rounds. */
export function encodeSwiftAmount(amount: string, currency: string): SwiftAmountResult {
  const parsed = parseMoney(amount, currency);
  if (!parsed.ok) return parsed;
  if (parsed.amountMinor < 0n) return { ok: false, reason: `amount "${amount}" is negative` };
  const decimal = formatMoney(parsed.amountMinor, currency);
  const value = decimal.includes(".") ? decimal.replace(".", ",") : `${decimal},`;
  if (value.length > swiftAmountLengthMax) {
    return { ok: false, reason: `amount "${value}" is ${value.length} characters; at most ${swiftAmountLengthMax} allowed` };
  }
  return { ok: true, value };
}

const swiftAmountPattern = /^([0-9]+),([0-9]*)$/;

/** "1234,5" EUR → "1234.50": a '.' decimal string with exactly the currency's digits. */
export function decodeSwiftAmount(text: string, currency: string): SwiftAmountResult {
  const digits = currencyDigits(currency);
  if (digits === undefined) return { ok: false, reason: `unknown currency "${currency}"` };
  if (text.length > swiftAmountLengthMax) {
    return { ok: false, reason: `amount "${text}" is ${text.length} characters; at most ${swiftAmountLengthMax} allowed` };
  }
  const match = swiftAmountPattern.exec(text);
  if (!match) return { ok: false, reason: `amount "${text}" must be digits with a decimal comma, no other separators` };
  const [, whole = "", fraction = ""] = match;
  if (fraction.length > digits) {
    return { ok: false, reason: `amount "${text}" has ${fraction.length} decimals; ${currency} allows ${digits}` };
  }
  return { ok: true, value: formatMoney(BigInt(whole + fraction.padEnd(digits, "0")), currency) };
}
