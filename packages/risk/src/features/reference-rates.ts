// USD value of an amount, for risk features only (thresholds such as the 10,000 USD
// currency transaction report). Indicative mid rates, not the ledger's booking rates; kept
// as data here so scoring needs no call to the ledger. A currency without a rate here has
// no USD value: counting it at par would make 1,000,000 KRW look like 1,000,000 USD.
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

/** Whether the currency has a reference rate, so usdValue accepts it. */
export function hasUsdRate(currency: string): boolean {
  return Object.hasOwn(usdPerUnit, currency);
}

/**
 * The amount in USD (a double: for scoring only, never for booking). Throws a RangeError
 * naming the currency when it has no reference rate.
 */
export function usdValue(amountMinor: bigint, currency: string): number {
  const rate = Object.hasOwn(usdPerUnit, currency) ? usdPerUnit[currency] : undefined;
  if (rate === undefined) throw new RangeError(`no USD reference rate for currency ${currency}; risk scoring cannot value it`);
  const digits = currencyDigits(currency) ?? 2;
  return (Number(amountMinor) / 10 ** digits) * rate;
}
