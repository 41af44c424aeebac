// USD value of an amount, for risk features only (thresholds such as the 10,000 USD
// currency transaction report). Indicative mid rates, not the ledger's booking rates; kept
// as data here so scoring needs no call to the ledger. Unknown currencies count at par and
// say so in the features (usd_rate_known = false).
import { currencyDigits } from "@qenex/platform";

/** USD per one unit of the currency (indicative, 2026). */
const usdPerUnit: Readonly<Record<string, number>> = {
  USD: 1,
  EUR: 1.08,
  GBP: 1.27,
  CHF: 1.12,
  JPY: 0.0067,
  CNY: 0.14,
  CAD: 0.73,
  AUD: 0.66,
  SGD: 0.74,
  HKD: 0.128,
  INR: 0.012,
  BHD: 2.65,
  KWD: 3.25,
  AED: 0.272,
  SAR: 0.267,
  SEK: 0.095,
  NOK: 0.093,
  DKK: 0.145,
  PLN: 0.25,
  MXN: 0.055,
  BRL: 0.18,
  ZAR: 0.055,
  RUB: 0.011,
  TRY: 0.03,
};

/** The amount in USD (a double: for scoring only, never for booking). */
export function usdValue(amountMinor: bigint, currency: string): { usd: number; rateKnown: boolean } {
  const digits = currencyDigits(currency) ?? 2;
  const units = Number(amountMinor) / 10 ** digits;
  const rate = usdPerUnit[currency];
  return { usd: units * (rate ?? 1), rateKnown: rate !== undefined };
}
