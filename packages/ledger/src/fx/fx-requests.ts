// Reads the FX requests into commands. protovalidate checked the shapes; what it cannot know
// (ISO 4217 currencies, a currency's minor units, rates above zero, times in order) is
// checked here and reported per field in the same form, every bad field at once.
import type { Path } from "@bufbuild/protobuf/reflect";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Violation } from "@bufbuild/protovalidate";
import {
  type CreateFxTransferRequest,
  CreateFxTransferRequestSchema,
  type SetExchangeRateRequest,
  SetExchangeRateRequestSchema,
} from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { currencyDigits, parseMoney, type RequestedMoney, requestedMoney } from "@qenex/platform";
import { parseRateUnits } from "./convert-amount.js";
import type { NewRate } from "./fx-store.js";

export type Parsed<T> = { command: T; violations: [] } | { command: undefined; violations: Violation[] };

/** An FX transfer as asked for: `amountMinor` in the source currency's minor units. */
export type FxCommand = {
  transferId: string;
  sourceAccount: string;
  destinationAccount: string;
  sourceCurrency: string;
  destinationCurrency: string;
  amountMinor: bigint;
  reference: string;
};

const rateFields = SetExchangeRateRequestSchema.field;
const fxFields = CreateFxTransferRequestSchema.field;

function violation(path: Path, message: string, ruleId: string): Violation {
  return new Violation(message, ruleId, path, [], false);
}

function unknownCurrency(currency: string): string | undefined {
  return currencyDigits(currency) === undefined ? `"${currency}" is not an ISO 4217 currency the ledger books` : undefined;
}

function done<T>(command: T, violations: Violation[]): Parsed<T> {
  return violations.length > 0 ? { command: undefined, violations } : { command, violations: [] };
}

/** `now` is the default valid_from, to check valid_until against. */
export function parseSetRate(req: SetExchangeRateRequest, now: Date): Parsed<NewRate> {
  const violations: Violation[] = [];
  for (const [field, currency] of [
    [rateFields.baseCurrency, req.baseCurrency],
    [rateFields.quoteCurrency, req.quoteCurrency],
  ] as const) {
    const problem = unknownCurrency(currency);
    if (problem) violations.push(violation([field], problem, "qenex.currency.known"));
  }
  const rate = parseRateUnits(req.rate);
  if (!rate.ok) violations.push(violation([rateFields.rate], rate.reason, "qenex.exchange_rate.rate"));
  const validFrom = req.validFrom ? timestampDate(req.validFrom) : undefined;
  const validUntil = req.validUntil ? timestampDate(req.validUntil) : undefined;
  if (!validUntil) {
    violations.push(violation([rateFields.validUntil], "is required", "required"));
  } else if (validUntil <= (validFrom ?? now)) {
    const message = validFrom ? "must be after valid_from" : "must be in the future (valid_from defaults to now)";
    violations.push(violation([rateFields.validUntil], message, "qenex.exchange_rate.valid_until"));
  }
  if (!rate.ok || !validUntil || violations.length > 0) return { command: undefined, violations };
  const command = { baseCurrency: req.baseCurrency, quoteCurrency: req.quoteCurrency, rateUnits: rate.rateUnits, validFrom, validUntil };
  return { command, violations: [] };
}

export function parseFxTransfer(req: CreateFxTransferRequest): Parsed<FxCommand> {
  const violations: Violation[] = [];
  const money = requestedMoney(req, req.amountMoney);
  const sourceCurrency = money.ok ? money.currency : req.currency;
  const amountMinor = parseAmount(money, violations);
  const destinationProblem = unknownCurrency(req.destinationCurrency);
  if (destinationProblem) {
    violations.push(violation([fxFields.destinationCurrency], destinationProblem, "qenex.currency.known"));
  } else if (req.destinationCurrency === sourceCurrency) {
    const message = "must differ from currency: an exchange is between two currencies";
    violations.push(violation([fxFields.destinationCurrency], message, "qenex.fx.currencies_differ"));
  }
  return done(
    {
      transferId: req.transferId,
      sourceAccount: req.sourceAccount,
      destinationAccount: req.destinationAccount,
      sourceCurrency,
      destinationCurrency: req.destinationCurrency,
      amountMinor,
      reference: req.reference,
    },
    violations,
  );
}

/** The amount in minor units of its own currency; 0n after pushing a violation. */
function parseAmount(money: RequestedMoney, violations: Violation[]): bigint {
  if (!money.ok) {
    const field = { amount: fxFields.amount, currency: fxFields.currency, amount_money: fxFields.amountMoney }[money.field];
    violations.push(violation([field], money.reason, money.field === "amount_money" ? "qenex.money.deprecated" : "required"));
    return 0n;
  }
  const currencyProblem = unknownCurrency(money.currency);
  if (currencyProblem) {
    violations.push(violation([fxFields.currency], currencyProblem, "qenex.currency.known"));
    return 0n;
  }
  const amount = parseMoney(money.amount, money.currency);
  if (!amount.ok || amount.amountMinor <= 0n) {
    const message = amount.ok ? "must be greater than zero" : amount.reason;
    violations.push(violation([fxFields.amount], message, "qenex.money.amount"));
    return 0n;
  }
  return amount.amountMinor;
}

/** A problem with valid_until found after validation (the database's own check). */
export function validUntilViolation(message: string): Violation {
  return violation([rateFields.validUntil], message, "qenex.exchange_rate.valid_until");
}
