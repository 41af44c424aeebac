// SetExchangeRate and CreateFxTransfer. An FX transfer is two linked transfers through the
// currencies' FX liquidity accounts — source → fx:SRC in SRC, then fx:DST → destination in
// DST — so each currency's book stays balanced on its own and the pair commits or fails as one.

import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ValidationError, type Violation } from "@bufbuild/protovalidate";
import { Code, type ServiceImpl } from "@connectrpc/connect";
import {
  type ExchangeRate,
  ExchangeRateSchema,
  type LedgerService,
  CreateTransferStatus as Status,
  TransferKind,
} from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { amountMinorMax, currencyDigits, type Db, DomainError, formatMoney, sqlState } from "@qenex/platform";
import { authorize, requireOwner } from "../access.js";
import { type TransferView, transferMessage } from "../convert.js";
import type { TransferCommand, TransferOutcome } from "../domain/transfer.js";
import { transferErrorCodes } from "../service.js";
import { type AuditKey, appendAudit } from "../store/audit.js";
import { type BatchResult, createLedgerStore } from "../store/ledger-store.js";
import { convertMinor, parseRateUnits } from "./convert-amount.js";
import { type FxCommand, parseFxTransfer, parseSetRate, validUntilViolation } from "./fx-requests.js";
import {
  ensureFxAccounts,
  findRate,
  findRecordedLegs,
  findRecordedRate,
  fxAccountId,
  type NewRate,
  type StoredRate,
  setRate,
} from "./fx-store.js";

/** The store's batch write: both legs go in one call so the linked chain holds. */
export type CreateTransfers = (commands: readonly TransferCommand[]) => Promise<BatchResult>;

type FxHandlers = Pick<ServiceImpl<typeof LedgerService>, "setExchangeRate" | "createFxTransfer">;

export function createFxHandlers(db: Db, createTransfers: CreateTransfers, auditKey: AuditKey): FxHandlers {
  // Only its account reads are used: whose the source account is, for a customer's transfer.
  const accounts = createLedgerStore(db, auditKey);
  return {
    async setExchangeRate(req, ctx) {
      authorize(ctx, "setExchangeRate");
      const parsed = parseSetRate(req, new Date());
      rejectIfInvalid(parsed.violations);
      if (!parsed.command) throw new Error("unreachable: parsed without command");
      return { exchangeRate: rateMessage(await storeRate(db, auditKey, parsed.command)) };
    },

    async createFxTransfer(req, ctx) {
      const caller = authorize(ctx, "createFxTransfer");
      const parsed = parseFxTransfer(req);
      rejectIfInvalid(parsed.violations);
      const fx = parsed.command;
      if (!fx) throw new Error("unreachable: parsed without command");
      if (caller.ownAccountsOnly) requireOwner(caller, await accounts.getAccount(fx.sourceAccount));
      const rate = (await recordedRate(db, fx)) ?? (await rateValidNow(db, fx));
      const legs = legCommands(fx, rate);
      await ensureFxAccounts(db, [fx.sourceCurrency, fx.destinationCurrency]);
      const result = await createTransfers(legs);
      const [debitLeg, creditLeg] = result.plan.outcomes.map((outcome) => legView(outcome, result));
      if (!debitLeg || !creditLeg) throw legFailure(legs, result.plan.outcomes);
      const existed = result.plan.outcomes.every((outcome) => outcome.status === Status.EXISTS);
      return { debitLeg: transferMessage(debitLeg), creditLeg: transferMessage(creditLeg), exchangeRate: rateMessage(rate), existed };
    },
  };
}

function rejectIfInvalid(violations: Violation[]): void {
  if (violations.length > 0) throw new ValidationError(violations);
}

/** Appends the rate and its audit entry in one transaction: a rate change is a mutation. */
async function storeRate(db: Db, auditKey: AuditKey, rate: NewRate): Promise<StoredRate> {
  try {
    return await db.transaction(async (tx) => {
      const stored = await setRate(tx, rate);
      const payload = JSON.stringify([stored.rate, stored.validFrom.toISOString(), stored.validUntil.toISOString()]);
      await appendAudit(tx, auditKey, [{ kind: "rate.set", subject: `${stored.baseCurrency}/${stored.quoteCurrency}`, payload }]);
      return stored;
    });
  } catch (error) {
    // A defaulted valid_from is the database's now(), which can be later than this
    // process's clock: its CHECK (valid_until > valid_from) is the final word.
    if (sqlState(error) === "23514") throw new ValidationError([validUntilViolation("must be after valid_from")]);
    throw error;
  }
}

function rateMessage(rate: StoredRate): ExchangeRate {
  return create(ExchangeRateSchema, {
    baseCurrency: rate.baseCurrency,
    quoteCurrency: rate.quoteCurrency,
    rate: rate.rate,
    validFrom: timestampFromDate(rate.validFrom),
    validUntil: timestampFromDate(rate.validUntil),
  });
}

function legIds(transferId: string) {
  return { debit: `${transferId}.out`, credit: `${transferId}.in` };
}

/**
 * On a retry, the rate the recorded legs used: the retry then rebuilds the same legs and
 * gets them back (EXISTS) even after the rate changed or expired. Undefined when the legs
 * are not both recorded for this currency pair.
 */
