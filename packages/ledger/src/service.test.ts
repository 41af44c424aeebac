import { ViolationsSchema } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { Code, type ConnectError } from "@connectrpc/connect";
import { AccountType, CreateTransferStatus, TransferKind } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rpcError, startTestLedger, type TestLedger, uniquePrefix } from "./testing/harness.js";

let ledger: TestLedger;
beforeAll(async () => {
  ledger = await startTestLedger();
});
afterAll(() => ledger.stop());

async function openAccount(id: string, initialBalance = "0", currency = "USD") {
  return ledger.client().createAccount({ accountId: id, accountType: AccountType.CHECKING, currency, initialBalance });
}

describe("accounts", () => {
  it("books an initial balance as a transfer from equity", async () => {
    const id = uniquePrefix("ACC");
    const res = await openAccount(id, "1000.00");
    expect(res.balance?.balance?.amount).toBe("1000.00");
    expect(res.openingTransfer?.sourceAccount).toBe("equity:USD");
    expect(res.openingTransfer?.amount?.amount).toBe("1000.00");
    const got = await ledger.client().getTransfer({ transferId: res.openingTransfer?.transferId ?? "" });
    expect(got.transfer?.destinationAccount).toBe(id);
  });

  it("fails whole, leaving no account, when an opening balance cannot be booked", async () => {
    // Equity has debits (on a shared database it has many), so the largest amount overflows it.
    await openAccount(uniquePrefix("ACC"), "1.00");
    const id = uniquePrefix("ACC");
    const error = await rpcError(openAccount(id, "92233720368547758.07"));
    expect(error.code).toBe(Code.OutOfRange);
    expect(error.rawMessage).toContain("initial_balance 92233720368547758.07 USD cannot be booked");
    expect((await rpcError(ledger.client().getAccount({ accountId: id }))).code).toBe(Code.NotFound);

    const [fine, huge] = [uniquePrefix("ACC"), uniquePrefix("ACC")];
    const batch = await rpcError(
      ledger.client().createAccounts({
        accounts: [
          { accountId: fine, accountType: AccountType.CHECKING, currency: "USD", initialBalance: "5.00" },
          { accountId: huge, accountType: AccountType.CHECKING, currency: "USD", initialBalance: "92233720368547758.07" },
        ],
      }),
    );
    expect(batch.code).toBe(Code.OutOfRange);
    expect(batch.rawMessage).toContain("accounts[1].initial_balance 92233720368547758.07 USD");
    for (const gone of [fine, huge]) {
      expect((await rpcError(ledger.client().getAccount({ accountId: gone }))).code).toBe(Code.NotFound);
    }
    const { rows } = await ledger.process.db.query<{ n: string }>(
      "SELECT count(*)::text AS n FROM ledger_transfer_failures WHERE id = ANY($1::text[])",
      [[id, fine, huge].map((a) => `opening:${a}`)],
    );
    expect(rows[0]?.n).toBe("0");
  });

  it("returns the original account when the same create is repeated", async () => {
    const id = uniquePrefix("ACC");
    const first = await openAccount(id, "10.00");
    const again = await openAccount(id, "10.00");
    expect(again.account?.createdAt).toEqual(first.account?.createdAt);
    expect(again.balance?.balance?.amount).toBe("10.00");
  });

  it("rejects the same id with different content, naming the field", async () => {
    const id = uniquePrefix("ACC");
    await openAccount(id, "10.00");
    const error = await rpcError(openAccount(id, "11.00"));
    expect(error.code).toBe(Code.AlreadyExists);
    expect(error.message).toContain("initial_balance");
    const balance = await ledger.client().getBalance({ accountId: id });
    expect(balance.balance?.balance?.amount).toBe("10.00");
  });

  it("lists accounts by currency with cursor paging", async () => {
    const owner = uniquePrefix("owner");
    for (const n of [1, 2, 3]) {
      await ledger
        .client()
        .createAccount({ accountId: `${owner}-${n}`, accountType: AccountType.SAVINGS, currency: "EUR", ownerId: owner });
    }
    const first = await ledger.client().listAccounts({ ownerId: owner, currency: "EUR", page: { pageSize: 2 } });
    expect(first.accounts.map((a) => a.accountId)).toEqual([`${owner}-1`, `${owner}-2`]);
    const second = await ledger
      .client()
      .listAccounts({ ownerId: owner, page: { pageSize: 2, pageToken: first.page?.nextPageToken ?? "" } });
    expect(second.accounts.map((a) => a.accountId)).toEqual([`${owner}-3`]);
    expect(second.page?.nextPageToken).toBe("");
  });

  it("closes only an empty account, and a closed account takes no transfers", async () => {
    const [a, b] = [uniquePrefix("A"), uniquePrefix("B")];
    await openAccount(a, "5.00");
    await openAccount(b);
    expect((await rpcError(ledger.client().closeAccount({ accountId: a }))).code).toBe(Code.FailedPrecondition);
    const closed = await ledger.client().closeAccount({ accountId: b });
    expect(closed.account?.closedAt).toBeDefined();
    const error = await rpcError(ledger.client().createTransfer({ sourceAccount: a, destinationAccount: b, amount: "1", currency: "USD" }));
    expect(error.code).toBe(Code.FailedPrecondition);
    expect(error.message).toContain("closed");
  });
});

