// Walks the access table against a real ledger server: every RPC, called with a token of
// every role, is refused exactly where the table says so. Then the customer's rules one by one.
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type Client, Code, ConnectError, createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { AccountType, LedgerService, TransferKind } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { createAuth, type Role, roles } from "@qenex/platform";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LedgerMethod, ledgerAccess } from "./access.js";
import { rpcError, startTestLedger, type TestLedger, testJwtSecret, uniquePrefix } from "./testing/harness.js";

type Ledger = Client<typeof LedgerService>;

const auth = createAuth(testJwtSecret);
let ledger: TestLedger;
let admin: Ledger;
/** Names of this file's accounts, owners and transfers, unique per run on a shared database. */
let p: string;
let alice: string;
let bob: string;

/** A client over a real socket whose every call carries a token for `subject` with `tokenRoles`. */
function clientAs(subject: string, tokenRoles: Role[], protocol: "grpc" | "connect" = "grpc"): Ledger {
  const bearer: Interceptor = (next) => async (req) => {
    req.header.set("authorization", `Bearer ${await auth.issue({ subject, roles: tokenRoles }, 600)}`);
    return next(req);
  };
  const options = { baseUrl: ledger.url, interceptors: [bearer] };
  const transport: Transport =
    protocol === "grpc" ? createGrpcTransport(options) : createConnectTransport({ ...options, httpVersion: "1.1" });
  return createClient(LedgerService, transport);
}

/** The first message of a stream; leaving the loop cancels the call. */
async function firstOf<T>(stream: AsyncIterable<T>): Promise<T | undefined> {
  for await (const message of stream) return message;
  return undefined;
}

/** "ok", or the code the call failed with. */
async function outcomeOf(call: Promise<unknown>): Promise<"ok" | Code> {
  try {
    await call;
    return "ok";
  } catch (error) {
    return ConnectError.from(error).code;
  }
}

async function openAccount(id: string, ownerId: string, initialBalance = "0", currency = "USD") {
  await admin.createAccount({ accountId: id, accountType: AccountType.CHECKING, currency, initialBalance, ownerId });
}

async function balanceOf(accountId: string): Promise<string | undefined> {
  return (await admin.getBalance({ accountId })).balance?.balance?.amount;
}

beforeAll(async () => {
  ledger = await startTestLedger();
  admin = ledger.client(["admin"]);
  p = uniquePrefix("rbac");
  alice = `${p}-alice`;
  bob = `${p}-bob`;
  await openAccount(`${p}-a1`, alice, "1000.00");
  await openAccount(`${p}-a2`, alice);
  await openAccount(`${p}-a-eur`, alice, "0", "EUR");
  await openAccount(`${p}-b1`, bob, "1000.00");
  await openAccount(`${p}-b2`, bob);
  await admin.createTransfer({
    transferId: `${p}-ab`,
    sourceAccount: `${p}-a1`,
    destinationAccount: `${p}-b1`,
    amount: "5.00",
    currency: "USD",
  });
  await admin.createTransfer({
    transferId: `${p}-bb`,
    sourceAccount: `${p}-b1`,
    destinationAccount: `${p}-b2`,
    amount: "5.00",
    currency: "USD",
  });
});
afterAll(() => ledger.stop());

/**
 * One call of each RPC, on alice's accounts, so that a customer (alice) is inside her rule and
 * the table alone decides. Ids carry the role, so each role's writes are its own.
 */
