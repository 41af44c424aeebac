// GetTrialBalance and Reconcile against a real server. The database may be shared with other
// test files running at the same time, so assertions are about this file's accounts and
// its own currency, never "the whole book is clean".
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import type { Money } from "@qenex/gen/qenex/common/v1/money_pb.js";
import {
  AccountType,
  type CurrencyTotals,
  type ReconcileReport,
  type ReconcileResponse,
  TransferKind,
} from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { parseMoney, type Role } from "@qenex/platform";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rpcError, startTestLedger, type TestLedger, uniquePrefix } from "../testing/harness.js";
import { type CountersMinor, createReconcileStore, type PageCheck } from "./reconcile-store.js";

/** Only this file books in this currency, so its totals move only with what these tests do. */
const currency = "DKK";

let ledger: TestLedger;
beforeAll(async () => {
  ledger = await startTestLedger();
});
afterAll(() => ledger.stop());

async function openAccount(id: string, initialBalance = "0") {
  return ledger.client().createAccount({ accountId: id, accountType: AccountType.CHECKING, currency, initialBalance });
}

async function transfer(from: string, to: string, amount: string, extra: { kind?: TransferKind; transferId?: string } = {}) {
  return ledger.client().createTransfer({ sourceAccount: from, destinationAccount: to, amount, currency, ...extra });
}

async function reconcile(roles: Role[] = ["auditor"]): Promise<{ events: ReconcileResponse["event"][]; report: ReconcileReport }> {
  const events: ReconcileResponse["event"][] = [];
  for await (const res of ledger.client(roles).reconcile({})) events.push(res.event);
  const last = events.at(-1);
  if (last?.case !== "report") throw new Error("the stream did not end with a report");
  return { events, report: last.value };
}

function minor(money: Money | undefined): bigint {
  if (!money) return 0n;
  const parsed = parseMoney(money.amount, money.currency);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.amountMinor;
}

/** This file's currency's line of a trial balance; zeros when the currency has no accounts yet. */
function ours(currencies: readonly CurrencyTotals[]): CountersMinor & { balanced: boolean } {
  const line = currencies.find((c) => c.currency === currency);
  return {
    debitsPostedMinor: minor(line?.debitsPosted),
    creditsPostedMinor: minor(line?.creditsPosted),
    debitsPendingMinor: minor(line?.debitsPending),
    creditsPendingMinor: minor(line?.creditsPending),
    balanced: line?.balanced ?? true,
  };
}

