// Currency exchange against a real ledger server (PostgreSQL with DATABASE_URL, else PGlite).
// Rates and fx:* accounts are shared by every run on one database, so each test sets the
// rate it needs just before using it and checks fx:* balances as differences.
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ViolationsSchema } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { Code, ConnectError } from "@connectrpc/connect";
import { AccountType } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { parseMoney, type Role } from "@qenex/platform";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rpcError, startTestLedger, type TestLedger, uniquePrefix } from "../testing/harness.js";

let ledger: TestLedger;
beforeAll(async () => {
  ledger = await startTestLedger();
});
afterAll(() => ledger.stop());

const minuteMs = 60_000;
const hourMs = 60 * minuteMs;
const yearMs = 365 * 24 * hourMs;

function at(offsetMs: number) {
  return timestampFromDate(new Date(Date.now() + offsetMs));
}

async function setRate(base: string, quote: string, rate: string, fromMs = -minuteMs, untilMs = hourMs) {
  return ledger
    .client()
    .setExchangeRate({ baseCurrency: base, quoteCurrency: quote, rate, validFrom: at(fromMs), validUntil: at(untilMs) });
}

async function openAccount(currency: string, initialBalance = "0") {
  const accountId = uniquePrefix(`FX-${currency}`);
  await ledger.client().createAccount({ accountId, accountType: AccountType.CHECKING, currency, initialBalance });
  return accountId;
}

/** Credits − debits in minor units; 0n for an account not opened yet (fx:* on a fresh database). */
async function balanceMinor(accountId: string, currency: string): Promise<bigint> {
  try {
    const amount = (await ledger.client().getBalance({ accountId })).balance?.balance?.amount ?? "";
    const parsed = parseMoney(amount, currency);
    if (!parsed.ok) throw new Error(parsed.reason);
    return parsed.amountMinor;
  } catch (error) {
    if (ConnectError.from(error).code === Code.NotFound) return 0n;
    throw error;
  }
}

function fieldOf(error: ConnectError): string | undefined {
  return error
    .findDetails(ViolationsSchema)[0]
    ?.violations[0]?.field?.elements.map((e) => e.fieldName)
    .join(".");
}

function fxTransfer(
  fields: { id: string; from: string; to: string; amount: string; currency: string; toCurrency: string },
  roles?: Role[],
) {
  return ledger.client(roles).createFxTransfer({
    transferId: fields.id,
    sourceAccount: fields.from,
    destinationAccount: fields.to,
    currency: fields.currency,
    amount: fields.amount,
    destinationCurrency: fields.toCurrency,
    reference: "fx test",
  });
}

/** Both legs are absent: the FX transfer wrote nothing. */
async function expectNoLegs(transferId: string) {
  for (const leg of [`${transferId}.out`, `${transferId}.in`]) {
    expect((await rpcError(ledger.client().getTransfer({ transferId: leg }))).code).toBe(Code.NotFound);
  }
}

describe("exchange rates", () => {
  it("stores a rate in canonical form and returns it", async () => {
    const res = await setRate("USD", "JPY", "149.500");
    expect(res.exchangeRate).toMatchObject({ baseCurrency: "USD", quoteCurrency: "JPY", rate: "149.5" });
    expect(res.exchangeRate?.validUntil).toBeDefined();
  });

  it("defaults valid_from to now", async () => {
    const before = Date.now() - 1000;
    const res = await ledger
      .client()
      .setExchangeRate({ baseCurrency: "EUR", quoteCurrency: "BHD", rate: "0.4101", validUntil: at(hourMs) });
    const validFromMs = Number(res.exchangeRate?.validFrom?.seconds ?? 0n) * 1000;
    expect(validFromMs).toBeGreaterThanOrEqual(before - 1000);
    expect(validFromMs).toBeLessThanOrEqual(Date.now() + 1000);
  });

  it.each([
    ["XYZ", "USD", "1.5", hourMs, "base_currency", "not an ISO 4217 currency"],
    ["USD", "XXX", "1.5", hourMs, "quote_currency", "not an ISO 4217 currency"],
    ["USD", "JPY", "0", hourMs, "rate", "greater than zero"],
    ["USD", "JPY", "0.000000000000", hourMs, "rate", "greater than zero"],
    ["USD", "JPY", "99999999", hourMs, "rate", "largest rate"],
    ["USD", "JPY", "1.5", -hourMs, "valid_until", "must be after valid_from"],
  ])("rejects %s→%s at %s naming the field", async (base, quote, rate, untilMs, field, text) => {
    const error = await rpcError(setRate(base, quote, rate, -minuteMs, untilMs));
    expect(error.code).toBe(Code.InvalidArgument);
    expect(fieldOf(error)).toBe(field);
    expect(error.message).toContain(text);
  });

  it("lets only admins and operators set rates", async () => {
    for (const role of ["service", "auditor"] as const) {
      const error = await rpcError(
        ledger.client([role]).setExchangeRate({ baseCurrency: "USD", quoteCurrency: "JPY", rate: "1", validUntil: at(hourMs) }),
      );
      expect(error.code).toBe(Code.PermissionDenied);
    }
    const res = await ledger
      .client(["operator"])
      .setExchangeRate({ baseCurrency: "USD", quoteCurrency: "JPY", rate: "149.5", validUntil: at(hourMs) });
    expect(res.exchangeRate?.rate).toBe("149.5");
  });
});