describe("transfers", () => {
  it("moves money and keeps both sides of the book", async () => {
    const [a, b] = [uniquePrefix("A"), uniquePrefix("B")];
    await openAccount(a, "100.00");
    await openAccount(b);
    const res = await ledger
      .client()
      .createTransfer({ sourceAccount: a, destinationAccount: b, amount: "30.25", currency: "USD", reference: "rent" });
    expect(res.transfer?.amount).toMatchObject({ currency: "USD", amount: "30.25" });
    const [ba, bb] = await Promise.all([a, b].map((accountId) => ledger.client().getBalance({ accountId })));
    expect(ba?.balance?.available?.amount).toBe("69.75");
    expect(bb?.balance?.balance?.amount).toBe("30.25");
    expect(ba?.balance?.debitsPosted?.amount).toBe("30.25");
  });

  it("rejects a transfer that would overdraw and writes nothing", async () => {
    const [a, b] = [uniquePrefix("A"), uniquePrefix("B")];
    await openAccount(a, "10.00");
    await openAccount(b);
    const error = await rpcError(
      ledger.client().createTransfer({ transferId: `${a}-t`, sourceAccount: a, destinationAccount: b, amount: "10.01", currency: "USD" }),
    );
    expect(error.code).toBe(Code.FailedPrecondition);
    expect(error.message).toContain("insufficient funds");
    expect((await ledger.client().getBalance({ accountId: a })).balance?.balance?.amount).toBe("10.00");
    expect((await ledger.client().listTransfers({ accountId: b })).transfers).toHaveLength(0);
  });

  it("keeps a failed id failed, even after the funds arrive", async () => {
    const [a, b] = [uniquePrefix("A"), uniquePrefix("B")];
    await openAccount(a, "1.00");
    await openAccount(b);
    const attempt = { transferId: `${a}-t`, sourceAccount: a, destinationAccount: b, amount: "5.00", currency: "USD" };
    expect((await rpcError(ledger.client().createTransfer(attempt))).code).toBe(Code.FailedPrecondition);
    await openAccount(`${a}-rich`, "100.00");
    await ledger.client().createTransfer({ sourceAccount: `${a}-rich`, destinationAccount: a, amount: "50.00", currency: "USD" });
    const retried = await rpcError(ledger.client().createTransfer(attempt));
    expect(retried.code).toBe(Code.FailedPrecondition);
    expect(retried.message).toContain("failed before");
    expect((await ledger.client().getBalance({ accountId: b })).balance?.balance?.amount).toBe("0.00");
  });

  it("is idempotent: same id and content returns the original, different content names the field", async () => {
    const [a, b] = [uniquePrefix("A"), uniquePrefix("B")];
    await openAccount(a, "100.00");
    await openAccount(b);
    const request = { transferId: `${a}-pay`, sourceAccount: a, destinationAccount: b, amount: "7.00", currency: "USD", reference: "x" };
    const first = await ledger.client().createTransfer(request);
    const again = await ledger.client().createTransfer(request);
    expect(again.existed).toBe(true);
    expect(again.transfer?.createdAt).toEqual(first.transfer?.createdAt);
    const different = await rpcError(ledger.client().createTransfer({ ...request, amount: "8.00" }));
    expect(different.code).toBe(Code.AlreadyExists);
    expect(different.message).toContain("amount");
    expect((await ledger.client().getBalance({ accountId: b })).balance?.balance?.amount).toBe("7.00");
  });

  it("returns one result per batch item, each item on its own", async () => {
    const [a, b, c] = [uniquePrefix("A"), uniquePrefix("B"), uniquePrefix("C")];
    await openAccount(a, "10.00");
    await openAccount(b);
    await openAccount(c, "0", "EUR");
    const t = (id: string, amount: string, to = b, currency = "USD") => ({
      transferId: `${a}-${id}`,
      sourceAccount: a,
      destinationAccount: to,
      amount,
      currency,
    });
    const res = await ledger.client().createTransfers({
      transfers: [
        t("1", "4.00"),
        t("2", "7.00"),
        t("3", "1.00", `${a}-missing`),
        t("4", "1.00", c),
        t("1", "4.00"),
        t("1", "5.00"),
        t("5", "6.00"),
      ],
    });
    expect(res.results.map((r) => r.status)).toEqual([
      CreateTransferStatus.CREATED,
      CreateTransferStatus.INSUFFICIENT_FUNDS,
      CreateTransferStatus.DESTINATION_ACCOUNT_NOT_FOUND,
      CreateTransferStatus.CURRENCY_MISMATCH,
      CreateTransferStatus.EXISTS,
      CreateTransferStatus.EXISTS_WITH_DIFFERENT_FIELDS,
      CreateTransferStatus.CREATED,
    ]);
    expect(res.results[5]?.field).toBe("amount");
    expect(res.results.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect((await ledger.client().getBalance({ accountId: a })).balance?.balance?.amount).toBe("0.00");
  });

  it("posts and voids with an amount and no currency, reading it in the pending transfer's currency", async () => {
    const [a, b] = [uniquePrefix("A"), uniquePrefix("B")];
    await openAccount(a, "1000", "JPY");
    await openAccount(b, "0", "JPY");
    const pending = (id: string) => ({
      transferId: `${a}-${id}`,
      sourceAccount: a,
      destinationAccount: b,
      amount: "300",
      currency: "JPY",
      kind: TransferKind.PENDING,
    });
    const resolve = (id: string, of: string, kind: TransferKind, amount: string) => ({
      transferId: `${a}-${id}`,
      pendingTransferId: `${a}-${of}`,
      kind,
      amount,
    });
    const pendings = await ledger.client().createTransfers({ transfers: [pending("p1"), pending("p2")] });
    expect(pendings.results.map((r) => r.status)).toEqual([CreateTransferStatus.CREATED, CreateTransferStatus.CREATED]);
    const res = await ledger.client().createTransfers({
      transfers: [
        resolve("post-fraction", "p1", TransferKind.POST_PENDING, "1.5"),
        resolve("post", "p1", TransferKind.POST_PENDING, "120"),
        resolve("void", "p2", TransferKind.VOID_PENDING, "300"),
      ],
    });
    expect(res.results.map((r) => r.status)).toEqual([
      CreateTransferStatus.PENDING_TRANSFER_HAS_DIFFERENT_AMOUNT,
      CreateTransferStatus.CREATED,
      CreateTransferStatus.CREATED,
    ]);
    expect(res.results[0]?.message).toBe(
      `amount "1.5" has 1 decimal places; JPY allows 0 (read in JPY, the currency of pending transfer ${a}-p1)`,
    );
    expect(res.results[1]?.transfer?.amount).toEqual(expect.objectContaining({ currency: "JPY", amount: "120" }));
    expect((await ledger.client().getBalance({ accountId: b })).balance?.balance?.amount).toBe("120");
    const retried = await ledger.client().createTransfer(resolve("post", "p1", TransferKind.POST_PENDING, "120"));
    expect(retried.existed).toBe(true);
    const zero = await rpcError(ledger.client().createTransfer(resolve("post-zero", "p1", TransferKind.POST_PENDING, "0.00")));
    expect(zero.code).toBe(Code.InvalidArgument);
    expect(zero.rawMessage).toContain("greater than zero");
  });

  it("reports the balance as of a past time", async () => {
    const [a, b] = [uniquePrefix("A"), uniquePrefix("B")];
    await openAccount(a, "100.00");
    await openAccount(b);
    await ledger.client().createTransfer({ sourceAccount: a, destinationAccount: b, amount: "10.00", currency: "USD" });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const between = new Date();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await ledger.client().createTransfer({ sourceAccount: a, destinationAccount: b, amount: "5.00", currency: "USD" });
    const asOf = { seconds: BigInt(Math.floor(between.getTime() / 1000)), nanos: (between.getTime() % 1000) * 1e6 };
    const past = await ledger.client().getBalance({ accountId: b, asOf });
    expect(past.balance?.balance?.amount).toBe("10.00");
    const now = await ledger.client().getBalance({ accountId: b });
    expect(now.balance?.balance?.amount).toBe("15.00");
    const atFirst = await ledger.client().listTransfers({ accountId: b });
    const firstAt = atFirst.transfers[0]?.createdAt;
    expect((await ledger.client().getBalance({ accountId: b, ...(firstAt ? { asOf: firstAt } : {}) })).balance?.balance?.amount).toBe(
      "10.00",
    );
    const future = { seconds: BigInt(Math.floor(Date.now() / 1000) + 3600), nanos: 0 };
    expect((await rpcError(ledger.client().getBalance({ accountId: b, asOf: future }))).code).toBe(Code.InvalidArgument);
  });

  it("lists an account's transfers in order with a cursor and a time range", async () => {
    const [a, b] = [uniquePrefix("A"), uniquePrefix("B")];
    await openAccount(a, "100.00");
    await openAccount(b);
    for (const amount of ["1.00", "2.00", "3.00"]) {
      await ledger.client().createTransfer({ sourceAccount: a, destinationAccount: b, amount, currency: "USD" });
    }
    const first = await ledger.client().listTransfers({ accountId: b, page: { pageSize: 2 } });
    const rest = await ledger.client().listTransfers({ accountId: b, page: { pageSize: 2, pageToken: first.page?.nextPageToken ?? "" } });
    expect([...first.transfers, ...rest.transfers].map((t) => t.amount?.amount)).toEqual(["1.00", "2.00", "3.00"]);
    const future = { seconds: BigInt(Math.floor(Date.now() / 1000) + 3600), nanos: 0 };
    expect((await ledger.client().listTransfers({ accountId: b, startTime: future })).transfers).toHaveLength(0);
  });
});

describe("bad input", () => {
  const violationsOf = (error: ConnectError) => error.findDetails(ViolationsSchema)[0]?.violations ?? [];
  const fieldOf = (error: ConnectError) =>
    violationsOf(error)[0]
      ?.field?.elements.map((e) => e.fieldName)
      .join(".");

  it.each([
    ["1.234", "USD", "amount", "USD allows 2"],
    ["abc", "USD", "amount", "pattern"],
    ["-5.00", "USD", "amount", "pattern"],
    ["0", "USD", "amount", "greater than zero"],
    ["1.00", "ABC", "currency", "not an ISO 4217 currency"],
    ["1.00", "usd", "currency", "pattern"],
  ])("rejects amount %s %s naming the field", async (amount, currency, field, text) => {
    const [a, b] = [uniquePrefix("A"), uniquePrefix("B")];
    await openAccount(a, "100.00");
    await openAccount(b);
    const error = await rpcError(ledger.client().createTransfer({ sourceAccount: a, destinationAccount: b, amount, currency }));
    expect(error.code).toBe(Code.InvalidArgument);
    expect(fieldOf(error)).toBe(field);
    expect(error.message).toContain(text);
    expect((await ledger.client().getBalance({ accountId: a })).balance?.balance?.amount).toBe("100.00");
  });

  it("names a missing account and a currency mismatch", async () => {
    const [a, b] = [uniquePrefix("A"), uniquePrefix("B")];
    await openAccount(a, "100.00");
    await openAccount(b, "0", "JPY");
    const missing = await rpcError(
      ledger.client().createTransfer({ sourceAccount: a, destinationAccount: `${b}-nope`, amount: "1", currency: "USD" }),
    );
    expect(missing.code).toBe(Code.NotFound);
    expect(missing.message).toContain(`destination account ${b}-nope not found`);
    expect(missing.metadata.get("x-qenex-field")).toBe("destination_account");
    const mismatch = await rpcError(
      ledger.client().createTransfer({ sourceAccount: a, destinationAccount: b, amount: "1", currency: "USD" }),
    );
    expect(mismatch.code).toBe(Code.InvalidArgument);
    expect(mismatch.message).toContain(`account ${b} holds JPY`);
    expect((await ledger.client().getBalance({ accountId: a })).balance?.balance?.amount).toBe("100.00");
  });

  it("rejects a batch over 8,190 items and a batch with one malformed item, writing nothing", async () => {
    const [a, b] = [uniquePrefix("A"), uniquePrefix("B")];
    await openAccount(a, "100.00");
    await openAccount(b);
    const item = { sourceAccount: a, destinationAccount: b, amount: "0.01", currency: "USD" };
    const oversize = await rpcError(ledger.client().createTransfers({ transfers: Array.from({ length: 8191 }, () => item) }));
    expect(oversize.code).toBe(Code.InvalidArgument);
    expect(oversize.message).toContain("8190");
    const malformed = await rpcError(ledger.client().createTransfers({ transfers: [item, { ...item, amount: "0.001" }] }));
    expect(malformed.code).toBe(Code.InvalidArgument);
    expect(violationsOf(malformed)[0]?.field?.elements.map((e) => e.fieldName)).toEqual(["transfers", "amount"]);
    expect(violationsOf(malformed)[0]?.field?.elements[0]?.subscript).toEqual({ case: "index", value: 1n });
    expect((await ledger.client().getBalance({ accountId: a })).balance?.balance?.amount).toBe("100.00");
  });

  it("rejects an unauthenticated call and a reader who writes", async () => {
    const { createClient } = await import("@connectrpc/connect");
    const { createGrpcTransport } = await import("@connectrpc/connect-node");
    const { LedgerService } = await import("@qenex/gen/qenex/ledger/v1/ledger_pb.js");
    const anonymous = createClient(LedgerService, createGrpcTransport({ baseUrl: ledger.url }));
    const error = await rpcError(anonymous.getAccount({ accountId: "ACC001" }));
    expect(error.code).toBe(Code.Unauthenticated);
    const auditor = ledger.client(["auditor"]);
    const denied = await rpcError(
      auditor.createAccount({ accountId: uniquePrefix("X"), accountType: AccountType.CHECKING, currency: "USD" }),
    );
    expect(denied.code).toBe(Code.PermissionDenied);
  });

  it("rejects an empty account id, naming the field", async () => {
    const error = await rpcError(ledger.client().getBalance({ accountId: "" }));
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.message).toContain("account_id");
  });
});
