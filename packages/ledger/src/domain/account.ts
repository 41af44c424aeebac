// Accounts as the domain sees them: balances as four bigint counters of minor units.
import { AccountType } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";

export type AccountStatus = "OPEN" | "CLOSED";

export type AccountState = {
  id: string;
  type: AccountType;
  currency: string;
  ownerId: string;
  status: AccountStatus;
  debitsMustNotExceedCredits: boolean;
  debitsPostedMinor: bigint;
  creditsPostedMinor: bigint;
  debitsPendingMinor: bigint;
  creditsPendingMinor: bigint;
};

/** What a caller asks for when opening an account; compared field by field on a retry. */
export type AccountCommand = {
  id: string;
  type: AccountType;
  currency: string;
  ownerId: string;
  debitsMustNotExceedCredits: boolean;
  initialBalanceMinor: bigint;
};

const customerTypes = new Set([AccountType.CHECKING, AccountType.SAVINGS, AccountType.BUSINESS]);

/** Customer deposit accounts may not be overdrawn unless the caller says otherwise. */
export function defaultNoOverdraft(type: AccountType): boolean {
  return customerTypes.has(type);
}

/** The per-currency account opening balances come from. */
export function equityAccountId(currency: string): string {
  return `equity:${currency}`;
}

export function openingTransferId(accountId: string): string {
  return `opening:${accountId}`;
}

export function balanceMinor(account: AccountState): bigint {
  return account.creditsPostedMinor - account.debitsPostedMinor;
}

export function availableMinor(account: AccountState): bigint {
  return account.creditsPostedMinor - account.debitsPostedMinor - account.debitsPendingMinor;
}

/** The first field (wire name) in which a retried create differs from the stored account. */
export function firstAccountDifference(stored: AccountCommand, retried: AccountCommand): string | undefined {
  if (stored.type !== retried.type) return "account_type";
  if (stored.currency !== retried.currency) return "currency";
  if (stored.ownerId !== retried.ownerId) return "owner_id";
  if (stored.debitsMustNotExceedCredits !== retried.debitsMustNotExceedCredits) {
    return "debits_must_not_exceed_credits";
  }
  if (stored.initialBalanceMinor !== retried.initialBalanceMinor) return "initial_balance";
  return undefined;
}
