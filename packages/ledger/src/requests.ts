// Reads requests into domain commands. Everything protovalidate cannot know (a currency's
// minor units, amounts above zero) is checked here and reported per field, the same way.
import { randomUUID } from "node:crypto";
import type { Path } from "@bufbuild/protobuf/reflect";
import { Violation } from "@bufbuild/protovalidate";
import {
  type CreateAccountRequest,
  CreateAccountRequestSchema,
  type CreateTransferRequest,
  CreateTransferRequestSchema,
  TransferKind,
} from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { currencyDigits, parseMoney } from "@qenex/platform";
import { type AccountCommand, defaultNoOverdraft } from "./domain/account.js";
import type { TransferCommand } from "./domain/transfer.js";

export type Parsed<T> = { command: T; violations: [] } | { command: undefined; violations: Violation[] };

const transferFields = CreateTransferRequestSchema.field;
const accountFields = CreateAccountRequestSchema.field;

function violation(prefix: Path, field: Path[number], message: string, ruleId: string): Violation {
  return new Violation(message, ruleId, [...prefix, field], [], false);
}

const resolvesPending = new Set([TransferKind.POST_PENDING, TransferKind.VOID_PENDING]);

/** Reads one transfer request; POST/VOID may leave accounts, currency and amount empty. */
export function parseTransfer(req: CreateTransferRequest, prefix: Path = []): Parsed<TransferCommand> {
  const kind = req.kind === TransferKind.UNSPECIFIED ? TransferKind.TRANSFER : req.kind;
  const resolving = resolvesPending.has(kind);
  const missing = resolving ? [] : requiredMissing(req, prefix);
  if (missing.length > 0) return { command: undefined, violations: missing };
  let amountMinor = 0n;
  // A post or void may name an amount without a currency: the pending transfer's is read then.
  const amountDecimal = resolving && req.currency === "" && req.amount !== "" ? req.amount : undefined;
  if (amountDecimal !== undefined && !/[1-9]/.test(amountDecimal)) {
    return {
      command: undefined,
      violations: [violation(prefix, transferFields.amount, "must be greater than zero", "qenex.money.amount")],
    };
  }
  if (amountDecimal === undefined && (req.currency !== "" || req.amount !== "")) {
    const amount = parseAmount(req.amount, req.currency, prefix, resolving);
    if ("violations" in amount) return { command: undefined, violations: amount.violations };
    amountMinor = amount.amountMinor;
  }
  return {
    command: {
      id: req.transferId || randomUUID(),
      debitAccountId: req.sourceAccount,
      creditAccountId: req.destinationAccount,
      amountMinor,
      ...(amountDecimal === undefined ? {} : { amountDecimal }),
      currency: req.currency,
      reference: req.reference,
      kind,
      pendingId: req.pendingTransferId,
      reversalOf: "",
      timeoutSeconds: req.timeoutSeconds,
      linked: req.linked,
      balancing: req.balancing,
      exchangeRate: "",
    },
    violations: [],
  };
}

function requiredMissing(req: CreateTransferRequest, prefix: Path): Violation[] {
  const required = [
    [transferFields.sourceAccount, req.sourceAccount],
    [transferFields.destinationAccount, req.destinationAccount],
    [transferFields.amount, req.amount],
    [transferFields.currency, req.currency],
  ] as const;
  return required.filter(([, value]) => value === "").map(([field]) => violation(prefix, field, "value is required", "required"));
}

/** An amount in a currency: > 0, or empty when `optional` (a post or void of it all). */
export function parseAmount(
  text: string,
  currency: string,
  prefix: Path,
  optional: boolean,
): { amountMinor: bigint } | { violations: Violation[] } {
  if (currencyDigits(currency) === undefined) {
    const message = `"${currency}" is not an ISO 4217 currency the ledger books`;
    return { violations: [violation(prefix, transferFields.currency, message, "qenex.currency.known")] };
  }
  if (text === "" && optional) return { amountMinor: 0n };
  const amount = parseMoney(text, currency);
  if (!amount.ok || amount.amountMinor <= 0n) {
    const message = amount.ok ? "must be greater than zero" : amount.reason;
    return { violations: [violation(prefix, transferFields.amount, message, "qenex.money.amount")] };
  }
  return { amountMinor: amount.amountMinor };
}

export function parseAccount(req: CreateAccountRequest, prefix: Path = []): Parsed<AccountCommand> {
  if (currencyDigits(req.currency) === undefined) {
    const message = `"${req.currency}" is not an ISO 4217 currency the ledger books`;
    return { command: undefined, violations: [violation(prefix, accountFields.currency, message, "qenex.currency.known")] };
  }
  const initial = parseMoney(req.initialBalance || "0", req.currency);
  if (!initial.ok) {
    return { command: undefined, violations: [violation(prefix, accountFields.initialBalance, initial.reason, "qenex.money.amount")] };
  }
  return {
    command: {
      id: req.accountId,
      type: req.accountType,
      currency: req.currency,
      ownerId: req.ownerId,
      debitsMustNotExceedCredits: req.debitsMustNotExceedCredits ?? defaultNoOverdraft(req.accountType),
      initialBalanceMinor: initial.amountMinor,
    },
    violations: [],
  };
}

/** Parses every item of a batch; the batch is rejected whole when any item is malformed. */
export function parseAll<Req, T>(
  items: readonly Req[],
  listField: Path[number],
  parse: (item: Req, prefix: Path) => Parsed<T>,
): { commands: T[]; violations: Violation[] } {
  const commands: T[] = [];
  const violations: Violation[] = [];
  items.forEach((item, index) => {
    const parsed = parse(item, [listField, { kind: "list_sub", index }]);
    if (parsed.command === undefined) violations.push(...parsed.violations);
    else commands.push(parsed.command);
  });
  return { commands, violations };
}
