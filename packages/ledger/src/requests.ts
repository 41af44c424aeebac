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

export function parseTransfer(req: CreateTransferRequest, prefix: Path = []): Parsed<TransferCommand> {
  if (currencyDigits(req.currency) === undefined) {
    const message = `"${req.currency}" is not an ISO 4217 currency the ledger books`;
    return { command: undefined, violations: [violation(prefix, transferFields.currency, message, "qenex.currency.known")] };
  }
  const amount = parseMoney(req.amount, req.currency);
  if (!amount.ok || amount.amountMinor <= 0n) {
    const message = amount.ok ? "must be greater than zero" : amount.reason;
    return { command: undefined, violations: [violation(prefix, transferFields.amount, message, "qenex.money.amount")] };
  }
  return {
    command: {
      id: req.transferId || randomUUID(),
      debitAccountId: req.sourceAccount,
      creditAccountId: req.destinationAccount,
      amountMinor: amount.amountMinor,
      currency: req.currency,
      reference: req.reference,
      kind: TransferKind.TRANSFER,
    },
    violations: [],
  };
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

/** Opaque page tokens: base64url of the last key seen. */
export function encodePageToken(key: string): string {
  return Buffer.from(key, "utf8").toString("base64url");
}

export function decodePageToken(token: string, isValid: (key: string) => boolean): string | undefined {
  if (token === "") return "";
  const key = Buffer.from(token, "base64url").toString("utf8");
  return isValid(key) && encodePageToken(key) === token ? key : undefined;
}