const callOf: Record<LedgerMethod, (client: Ledger, role: string) => Promise<unknown>> = {
  createAccount: (c, role) =>
    c.createAccount({ accountId: `${p}-new-${role}`, accountType: AccountType.CHECKING, currency: "USD", ownerId: alice }),
  createAccounts: (c, role) =>
    c.createAccounts({
      accounts: [{ accountId: `${p}-news-${role}`, accountType: AccountType.CHECKING, currency: "USD", ownerId: alice }],
    }),
  getAccount: (c) => c.getAccount({ accountId: `${p}-a1` }),
  listAccounts: (c) => c.listAccounts({ ownerId: alice }),
  closeAccount: async (c, role) => {
    await openAccount(`${p}-close-${role}`, alice);
    return c.closeAccount({ accountId: `${p}-close-${role}` });
  },
  getBalance: (c) => c.getBalance({ accountId: `${p}-a1` }),
  createTransfer: (c, role) =>
    c.createTransfer({
      transferId: `${p}-t-${role}`,
      sourceAccount: `${p}-a1`,
      destinationAccount: `${p}-b1`,
      amount: "0.01",
      currency: "USD",
    }),
  createTransfers: (c, role) =>
    c.createTransfers({
      transfers: [
        { transferId: `${p}-ts-${role}`, sourceAccount: `${p}-a1`, destinationAccount: `${p}-a2`, amount: "0.01", currency: "USD" },
      ],
    }),
  getTransfer: (c) => c.getTransfer({ transferId: `${p}-ab` }),
  listTransfers: (c) => c.listTransfers({ accountId: `${p}-a1` }),
  reopenAccount: (c) => c.reopenAccount({ accountId: `${p}-a2` }),
  reverseTransfer: (c, role) => c.reverseTransfer({ transferId: `${p}-ab`, reversalId: `${p}-rev-${role}`, amount: "0.01" }),
  // A window wholly in the past, so no other test's conversion ever uses this rate.
  setExchangeRate: (c) =>
    c.setExchangeRate({
      baseCurrency: "USD",
      quoteCurrency: "EUR",
      rate: "0.9",
      validFrom: timestampFromDate(new Date(Date.now() - 7_200_000)),
      validUntil: timestampFromDate(new Date(Date.now() - 3_600_000)),
    }),
  createFxTransfer: (c, role) =>
    c.createFxTransfer({
      transferId: `${p}-fx-${role}`,
      sourceAccount: `${p}-a1`,
      destinationAccount: `${p}-a-eur`,
      currency: "USD",
      amount: "0.01",
      destinationCurrency: "EUR",
    }),
  getTrialBalance: (c) => c.getTrialBalance({}),
  reconcile: (c) => firstOf(c.reconcile({})),
  verifyAudit: (c) => c.verifyAudit({}),
  // alice's first account has its opening transfer, so an allowed watch delivers at once.
  watchTransfers: (c) => firstOf(c.watchTransfers({ accountId: `${p}-a1`, afterSequence: 0n })),
};

function allows(method: LedgerMethod, role: Role): boolean {
  const access = ledgerAccess[method];
  return role === "customer" ? access.customer === "own accounts" : access.roles.includes(role);
}

const methods = LedgerService.methods.map((method) => method.localName as LedgerMethod);

describe("the access table, walked against a server", () => {
  describe.each(methods)("%s", (method) => {
    it.each([...roles])("as %s: allowed or PERMISSION_DENIED as the table says", async (role) => {
      const subject = role === "customer" ? alice : `${p}-${role}`;
      const outcome = await outcomeOf(callOf[method](clientAs(subject, [role]), role));
      if (allows(method, role)) {
        expect([Code.PermissionDenied, Code.Unauthenticated, Code.Internal, Code.Unknown]).not.toContain(outcome);
      } else {
        expect(outcome).toBe(Code.PermissionDenied);
      }
    });

    it("is PERMISSION_DENIED for a token without roles and UNAUTHENTICATED without a token", async () => {
      expect(await outcomeOf(callOf[method](clientAs(`${p}-nobody`, []), "nobody"))).toBe(Code.PermissionDenied);
      const anonymous = createClient(LedgerService, createGrpcTransport({ baseUrl: ledger.url }));
      expect(await outcomeOf(callOf[method](anonymous, "anonymous"))).toBe(Code.Unauthenticated);
    });
  });
});

