// Between domain values (bigint minor units, Dates) and wire messages (decimal strings,
// Timestamps).
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type Money, MoneySchema } from "@qenex/gen/qenex/common/v1/money_pb.js";
import {
  type Account,
  AccountSchema,
  AccountStatus,
  type Balance,
  BalanceSchema,
  type Transfer,
  TransferSchema,
} from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { formatMoney } from "@qenex/platform";
import { type AccountState, availableMinor, balanceMinor } from "./domain/account.js";
import type { TransferCommand } from "./domain/transfer.js";
import type { StoredAccount } from "./store/ledger-store.js";

export function money(amountMinor: bigint, currency: string): Money {
  return create(MoneySchema, { currency, amount: formatMoney(amountMinor, currency) });
}

export function accountMessage(account: StoredAccount): Account {
  return create(AccountSchema, {
    accountId: account.id,
    accountType: account.type,
    currency: account.currency,
    ownerId: account.ownerId,
    status: account.status === "OPEN" ? AccountStatus.OPEN : AccountStatus.CLOSED,
    debitsMustNotExceedCredits: account.debitsMustNotExceedCredits,
    createdAt: timestampFromDate(account.createdAt),
    ...(account.closedAt ? { closedAt: timestampFromDate(account.closedAt) } : {}),
  });
}

export function balanceMessage(account: AccountState, asOf: Date): Balance {
  const m = (amountMinor: bigint) => money(amountMinor, account.currency);
  return create(BalanceSchema, {
    accountId: account.id,
    currency: account.currency,
    debitsPosted: m(account.debitsPostedMinor),
    creditsPosted: m(account.creditsPostedMinor),
    debitsPending: m(account.debitsPendingMinor),
    creditsPending: m(account.creditsPendingMinor),
    balance: m(balanceMinor(account)),
    available: m(availableMinor(account)),
    asOf: timestampFromDate(asOf),
  });
}

/** A transfer as stored or just created: the command plus what the ledger assigned. */
export type TransferView = TransferCommand & {
  createdAt: Date;
  expiresAt?: Date | undefined;
  sequence?: bigint;
  signature?: string;
  keyId?: string;
};

export function transferMessage(t: TransferView): Transfer {
  return create(TransferSchema, {
    transferId: t.id,
    sourceAccount: t.debitAccountId,
    destinationAccount: t.creditAccountId,
    amount: money(t.amountMinor, t.currency),
    reference: t.reference,
    kind: t.kind,
    createdAt: timestampFromDate(t.createdAt),
    pendingTransferId: t.pendingId,
    ...(t.expiresAt ? { expiresAt: timestampFromDate(t.expiresAt) } : {}),
    linked: t.linked,
    reversalOf: t.reversalOf,
    exchangeRate: t.exchangeRate,
    sequence: t.sequence ?? 0n,
    signature: t.signature ?? "",
    keyId: t.keyId ?? "",
  });
}