function differencesOf(report: ReconcileReport, prefix: string) {
  return report.differences
    .filter((d) => d.accountId.startsWith(prefix))
    .map((d) => ({ accountId: d.accountId, field: d.field, stored: d.stored?.amount, recomputed: d.recomputed?.amount }));
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("reconcile", () => {
  it("finds nothing to report on a clean book, with open and voided reservations", async () => {
    const prefix = uniquePrefix("REC-clean");
    await openAccount(`${prefix}-a`, "100.00");
    await openAccount(`${prefix}-b`);
    await transfer(`${prefix}-a`, `${prefix}-b`, "30.25");
    await transfer(`${prefix}-a`, `${prefix}-b`, "5.00", { kind: TransferKind.PENDING });
    const voided = await transfer(`${prefix}-a`, `${prefix}-b`, "2.00", { kind: TransferKind.PENDING });
    await ledger.client().createTransfer({ kind: TransferKind.VOID_PENDING, pendingTransferId: voided.transfer?.transferId ?? "" });
    const { report } = await reconcile();
    expect(differencesOf(report, prefix)).toEqual([]);
    expect(report.accountsChecked).toBeGreaterThanOrEqual(2n);
    expect(ours(report.currencies).balanced).toBe(true);
    const trial = await ledger.client(["auditor"]).getTrialBalance({});
    expect(ours(trial.currencies).balanced).toBe(true);
    expect(ours(trial.currencies).debitsPendingMinor).toBeGreaterThanOrEqual(500n);
    expect(trial.asOf).toBeDefined();
  });

  it("reports a tampered counter as that account and field, with stored and recomputed amounts", async () => {
    const prefix = uniquePrefix("REC-tamper");
    const id = `${prefix}-a`;
    await openAccount(id, "10.00");
    await ledger.process.db.query("UPDATE ledger_accounts SET credits_posted = credits_posted + 100 WHERE id = $1", [id]);
    try {
      const { report } = await reconcile();
      expect(differencesOf(report, prefix)).toEqual([{ accountId: id, field: "credits_posted", stored: "11.00", recomputed: "10.00" }]);
      expect(report.differencesTotal).toBeGreaterThanOrEqual(1n);
      expect(ours(report.currencies).balanced).toBe(false);
      const trial = await ledger.client(["auditor"]).getTrialBalance({});
      expect(trial.balanced).toBe(false);
    } finally {
      // The shared book must balance again for every other test.
      await ledger.process.db.query("UPDATE ledger_accounts SET credits_posted = credits_posted - 100 WHERE id = $1", [id]);
    }
    expect(differencesOf((await reconcile()).report, prefix)).toEqual([]);
  });

  it("streams progress before the report, never counting past the total", async () => {
    await openAccount(uniquePrefix("REC-progress"));
    const { events, report } = await reconcile();
    const progress = events.slice(0, -1);
    expect(progress.length).toBeGreaterThanOrEqual(1);
    expect(progress.every((e) => e.case === "progress")).toBe(true);
    const checked = progress.map((e) => (e.case === "progress" ? e.value.accountsChecked : -1n));
    expect(checked).toEqual([...checked].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    const last = progress.at(-1);
    expect(last?.case === "progress" && last.value.accountsChecked).toBe(report.accountsChecked);
    for (const e of progress) if (e.case === "progress") expect(e.value.accountsChecked).toBeLessThanOrEqual(e.value.accountsTotal);
  });

  it("walks every account once, in keyset pages", async () => {
    const prefix = uniquePrefix("REC-pages");
    const accounts = Array.from({ length: 8 }, (_, n) => ({ accountId: `${prefix}-${n}`, accountType: AccountType.SAVINGS, currency }));
    await ledger.client().createAccounts({ accounts });
    const store = createReconcileStore(ledger.process.db);
    const accountsPerPage = 3;
    const before = await store.countAccounts();
    const pages: PageCheck[] = [];
    for await (const page of store.checkAllAccounts(accountsPerPage)) pages.push(page);
    const after = await store.countAccounts();
    const checked = pages.reduce((sum, page) => sum + page.accountsChecked, 0);
    // Other tests may open accounts meanwhile; none is ever deleted.
    expect(checked).toBeGreaterThanOrEqual(before);
    expect(checked).toBeLessThanOrEqual(after);
    expect(pages.length).toBe(Math.ceil(checked / accountsPerPage));
    expect(pages.slice(0, -1).every((page) => page.accountsChecked === accountsPerPage)).toBe(true);
    expect(pages.flatMap((page) => page.differences).filter((d) => d.accountId.startsWith(prefix))).toEqual([]);
  });
});

describe("trial balance", () => {
  it("as of a past time sums the transfers created by then, pending until resolved", async () => {
    const prefix = uniquePrefix("REC-asof");
    const [a, b] = [`${prefix}-a`, `${prefix}-b`];
    const t0 = new Date();
    await pause(5);
    await openAccount(a, "100.00");
    await openAccount(b);
    await transfer(a, b, "30.00");
    const pending = await transfer(a, b, "5.00", { kind: TransferKind.PENDING });
    await pause(5);
    const t1 = new Date();
    await pause(5);
    await transfer(a, b, "10.00");
    await ledger.client().createTransfer({ kind: TransferKind.POST_PENDING, pendingTransferId: pending.transfer?.transferId ?? "" });
    await pause(5);
    const t2 = new Date();
    await pause(5);

    const asOf = async (t: Date) => ours((await ledger.client(["auditor"]).getTrialBalance({ asOf: timestampFromDate(t) })).currencies);
    const [at0, at1] = [await asOf(t0), await asOf(t1)];
    expect(at1.debitsPostedMinor - at0.debitsPostedMinor).toBe(13_000n);
    expect(at1.creditsPostedMinor - at0.creditsPostedMinor).toBe(13_000n);
    expect(at1.debitsPendingMinor - at0.debitsPendingMinor).toBe(500n);
    expect(at1.creditsPendingMinor - at0.creditsPendingMinor).toBe(500n);
    expect(at1.balanced).toBe(true);

    // Now, from the stored counters: the later transfer and the posted reservation.
    const now = ours((await ledger.client(["auditor"]).getTrialBalance({})).currencies);
    expect(now.debitsPostedMinor - at0.debitsPostedMinor).toBe(14_500n);
    expect(now.debitsPendingMinor - at0.debitsPendingMinor).toBe(0n);
    // Recomputed from the transfers after the last one, the totals are the stored counters.
    expect(await asOf(t2)).toEqual(now);
    // The past does not move.
    expect(await asOf(t1)).toEqual(at1);
    expect(differencesOf((await reconcile()).report, prefix)).toEqual([]);
  });

  it("refuses a time in the future", async () => {
    const error = await rpcError(ledger.client().getTrialBalance({ asOf: timestampFromDate(new Date(Date.now() + 60_000)) }));
    expect(error.code).toBe(Code.InvalidArgument);
  });
});

describe("access", () => {
  it("lets only ledger roles read the checks", async () => {
    expect((await rpcError(ledger.client([]).getTrialBalance({}))).code).toBe(Code.PermissionDenied);
    expect((await rpcError(reconcile([]))).code).toBe(Code.PermissionDenied);
    for (const role of ["admin", "operator", "service"] as const) {
      expect((await ledger.client([role]).getTrialBalance({})).currencies).toBeDefined();
    }
  });
});