describe("a customer", () => {
  let a: Ledger;
  let b: Ledger;
  beforeAll(() => {
    a = clientAs(alice, ["customer"], "connect");
    b = clientAs(bob, ["customer"], "connect");
  });

  it("reads its own account, balance and transfers, and moves money from its account", async () => {
    await openAccount(`${p}-a3`, alice);
    expect((await a.getAccount({ accountId: `${p}-a3` })).account?.ownerId).toBe(alice);
    await a.createTransfer({
      transferId: `${p}-own-in`,
      sourceAccount: `${p}-a1`,
      destinationAccount: `${p}-a3`,
      amount: "3.00",
      currency: "USD",
    });
    const res = await a.createTransfer({
      transferId: `${p}-own-out`,
      sourceAccount: `${p}-a3`,
      destinationAccount: `${p}-b2`,
      amount: "1.00",
      currency: "USD",
    });
    expect(res.transfer?.destinationAccount).toBe(`${p}-b2`);
    expect((await a.getBalance({ accountId: `${p}-a3` })).balance?.balance?.amount).toBe("2.00");
    const listed = await a.listTransfers({ accountId: `${p}-a3` });
    expect(listed.transfers.map((t) => t.transferId)).toEqual(expect.arrayContaining([`${p}-own-in`, `${p}-own-out`]));
    expect((await a.getTransfer({ transferId: `${p}-own-out` })).transfer?.sourceAccount).toBe(`${p}-a3`);
  });

  it("cannot read another customer's account, balance or transfers, nor one that does not exist", async () => {
    const deniedFor = async (accountId: string) => {
      const errors = [
        await rpcError(a.getAccount({ accountId })),
        await rpcError(a.getBalance({ accountId })),
        await rpcError(a.getBalance({ accountId, asOf: timestampFromDate(new Date(Date.now() - 1000)) })),
        await rpcError(a.listTransfers({ accountId })),
      ];
      return errors.map((e) => [e.code, e.message]);
    };
    const foreign = await deniedFor(`${p}-b1`);
    expect(foreign.map(([code]) => code)).toEqual(foreign.map(() => Code.PermissionDenied));
    // The same answer for an account that does not exist: no way to probe which ids do.
    expect(await deniedFor(`${p}-missing`)).toEqual(foreign);
    // A transfer between bob's accounts is bob's alone; one between alice and bob is both's.
    expect((await rpcError(a.getTransfer({ transferId: `${p}-bb` }))).code).toBe(Code.PermissionDenied);
    expect((await rpcError(a.getTransfer({ transferId: `${p}-no-such-transfer` }))).code).toBe(Code.PermissionDenied);
    expect((await b.getTransfer({ transferId: `${p}-bb` })).transfer?.amount?.amount).toBe("5.00");
    expect((await a.getTransfer({ transferId: `${p}-ab` })).transfer?.destinationAccount).toBe(`${p}-b1`);
    expect((await b.getTransfer({ transferId: `${p}-ab` })).transfer?.sourceAccount).toBe(`${p}-a1`);
  });

  it("cannot debit another customer's account, alone or in a batch, and nothing is written", async () => {
    const bobBefore = await balanceOf(`${p}-b1`);
    const aliceBefore = await balanceOf(`${p}-a1`);
    const steal = { sourceAccount: `${p}-b1`, destinationAccount: `${p}-a1`, amount: "100.00", currency: "USD" };
    expect((await rpcError(a.createTransfer({ transferId: `${p}-steal`, ...steal }))).code).toBe(Code.PermissionDenied);
    const batch = a.createTransfers({
      transfers: [
        { transferId: `${p}-batch-own`, sourceAccount: `${p}-a1`, destinationAccount: `${p}-a2`, amount: "1.00", currency: "USD" },
        { transferId: `${p}-batch-steal`, ...steal },
      ],
    });
    expect((await rpcError(batch)).code).toBe(Code.PermissionDenied);
    const fx = a.createFxTransfer({
      transferId: `${p}-fx-steal`,
      sourceAccount: `${p}-b1`,
      destinationAccount: `${p}-a-eur`,
      currency: "USD",
      amount: "1.00",
      destinationCurrency: "EUR",
    });
    expect((await rpcError(fx)).code).toBe(Code.PermissionDenied);
    expect(await balanceOf(`${p}-b1`)).toBe(bobBefore);
    expect(await balanceOf(`${p}-a1`)).toBe(aliceBefore);
    for (const transferId of [`${p}-steal`, `${p}-batch-own`, `${p}-batch-steal`, `${p}-fx-steal.out`]) {
      expect((await rpcError(admin.getTransfer({ transferId }))).code).toBe(Code.NotFound);
    }
  });

  it("posts and voids only pending transfers that debit its own account", async () => {
    const pending = (id: string, source: string, destination: string) => ({
      transferId: id,
      sourceAccount: source,
      destinationAccount: destination,
      amount: "2.00",
      currency: "USD",
      kind: TransferKind.PENDING,
    });
    await b.createTransfer(pending(`${p}-pend-b`, `${p}-b1`, `${p}-a1`));
    await a.createTransfer(pending(`${p}-pend-a`, `${p}-a1`, `${p}-b1`));
    const resolve = (kind: TransferKind, pendingTransferId: string, id: string) => ({ transferId: id, kind, pendingTransferId });
    const postForeign = a.createTransfer(resolve(TransferKind.POST_PENDING, `${p}-pend-b`, `${p}-post-b`));
    expect((await rpcError(postForeign)).code).toBe(Code.PermissionDenied);
    const voidForeign = a.createTransfers({ transfers: [resolve(TransferKind.VOID_PENDING, `${p}-pend-b`, `${p}-void-b`)] });
    expect((await rpcError(voidForeign)).code).toBe(Code.PermissionDenied);
    const postMissing = a.createTransfer(resolve(TransferKind.POST_PENDING, `${p}-pend-none`, `${p}-post-none`));
    expect((await rpcError(postMissing)).code).toBe(Code.PermissionDenied);
    const posted = await a.createTransfer(resolve(TransferKind.POST_PENDING, `${p}-pend-a`, `${p}-post-a`));
    expect(posted.transfer?.sourceAccount).toBe(`${p}-a1`);
    const voided = await b.createTransfer(resolve(TransferKind.VOID_PENDING, `${p}-pend-b`, `${p}-void-b2`));
    expect(voided.transfer?.kind).toBe(TransferKind.VOID_PENDING);
  });

  it("lists only its own accounts, and is refused another owner's", async () => {
    const seen: string[] = [];
    let pageToken = "";
    do {
      const page = await a.listAccounts({ page: { pageSize: 2, pageToken } });
      seen.push(...page.accounts.map((account) => account.accountId));
      expect(page.accounts.every((account) => account.ownerId === alice)).toBe(true);
      pageToken = page.page?.nextPageToken ?? "";
    } while (pageToken !== "");
    expect(seen).toEqual(expect.arrayContaining([`${p}-a1`, `${p}-a2`, `${p}-a-eur`]));
    expect(seen.some((id) => id.startsWith(`${p}-b`))).toBe(false);
    expect((await a.listAccounts({ ownerId: alice })).accounts.length).toBe(seen.length);
    expect((await rpcError(a.listAccounts({ ownerId: bob }))).code).toBe(Code.PermissionDenied);
  });

  it("watches only an account of its own", async () => {
    expect((await rpcError(firstOf(a.watchTransfers({ accountId: `${p}-b2` })))).code).toBe(Code.PermissionDenied);
    expect((await rpcError(firstOf(a.watchTransfers({ accountId: "" })))).code).toBe(Code.PermissionDenied);
    const first = await firstOf(a.watchTransfers({ accountId: `${p}-a1` }));
    expect([first?.transfer?.sourceAccount, first?.transfer?.destinationAccount]).toContain(`${p}-a1`);
  });

  it("treats SQL-shaped ids as data: refused or not found, never an internal error or another's data", async () => {
    const shapes = ["x' OR '1'='1", "'; DROP TABLE ledger_accounts; --", `${p}-b1' --`, "%", "*"];
    const allowedCodes = [Code.InvalidArgument, Code.NotFound, Code.PermissionDenied];
    let n = 0;
    for (const id of shapes) {
      for (const client of [a, admin]) {
        // Thunks, so each call starts only when awaited: a rejection is never left unhandled.
        const calls = [
          () => client.getAccount({ accountId: id }),
          () => client.getBalance({ accountId: id }),
          () => client.listTransfers({ accountId: id }),
          () => client.getTransfer({ transferId: id }),
          () =>
            client.createTransfer({
              transferId: `${p}-sql-${n++}`,
              sourceAccount: id,
              destinationAccount: `${p}-a2`,
              amount: "1.00",
              currency: "USD",
            }),
          () =>
            client.createTransfer({
              transferId: id,
              sourceAccount: `${p}-a1`,
              destinationAccount: `${p}-a2`,
              amount: "1.00",
              currency: "USD",
            }),
          () => client.closeAccount({ accountId: id }),
        ];
        for (const call of calls) expect(allowedCodes).toContain((await rpcError(call())).code);
      }
      expect((await rpcError(a.listAccounts({ ownerId: id }))).code).toBe(Code.PermissionDenied);
      expect((await admin.listAccounts({ ownerId: id })).accounts).toEqual([]);
      expect((await rpcError(firstOf(a.watchTransfers({ accountId: id })))).code).toBe(Code.PermissionDenied);
    }
    const injectedCustomer = clientAs("x' OR '1'='1", ["customer"]);
    expect((await injectedCustomer.listAccounts({})).accounts).toEqual([]);
    expect((await admin.getAccount({ accountId: `${p}-b1` })).account?.ownerId).toBe(bob);
  });
});
