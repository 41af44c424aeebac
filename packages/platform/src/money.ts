// Decimal strings on the wire, bigint minor units everywhere else. Never a JS number.
import currencyCodes from "currency-codes";

/** Largest amount a balance column can hold: PostgreSQL BIGINT. */
export const amountMinorMax = 9_223_372_036_854_775_807n;

/** ISO 4217 codes without a minor unit ("N.A."): precious metals, SDR, testing, no-currency. */
const codesWithoutMinorUnit = new Set(["XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XDR", "XPD", "XPT", "XSU", "XTS", "XUA", "XXX"]);

/** ISO 4217 code → minor-unit digits, built once: the library's lookup is a linear scan. */
const digitsByCurrency = new Map(
  currencyCodes.data.filter((c) => !codesWithoutMinorUnit.has(c.code)).map((c) => [c.code, c.digits] as const),
);

/** Minor-unit digits of an ISO 4217 currency, or undefined when it is not one we book. */
export function currencyDigits(currency: string): number | undefined {
  return digitsByCurrency.get(currency);
}

export type ParseMoneyResult = { ok: true; amountMinor: bigint } | { ok: false; reason: string };

const decimalPattern = /^(-?)([0-9]+)(?:\.([0-9]+))?$/;

/**
 * Reads a decimal string in a currency into minor units, exactly. More digits than the
 * currency allows is an error, never a rounding ("1.234" USD fails; "1.230" USD too).
 */
export function parseMoney(amount: string, currency: string): ParseMoneyResult {
  const digits = currencyDigits(currency);
  if (digits === undefined) return { ok: false, reason: `unknown currency "${currency}"` };
  const match = decimalPattern.exec(amount);
  if (!match) return { ok: false, reason: `"${amount}" is not a decimal amount` };
  const [, sign = "", whole = "", fraction = ""] = match;
  if (fraction.length > digits) {
    return {
      ok: false,
      reason: `"${amount}" has ${fraction.length} decimal places; ${currency} allows ${digits}`,
    };
  }
  const amountMinor = BigInt(whole + fraction.padEnd(digits, "0")) * (sign ? -1n : 1n);
  if (amountMinor > amountMinorMax || -amountMinor > amountMinorMax) {
    return { ok: false, reason: `"${amount}" is beyond the largest amount the ledger holds` };
  }
  return { ok: true, amountMinor };
}

/** Writes minor units as a decimal string with the currency's digits: 1050n USD → "10.50". */
export function formatMoney(amountMinor: bigint, currency: string): string {
  const digits = currencyDigits(currency) ?? 0;
  const negative = amountMinor < 0n;
  const text = (negative ? -amountMinor : amountMinor).toString().padStart(digits + 1, "0");
  const whole = text.slice(0, text.length - digits);
  const fraction = digits > 0 ? `.${text.slice(text.length - digits)}` : "";
  return `${negative ? "-" : ""}${whole}${fraction}`;
}
