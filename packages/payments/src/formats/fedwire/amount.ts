// {2000}: 12 digits of cents, no decimal point, zero-filled: "1000.00" → "000000100000".
import { formatMoney, parseMoney } from "@qenex/platform";

/** Largest amount {2000} can carry: 12 digits of cents, $9,999,999,999.99. */
export const fedwireAmountMinorMax = 999_999_999_999n;

export type FedwireAmountResult = { ok: true; value: string } | { ok: false; reason: string };

export function encodeFedwireAmount(amountUsd: string): FedwireAmountResult {
  const parsed = parseMoney(amountUsd, "USD");
  if (!parsed.ok) return parsed;
  if (parsed.amountMinor < 0n) return { ok: false, reason: `amount "${amountUsd}" is negative` };
  if (parsed.amountMinor > fedwireAmountMinorMax)
    return { ok: false, reason: `amount "${amountUsd}" exceeds 9999999999.99, the most {2000} holds` };
  return { ok: true, value: parsed.amountMinor.toString().padStart(12, "0") };
}

export function decodeFedwireAmount(text: string): FedwireAmountResult {
  if (!/^[0-9]{12}$/.test(text)) return { ok: false, reason: `"${text}" must be exactly 12 digits of cents with no decimal point` };
  return { ok: true, value: formatMoney(BigInt(text), "USD") };
}
