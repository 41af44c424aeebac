// Requests that move money take `amount` (a decimal string) beside `currency`. Two older
// request messages took a `Money` in field 4; it stays readable, renamed `amount_money` and
// deprecated, so a client built on the old contract keeps working over gRPC.

export type RequestedMoney =
  | { ok: true; amount: string; currency: string }
  | { ok: false; field: "amount" | "currency" | "amount_money"; reason: string };

/** The amount a request names: `amount` + `currency`, or else the deprecated Money. */
export function requestedMoney(
  request: { amount: string; currency: string },
  deprecated: { amount: string; currency: string } | undefined,
): RequestedMoney {
  if (request.amount === "" && request.currency === "") {
    if (deprecated) return { ok: true, amount: deprecated.amount, currency: deprecated.currency };
    return { ok: false, field: "amount", reason: "is required" };
  }
  if (deprecated) return { ok: false, field: "amount_money", reason: "is deprecated; give amount and currency without it" };
  if (request.amount === "") return { ok: false, field: "amount", reason: "is required with currency" };
  if (request.currency === "") return { ok: false, field: "currency", reason: "is required with amount" };
  return { ok: true, amount: request.amount, currency: request.currency };
}