async function recordedRate(db: Db, fx: FxCommand): Promise<StoredRate | undefined> {
  const ids = legIds(fx.transferId);
  const recorded = await findRecordedLegs(db, [ids.debit, ids.credit]);
  const debit = recorded.get(ids.debit);
  const credit = recorded.get(ids.credit);
  if (debit?.currency !== fx.sourceCurrency || credit?.currency !== fx.destinationCurrency) return undefined;
  const rate = parseRateUnits(debit.exchangeRate);
  if (!rate.ok) return undefined;
  return findRecordedRate(db, fx.sourceCurrency, fx.destinationCurrency, rate.rateUnits, debit.createdAt);
}

async function rateValidNow(db: Db, fx: FxCommand): Promise<StoredRate> {
  const rate = await findRate(db, fx.sourceCurrency, fx.destinationCurrency, "now");
  if (rate) return rate;
  const message = `no exchange rate from ${fx.sourceCurrency} to ${fx.destinationCurrency} is valid now`;
  throw new DomainError(Code.FailedPrecondition, message, "destination_currency");
}

function digitsOf(currency: string): number {
  const digits = currencyDigits(currency);
  if (digits === undefined) throw new Error(`unreachable: ${currency} passed validation without minor units`);
  return digits;
}

/** The two legs, the first linked to the second. Rejects amounts the destination cannot book. */
function legCommands(fx: FxCommand, rate: StoredRate): TransferCommand[] {
  const { sourceCurrency: source, destinationCurrency: destination } = fx;
  const creditMinor = convertMinor(fx.amountMinor, digitsOf(source), digitsOf(destination), rate.rateUnits);
  const asked = `${formatMoney(fx.amountMinor, source)} ${source}`;
  if (creditMinor === 0n) {
    const message = `${asked} converts to 0 ${destination} at ${rate.rate}: less than the smallest unit of ${destination}`;
    throw new DomainError(Code.FailedPrecondition, message, "amount");
  }
  if (creditMinor > amountMinorMax) {
    throw new DomainError(Code.OutOfRange, `${asked} converts to more ${destination} than the ledger holds`, "amount");
  }
  const ids = legIds(fx.transferId);
  const common = {
    reference: fx.reference,
    kind: TransferKind.TRANSFER,
    exchangeRate: rate.rate,
    pendingId: "",
    reversalOf: "",
    timeoutSeconds: 0,
    balancing: false,
  };
  return [
    {
      ...common,
      id: ids.debit,
      debitAccountId: fx.sourceAccount,
      creditAccountId: fxAccountId(source),
      amountMinor: fx.amountMinor,
      currency: source,
      linked: true,
    },
    {
      ...common,
      id: ids.credit,
      debitAccountId: fxAccountId(destination),
      creditAccountId: fx.destinationAccount,
      amountMinor: creditMinor,
      currency: destination,
      linked: false,
    },
  ];
}

/** A leg that was created now or before, as the wire shows it; undefined for a failure. */
function legView(outcome: TransferOutcome, result: BatchResult): TransferView | undefined {
  const batchTime = { createdAt: result.createdAt };
  switch (outcome.status) {
    case Status.CREATED:
      return result.created.get(outcome.transfer.id) ?? { ...outcome.transfer, ...batchTime };
    case Status.EXISTS:
      return "createdAt" in outcome.transfer ? outcome.transfer : { ...outcome.transfer, ...batchTime };
    default:
      return undefined;
  }
}

/**
 * A leg's fields, named as the FX request names what they came from: the debit leg's
 * credit account is fx:<currency>, the credit leg's debit account fx:<destination_currency>.
 */
const requestFieldOfLeg: readonly Readonly<Record<string, string>>[] = [
  { source_account: "source_account", destination_account: "currency", currency: "currency", amount: "amount" },
  {
    source_account: "destination_currency",
    destination_account: "destination_account",
    currency: "destination_currency",
    amount: "amount",
  },
];

/** The error of the leg that caused the chain to fail (the other reports LINKED_EVENT_FAILED). */
function legFailure(legs: readonly TransferCommand[], outcomes: readonly TransferOutcome[]): DomainError {
  const failed = (o: TransferOutcome) => o.status !== Status.CREATED && o.status !== Status.EXISTS;
  const culprit = outcomes.findIndex((o) => failed(o) && o.status !== Status.LINKED_EVENT_FAILED);
  const index = culprit >= 0 ? culprit : outcomes.findIndex(failed);
  const outcome = outcomes[index];
  if (!outcome || !failed(outcome) || !("message" in outcome)) throw new Error("a failed FX transfer without a failed leg");
  const mapped = transferErrorCodes[outcome.status] ?? { code: Code.FailedPrecondition };
  const legField = "field" in outcome ? outcome.field : mapped.field;
  const field = legField === undefined ? undefined : (requestFieldOfLeg[index]?.[legField] ?? legField);
  const repeated = "repeated" in outcome && outcome.repeated ? " (this transfer id failed before)" : "";
  const leg = index === 0 ? "debit" : "credit";
  return new DomainError(mapped.code, `${leg} leg ${legs[index]?.id}: ${outcome.message}${repeated}`, field);
}
