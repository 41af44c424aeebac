// Exchange-rate arithmetic in exact bigint. A rate is held as "rate units": the rate × 10^12,
// so every rate the contract accepts (at most 12 digits after the point) is an integer and
// no conversion ever passes through a JS number.

/** Digits after the point a rate may have; rateUnits = rate × 10^rateScaleDigits. */
export const rateScaleDigits = 12;
const rateScale = 10n ** BigInt(rateScaleDigits);

/** Largest rate the rate_units BIGINT column holds: 9,223,372.036854775807. */
export const rateUnitsMax = 9_223_372_036_854_775_807n;

export type ParseRateResult = { ok: true; rateUnits: bigint } | { ok: false; reason: string };

const ratePattern = /^([0-9]+)(?:\.([0-9]+))?$/;

/** Reads a decimal rate ("149.5") into rate units, exactly; zero and excess digits are errors. */
export function parseRateUnits(rate: string): ParseRateResult {
  const match = ratePattern.exec(rate);
  if (!match) return { ok: false, reason: `"${rate}" is not a decimal rate` };
  const [, whole = "", fraction = ""] = match;
  if (fraction.length > rateScaleDigits) {
    return { ok: false, reason: `"${rate}" has ${fraction.length} decimal places; a rate allows ${rateScaleDigits}` };
  }
  const rateUnits = BigInt(whole) * rateScale + BigInt(fraction.padEnd(rateScaleDigits, "0"));
  if (rateUnits <= 0n) return { ok: false, reason: "must be greater than zero" };
  if (rateUnits > rateUnitsMax) return { ok: false, reason: `"${rate}" is above the largest rate the ledger holds (9223372.036854775807)` };
  return { ok: true, rateUnits };
}

/**
 * Writes rate units as the shortest decimal ("149.5", "0.4101", "2"): one canonical text per
 * rate, so the same rate is recorded on transfers the same way however the caller wrote it.
 */
export function formatRateUnits(rateUnits: bigint): string {
  const whole = rateUnits / rateScale;
  const fraction = (rateUnits % rateScale).toString().padStart(rateScaleDigits, "0").replace(/0+$/, "");
  return fraction === "" ? whole.toString() : `${whole}.${fraction}`;
}

/**
 * Converts an amount in one currency's minor units into another's:
 * amountMinor / 10^fromDigits × rate, expressed in units of 10^-toDigits.
 *
 * Rounding: HALF-EVEN (banker's rounding). The exact result is rounded to the nearest minor
 * unit of the destination currency; an exact tie (…5 followed by nothing) goes to the even
 * neighbour (0.5 → 0, 1.5 → 2, 2.5 → 2). Half-even has no upward bias, so many conversions
 * do not drift the FX liquidity accounts one way. Negative amounts round symmetrically.
 */
export function convertMinor(amountMinor: bigint, fromDigits: number, toDigits: number, rateUnits: bigint): bigint {
  if (rateUnits <= 0n) throw new RangeError("an exchange rate must be greater than zero");
  if (!isDigitCount(fromDigits) || !isDigitCount(toDigits)) throw new RangeError("minor-unit digits must be small non-negative integers");
  const numerator = amountMinor * rateUnits * 10n ** BigInt(toDigits);
  const denominator = 10n ** BigInt(fromDigits + rateScaleDigits);
  return divideHalfEven(numerator, denominator);
}

/** numerator / denominator rounded half-even; denominator > 0. */
export function divideHalfEven(numerator: bigint, denominator: bigint): bigint {
  if (denominator <= 0n) throw new RangeError("denominator must be greater than zero");
  const magnitude = numerator < 0n ? -numerator : numerator;
  let quotient = magnitude / denominator;
  const twiceRemainder = (magnitude % denominator) * 2n;
  if (twiceRemainder > denominator || (twiceRemainder === denominator && quotient % 2n === 1n)) quotient += 1n;
  return numerator < 0n ? -quotient : quotient;
}

function isDigitCount(digits: number): boolean {
  return Number.isInteger(digits) && digits >= 0 && digits <= 18;
}