describe("FX transfers", () => {
  it("moves USD into a JPY account through fx:USD and fx:JPY at the rate valid now", async () => {
    await setRate("USD", "JPY", "149.5");
    const [from, to] = [await openAccount("USD", "100.00"), await openAccount("JPY")];
    const [fxUsdBefore, fxJpyBefore] = [await balanceMinor("fx:USD", "USD"), await balanceMinor("fx:JPY", "JPY")];
    const id = uniquePrefix("fx");
    const res = await fxTransfer({ id, from, to, amount: "10.00", currency: "USD", toCurrency: "JPY" }, ["service"]);

    expect(res.existed).toBe(false);
    expect(res.exchangeRate).toMatchObject({ baseCurrency: "USD", quoteCurrency: "JPY", rate: "149.5" });
    expect(res.debitLeg).toMatchObject({ transferId: `${id}.out`, sourceAccount: from, destinationAccount: "fx:USD", linked: true });
    expect(res.debitLeg?.amount).toMatchObject({ currency: "USD", amount: "10.00" });
    expect(res.creditLeg).toMatchObject({ transferId: `${id}.in`, sourceAccount: "fx:JPY", destinationAccount: to, linked: false });
    expect(res.creditLeg?.amount).toMatchObject({ currency: "JPY", amount: "1495" });

    expect(await balanceMinor(from, "USD")).toBe(9000n);
    expect(await balanceMinor(to, "JPY")).toBe(1495n);
    expect((await balanceMinor("fx:USD", "USD")) - fxUsdBefore).toBe(1000n);
    expect((await balanceMinor("fx:JPY", "JPY")) - fxJpyBefore).toBe(-1495n);
    const fxAccount = await ledger.client().getAccount({ accountId: "fx:JPY" });
    expect(fxAccount.account).toMatchObject({ accountType: AccountType.FX_LIQUIDITY, ownerId: "qenex", debitsMustNotExceedCredits: false });
  });

  it("records the rate on both legs", async () => {
    await setRate("USD", "JPY", "149.5");
    const [from, to] = [await openAccount("USD", "20.00"), await openAccount("JPY")];
    const id = uniquePrefix("fx");
    const res = await fxTransfer({ id, from, to, amount: "20.00", currency: "USD", toCurrency: "JPY" });
    expect([res.debitLeg?.exchangeRate, res.creditLeg?.exchangeRate]).toEqual(["149.5", "149.5"]);
    for (const leg of [`${id}.out`, `${id}.in`]) {
      const stored = await ledger.client().getTransfer({ transferId: leg });
      expect(stored.transfer?.exchangeRate).toBe("149.5");
    }
  });

  it("converts EUR into BHD (3 digits), rounding a tie to even", async () => {
    await setRate("EUR", "BHD", "0.4101");
    const [from, to] = [await openAccount("EUR", "100.00"), await openAccount("BHD")];
    const [fxEurBefore, fxBhdBefore] = [await balanceMinor("fx:EUR", "EUR"), await balanceMinor("fx:BHD", "BHD")];
    const res = await fxTransfer({ id: uniquePrefix("fx"), from, to, amount: "25.00", currency: "EUR", toCurrency: "BHD" });
    // 25.00 × 0.4101 = 10.2525: a tie at the fils, to the even 10.252.
    expect(res.creditLeg?.amount).toMatchObject({ currency: "BHD", amount: "10.252" });
    expect(await balanceMinor(from, "EUR")).toBe(7500n);
    expect(await balanceMinor(to, "BHD")).toBe(10_252n);
    expect((await balanceMinor("fx:EUR", "EUR")) - fxEurBefore).toBe(2500n);
    expect((await balanceMinor("fx:BHD", "BHD")) - fxBhdBefore).toBe(-10_252n);
  });

  it("uses the most recently set of several valid rates", async () => {
    await setRate("USD", "JPY", "140", -hourMs, yearMs);
    await setRate("USD", "JPY", "150", -minuteMs, hourMs);
    const [from, to] = [await openAccount("USD", "1.00"), await openAccount("JPY")];
    const res = await fxTransfer({ id: uniquePrefix("fx"), from, to, amount: "1.00", currency: "USD", toCurrency: "JPY" });
    expect(res.creditLeg?.amount?.amount).toBe("150");
  });

  it("refuses when no rate is valid now — expired, not yet valid, or never set — and writes nothing", async () => {
    // Only ever set expired or far-future GBP→CHF rates, so none is valid on any run.
    await setRate("GBP", "CHF", "1.12", -2 * hourMs, -hourMs);
    await setRate("GBP", "CHF", "1.13", 10 * yearMs, 11 * yearMs);
    const cases = [
      ["GBP", "CHF"],
      ["MNT", "KZT"], // never set anywhere
    ] as const;
    for (const [currency, toCurrency] of cases) {
      const [from, to] = [await openAccount(currency, "50.00"), await openAccount(toCurrency)];
      const id = uniquePrefix("fx");
      const error = await rpcError(fxTransfer({ id, from, to, amount: "10.00", currency, toCurrency }));
      expect(error.code).toBe(Code.FailedPrecondition);
      expect(error.rawMessage).toBe(`no exchange rate from ${currency} to ${toCurrency} is valid now`);
      await expectNoLegs(id);
      expect(await balanceMinor(from, currency)).toBe(5000n);
      expect(await balanceMinor(to, toCurrency)).toBe(0n);
    }
  });

  it("writes neither leg when the source lacks funds (the legs are linked)", async () => {
    await setRate("USD", "JPY", "149.5");
    const [from, to] = [await openAccount("USD", "5.00"), await openAccount("JPY")];
    const [fxUsdBefore, fxJpyBefore] = [await balanceMinor("fx:USD", "USD"), await balanceMinor("fx:JPY", "JPY")];
    const id = uniquePrefix("fx");
    const attempt = { id, from, to, amount: "10.00", currency: "USD", toCurrency: "JPY" };
    const error = await rpcError(fxTransfer(attempt));
    expect(error.code).toBe(Code.FailedPrecondition);
    expect(error.message).toContain("insufficient funds");
    expect(error.metadata.get("x-qenex-field")).toBe("amount");
    await expectNoLegs(id);
    expect(await balanceMinor(from, "USD")).toBe(500n);
    expect(await balanceMinor(to, "JPY")).toBe(0n);
    expect(await balanceMinor("fx:USD", "USD")).toBe(fxUsdBefore);
    expect(await balanceMinor("fx:JPY", "JPY")).toBe(fxJpyBefore);
    // A retry of the failed id fails the same way.
    expect((await rpcError(fxTransfer(attempt))).message).toContain("failed before");
  });

  it("writes neither leg when the destination account does not exist", async () => {
    await setRate("USD", "JPY", "149.5");
    const from = await openAccount("USD", "10.00");
    const id = uniquePrefix("fx");
    const error = await rpcError(fxTransfer({ id, from, to: `${from}-nope`, amount: "1.00", currency: "USD", toCurrency: "JPY" }));
    expect(error.code).toBe(Code.NotFound);
    expect(error.metadata.get("x-qenex-field")).toBe("destination_account");
    await expectNoLegs(id);
    expect(await balanceMinor(from, "USD")).toBe(1000n);
  });

  it("refuses an amount that converts to zero", async () => {
    await setRate("JPY", "USD", "0.004");
    const [from, to] = [await openAccount("JPY", "100"), await openAccount("USD")];
    const id = uniquePrefix("fx");
    const error = await rpcError(fxTransfer({ id, from, to, amount: "1", currency: "JPY", toCurrency: "USD" }));
    expect(error.code).toBe(Code.FailedPrecondition);
    expect(error.message).toContain("converts to 0 USD");
    await expectNoLegs(id);
    expect(await balanceMinor(from, "JPY")).toBe(100n);
  });

  it("returns the same legs on a retry, even after the rate changed", async () => {
    await setRate("USD", "JPY", "149.5");
    const [from, to] = [await openAccount("USD", "100.00"), await openAccount("JPY")];
    const request = { id: uniquePrefix("fx"), from, to, amount: "10.00", currency: "USD", toCurrency: "JPY" };
    const first = await fxTransfer(request);
    const again = await fxTransfer(request);
    expect(again.existed).toBe(true);
    expect(again.debitLeg).toEqual(first.debitLeg);
    expect(again.creditLeg).toEqual(first.creditLeg);
    await setRate("USD", "JPY", "151.25");
    const later = await fxTransfer(request);
    expect(later.existed).toBe(true);
    expect(later.creditLeg).toEqual(first.creditLeg);
    expect(later.exchangeRate).toEqual(first.exchangeRate);
    expect(await balanceMinor(from, "USD")).toBe(9000n);
    expect(await balanceMinor(to, "JPY")).toBe(1495n);
  });

  it("rejects the same id with a different amount, naming the field", async () => {
    await setRate("USD", "JPY", "149.5");
    const [from, to] = [await openAccount("USD", "100.00"), await openAccount("JPY")];
    const request = { id: uniquePrefix("fx"), from, to, amount: "10.00", currency: "USD", toCurrency: "JPY" };
    await fxTransfer(request);
    const error = await rpcError(fxTransfer({ ...request, amount: "11.00" }));
    expect(error.code).toBe(Code.AlreadyExists);
    expect(error.metadata.get("x-qenex-field")).toBe("amount");
    expect(await balanceMinor(from, "USD")).toBe(9000n);
  });

  it("still reads the deprecated amount_money of older clients, and refuses it beside amount and currency", async () => {
    await setRate("USD", "JPY", "149.5");
    const [from, to] = [await openAccount("USD", "10.00"), await openAccount("JPY")];
    const request = {
      sourceAccount: from,
      destinationAccount: to,
      destinationCurrency: "JPY",
      amountMoney: { currency: "USD", amount: "1.00" },
    };
    const res = await ledger.client().createFxTransfer({ ...request, transferId: uniquePrefix("fx-old") });
    expect(res.creditLeg?.amount).toEqual(expect.objectContaining({ currency: "JPY", amount: "150" }));
    const both = await rpcError(
      ledger.client().createFxTransfer({ ...request, transferId: uniquePrefix("fx-both"), amount: "1.00", currency: "USD" }),
    );
    expect(both.code).toBe(Code.InvalidArgument);
    expect(fieldOf(both)).toBe("amount_money");
  });

  it.each([
    ["1.234", "USD", "JPY", "amount", "USD allows 2"],
    ["0", "USD", "JPY", "amount", "greater than zero"],
    ["1.00", "ABC", "JPY", "currency", "not an ISO 4217 currency"],
    ["1.00", "USD", "XYZ", "destination_currency", "not an ISO 4217 currency"],
    ["1.00", "USD", "USD", "destination_currency", "must differ"],
  ])("rejects %s %s → %s naming the field", async (amount, currency, toCurrency, field, text) => {
    const from = await openAccount("USD", "10.00");
    const id = uniquePrefix("fx");
    const error = await rpcError(fxTransfer({ id, from, to: from, amount, currency, toCurrency }));
    expect(error.code).toBe(Code.InvalidArgument);
    expect(fieldOf(error)).toBe(field);
    expect(error.message).toContain(text);
    await expectNoLegs(id);
  });

  it("refuses auditors", async () => {
    const error = await rpcError(
      fxTransfer({ id: uniquePrefix("fx"), from: "a", to: "b", amount: "1.00", currency: "USD", toCurrency: "JPY" }, ["auditor"]),
    );
    expect(error.code).toBe(Code.PermissionDenied);
  });
});
