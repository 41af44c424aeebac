// Currency per rail and amount limits per rail, on bigint minor units.
import { currencyDigits, formatMoney, parseMoney } from "@qenex/platform";
import { type AmountLimits, type Rail, railProfiles } from "./rails.js";
import { readText, type Violation, violation } from "./violation.js";

/** Longest amount string read: 18 digits (ISO 20022 totalDigits) plus sign and point, with room. */
export const amountTextLengthMax = 32;

export function validateCurrency(value: unknown, rail: Rail, field: string): Violation[] {
  const read = readText(value, field);
  if (!read.ok) return [read.violation];
  const currency = read.text;
  if (!/^[A-Z]{3}$/.test(currency) || currencyDigits(currency) === undefined) {
    return [violation(field, "currency", `${field} "${currency.slice(0, 8)}" is not an ISO 4217 currency with minor units`)];
  }
  const only = railProfiles[rail].currency;
  if (only !== null && currency !== only) {
    return [violation(field, "currency", `${rail} settles in ${only} only, not ${currency}`)];
  }
  return [];
}

/** Reads a positive decimal amount in a currency; the violation says why it cannot be read. */
export function readAmount(
  value: unknown,
  currency: string,
  field: string,
): { ok: true; amountMinor: bigint } | { ok: false; violation: Violation } {
  const read = readText(value, field);
  if (!read.ok) return read;
  if (read.text.length > amountTextLengthMax) {
    return { ok: false, violation: violation(field, "too-long", `${field} is longer than ${amountTextLengthMax} characters`) };
  }
  const parsed = parseMoney(read.text, currency);
  if (!parsed.ok) return { ok: false, violation: violation(field, "amount-format", `${field}: ${parsed.reason}`) };
  if (parsed.amountMinor <= 0n) {
    return { ok: false, violation: violation(field, "amount-positive", `${field} must be greater than zero`) };
  }
  return { ok: true, amountMinor: parsed.amountMinor };
}

function ceiling(rail: Rail, urgent: boolean, limits: AmountLimits): { amountMinorMax: bigint; name: string } | null {
  switch (rail) {
    case "SEPA":
      return { amountMinorMax: limits.sepaAmountMinorMax, name: "SEPA limit" };
    case "ACH":
      return urgent
        ? { amountMinorMax: limits.achSameDayAmountMinorMax, name: "ACH same-day per-entry limit" }
        : { amountMinorMax: limits.achAmountMinorMax, name: "ACH per-entry limit" };
    case "FEDWIRE":
      return limits.fedwireAmountMinorMax === null ? null : { amountMinorMax: limits.fedwireAmountMinorMax, name: "Fedwire limit" };
    case "SWIFT":
      return limits.swiftAmountMinorMax === null ? null : { amountMinorMax: limits.swiftAmountMinorMax, name: "SWIFT limit" };
  }
}

/**
 * Checks an amount against the rail: readable in the currency, above zero, within the rail's
 * ceiling (an urgent ACH entry is a same-day entry), and short enough for the rail's amount field.
 * The currency must already have passed validateCurrency.
 */
export function validateAmount(
  value: unknown,
  currency: string,
  rail: Rail,
  urgent: boolean,
  limits: AmountLimits,
  field: string,
): Violation[] {
  const amount = readAmount(value, currency, field);
  if (!amount.ok) return [amount.violation];
  const limit = ceiling(rail, urgent, limits);
  if (limit !== null && amount.amountMinor > limit.amountMinorMax) {
    const shown = `${formatMoney(amount.amountMinor, currency)} ${currency}`;
    const max = `${formatMoney(limit.amountMinorMax, currency)} ${currency}`;
    return [violation(field, "amount-limit", `${field} ${shown} exceeds the ${limit.name} of ${max}`)];
  }
  const textLengthMax = railProfiles[rail].amountTextLengthMax;
  const text = formatMoney(amount.amountMinor, currency);
  if (textLengthMax !== null && text.length > textLengthMax) {
    return [violation(field, "amount-limit", `${field} ${text} has ${text.length} characters; ${rail} allows ${textLengthMax}`)];
  }
  return [];
}
