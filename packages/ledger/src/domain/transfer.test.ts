import { AccountType, CreateTransferStatus as Status, TransferKind } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { describe, expect, it } from "vitest";
import type { AccountState } from "./account.js";
import { planTransfers } from "./plan.js";
import type { StoredFailure, StoredTransfer, TransferCommand } from "./transfer.js";

function decideBatch(
  commands: TransferCommand[],
  accounts: Map<string, AccountState>,
  known: Map<string, StoredTransfer> = new Map(),
  failedBefore: Map<string, StoredFailure> = new Map(),
) {
  return planTransfers(commands, { accounts, known, failedBefore, pendings: new Map(), reversibles: new Map(), now: new Date() });
}

function account(id: string, creditsMinor: bigint, overrides: Partial<AccountState> = {}): AccountState {
  return {
    id,
    type: AccountType.CHECKING,
    currency: "USD",
    ownerId: "",
    status: "OPEN",
    debitsMustNotExceedCredits: true,
    debitsPostedMinor: 0n,
    creditsPostedMinor: creditsMinor,
    debitsPendingMinor: 0n,
    creditsPendingMinor: 0n,
    ...overrides,
  };
}

function transfer(id: string, amountMinor: bigint, from = "a", to = "b"): TransferCommand {
  return {
    id,
    debitAccountId: from,
    creditAccountId: to,
    amountMinor,
    currency: "USD",
    reference: "",
    kind: TransferKind.TRANSFER,
    pendingId: "",
    reversalOf: "",
    timeoutSeconds: 0,
    linked: false,
    balancing: false,
    exchangeRate: "",
  };
}

const accounts = () =>
  new Map([
    ["a", account("a", 1000n)],
    ["b", account("b", 0n)],
  ]);

describe("planTransfers", () => {
  it("applies transfers in order, each seeing the ones before", () => {
    const state = accounts();
    const plan = decideBatch([transfer("1", 600n), transfer("2", 600n), transfer("3", 400n)], state);
    expect(plan.outcomes.map((o) => o.status)).toEqual([Status.CREATED, Status.INSUFFICIENT_FUNDS, Status.CREATED]);
    expect(state.get("a")).toMatchObject({ debitsPostedMinor: 1000n, creditsPostedMinor: 1000n });
    expect(state.get("b")?.creditsPostedMinor).toBe(1000n);
    expect(plan.failed.map((f) => f.id)).toEqual(["2"]);
  });

  it("lets an account without the no-overdraft flag go below zero", () => {
    const state = new Map([
      ["a", account("a", 0n, { debitsMustNotExceedCredits: false })],
      ["b", account("b", 0n)],
    ]);
    const plan = decideBatch([transfer("1", 5n)], state);
    expect(plan.outcomes[0]?.status).toBe(Status.CREATED);
    expect(state.get("a")?.debitsPostedMinor).toBe(5n);
  });

  it("counts pending debits against what is available", () => {
    const state = new Map([
      ["a", account("a", 100n, { debitsPendingMinor: 60n })],
      ["b", account("b", 0n)],
    ]);
    expect(decideBatch([transfer("1", 41n)], state).outcomes[0]?.status).toBe(Status.INSUFFICIENT_FUNDS);
  });

  it("treats a repeated id in one batch as a retry of the first", () => {
    const plan = decideBatch([transfer("1", 10n), transfer("1", 10n), transfer("1", 11n)], accounts());
    expect(plan.outcomes.map((o) => o.status)).toEqual([Status.CREATED, Status.EXISTS, Status.EXISTS_WITH_DIFFERENT_FIELDS]);
    expect(plan.outcomes[2]).toMatchObject({ field: "amount" });
    expect(plan.created).toHaveLength(1);
  });

  it("names the first differing field of a stored transfer", () => {
    const stored = new Map([["1", { ...transfer("1", 10n), createdAt: new Date(0), expiresAt: undefined, sequence: 1n }]]);
    const cases: [TransferCommand, string][] = [
      [transfer("1", 10n, "a", "c"), "destination_account"],
      [{ ...transfer("1", 10n), reference: "other" }, "reference"],
      [{ ...transfer("1", 10n), currency: "EUR" }, "currency"],
    ];
    for (const [retry, field] of cases) {
      expect(decideBatch([retry], accounts(), stored, new Map()).outcomes[0]).toMatchObject({ field });
    }
  });

  it("repeats a stored failure instead of trying again", () => {
    const failure: StoredFailure = { ...transfer("1", 10n), status: Status.INSUFFICIENT_FUNDS, message: "insufficient funds in account a" };
    const state = accounts();
    const plan = decideBatch([transfer("1", 10n)], state, new Map(), new Map([["1", failure]]));
    expect(plan.outcomes[0]).toMatchObject({ status: Status.INSUFFICIENT_FUNDS, repeated: true });
    expect(plan.created).toHaveLength(0);
    expect(state.get("a")?.debitsPostedMinor).toBe(0n);
  });

  it("rejects missing, closed and foreign-currency accounts", () => {
    const state = new Map([
      ["a", account("a", 100n)],
      ["closed", account("closed", 0n, { status: "CLOSED" })],
      ["eur", account("eur", 0n, { currency: "EUR" })],
    ]);
    const plan = decideBatch(
      [transfer("1", 1n, "x", "a"), transfer("2", 1n, "a", "x"), transfer("3", 1n, "a", "closed"), transfer("4", 1n, "a", "eur")],
      state,
      new Map(),
      new Map(),
    );
    expect(plan.outcomes.map((o) => o.status)).toEqual([
      Status.SOURCE_ACCOUNT_NOT_FOUND,
      Status.DESTINATION_ACCOUNT_NOT_FOUND,
      Status.DESTINATION_ACCOUNT_CLOSED,
      Status.CURRENCY_MISMATCH,
    ]);
  });

  it("refuses to overflow a 64-bit balance", () => {
    const max = 9_223_372_036_854_775_807n;
    const state = new Map([
      ["a", account("a", max)],
      ["b", account("b", max)],
    ]);
    expect(decideBatch([transfer("1", 1n)], state).outcomes[0]?.status).toBe(Status.OVERFLOW);
  });

  it("refuses to post a pending transfer into a posted balance that would overflow", () => {
    const max = 9_223_372_036_854_775_807n;
    const pending = { ...transfer("p", 10n), kind: TransferKind.PENDING, createdAt: new Date(), expiresAt: undefined, sequence: 1n };
    const state = new Map([
      ["a", account("a", 100n, { debitsPendingMinor: 10n })],
      ["b", account("b", max - 5n, { creditsPendingMinor: 10n })],
    ]);
    const post = { ...transfer("post", 0n), kind: TransferKind.POST_PENDING, pendingId: "p" };
    const plan = planTransfers([post], {
      accounts: state,
      known: new Map(),
      failedBefore: new Map(),
      pendings: new Map([["p", { transfer: pending, state: "PENDING" as const }]]),
      reversibles: new Map(),
      now: new Date(),
    });
    expect(plan.outcomes[0]?.status).toBe(Status.OVERFLOW);
    expect(state.get("b")?.creditsPendingMinor).toBe(10n);
  });
});
