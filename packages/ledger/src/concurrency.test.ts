// Many clients, and two ledger processes on one database: no lost update, no overdraft,
// no deadlock reaching a client, and the book balances.
import { Code, ConnectError } from "@connectrpc/connect";
import { AccountType } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import type { Db } from "@qenex/platform";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestLedger, type TestLedger, uniquePrefix, usesPostgres } from "./testing/harness.js";

// The acceptance size runs on PostgreSQL; the embedded engine is one connection, so its
// run is smaller.
const clientCount = usesPostgres ? 32 : 8;
const transfersPerClient = usesPostgres ? 500 : 60;
const accountCount = 50;

type Tally = { created: number; insufficient: number };

async function openAccounts(ledger: TestLedger, prefix: string): Promise<string[]> {
  const ids = Array.from({ length: accountCount }, (_, n) => `${prefix}-${n}`);
  const res = await ledger.client().createAccounts({
    accounts: ids.map((accountId) => ({ accountId, accountType: AccountType.CHECKING, currency: "USD", initialBalance: "100.00" })),
  });
  expect(res.results).toHaveLength(accountCount);
  return ids;
}

/** One client: random transfers between random accounts, one RPC each. */
async function runClient(ledger: TestLedger, ids: string[], clientId: string, count: number): Promise<Tally> {
  const client = ledger.client();
  const tally: Tally = { created: 0, insufficient: 0 };
  for (let n = 0; n < count; n++) {
    const from = Math.floor(Math.random() * ids.length);
    const to = (from + 1 + Math.floor(Math.random() * (ids.length - 1))) % ids.length;
    const amountMinor = 1 + Math.floor(Math.random() * 3000);
    try {
      await client.createTransfer({
        transferId: `${clientId}-${n}`,
        sourceAccount: ids[from] ?? "",
        destinationAccount: ids[to] ?? "",
        amount: (amountMinor / 100).toFixed(2),
        currency: "USD",
      });
      tally.created++;
    } catch (error) {
      const e = ConnectError.from(error);
      // Running out of funds is the only acceptable failure; anything else fails the test.
      if (e.code !== Code.FailedPrecondition || !e.message.includes("insufficient funds")) throw error;
      tally.insufficient++;
    }
  }
  return tally;
}

/** Recomputes every account from the transfers and checks the book's invariants. */
async function verifyBook(db: Db, prefix: string, createdTransfers: number): Promise<void> {
  const { rows } = await db.query<{ id: string; stored: string; summed: string }>(
    `SELECT a.id, (a.credits_posted - a.debits_posted)::text AS stored,
            (COALESCE((SELECT SUM(amount) FROM ledger_transfers WHERE credit_account_id = a.id), 0)
           - COALESCE((SELECT SUM(amount) FROM ledger_transfers WHERE debit_account_id = a.id), 0))::text AS summed
       FROM ledger_accounts a WHERE a.id LIKE $1 || '-%'`,
    [prefix],
  );
  expect(rows).toHaveLength(accountCount);
  for (const row of rows) {
    expect(row.stored, `account ${row.id}`).toBe(row.summed);
    expect(BigInt(row.stored) >= 0n, `account ${row.id} is negative`).toBe(true);
  }
  const total = rows.reduce((sum, row) => sum + BigInt(row.stored), 0n);
  expect(total).toBe(BigInt(accountCount) * 10000n);
  const moved = await db.query<{ n: string }>("SELECT count(*)::text AS n FROM ledger_transfers WHERE debit_account_id LIKE $1 || '-%'", [
    prefix,
  ]);
  expect(Number(moved.rows[0]?.n)).toBe(createdTransfers);
  const sides = await db.query<{ currency: string; debits: string; credits: string }>(
    "SELECT currency, SUM(debits_posted)::text AS debits, SUM(credits_posted)::text AS credits FROM ledger_accounts GROUP BY currency",
  );
  for (const side of sides.rows) expect(side.debits, `currency ${side.currency}`).toBe(side.credits);
}

function sum(tallies: Tally[]): Tally {
  return tallies.reduce((a, b) => ({ created: a.created + b.created, insufficient: a.insufficient + b.insufficient }));
}

describe(`concurrency (${clientCount} clients × ${transfersPerClient} transfers over ${accountCount} accounts)`, () => {
  let ledger: TestLedger;
  beforeAll(async () => {
    ledger = await startTestLedger();
  });
  afterAll(() => ledger.stop());

  it("loses no update and never overdraws", async () => {
    const prefix = uniquePrefix("conc");
    const ids = await openAccounts(ledger, prefix);
    const tallies = await Promise.all(
      Array.from({ length: clientCount }, (_, c) => runClient(ledger, ids, `${prefix}-c${c}`, transfersPerClient)),
    );
    const total = sum(tallies);
    expect(total.created + total.insufficient).toBe(clientCount * transfersPerClient);
    expect(total.created).toBeGreaterThan(0);
    await verifyBook(ledger.process.db, prefix, total.created);
  });
});

describe.runIf(usesPostgres)("two ledger processes on one database", () => {
  let first: TestLedger;
  let second: TestLedger;
  beforeAll(async () => {
    [first, second] = await Promise.all([startTestLedger(), startTestLedger()]);
  });
  afterAll(() => Promise.all([first.stop(), second.stop()]));

  it("share the book without losing updates or overdrawing", async () => {
    const prefix = uniquePrefix("two");
    const ids = await openAccounts(first, prefix);
    const perClient = 250;
    const tallies = await Promise.all(
      Array.from({ length: 16 }, (_, c) => runClient(c % 2 === 0 ? first : second, ids, `${prefix}-c${c}`, perClient)),
    );
    const total = sum(tallies);
    expect(total.created + total.insufficient).toBe(16 * perClient);
    await verifyBook(first.process.db, prefix, total.created);
  });

  it("create one transfer when the same id arrives at both at once", async () => {
    const prefix = uniquePrefix("race");
    const [a, b] = [`${prefix}-a`, `${prefix}-b`];
    await first.client().createAccounts({
      accounts: [a, b].map((accountId) => ({ accountId, accountType: AccountType.CHECKING, currency: "USD", initialBalance: "10.00" })),
    });
    const request = { transferId: `${prefix}-t`, sourceAccount: a, destinationAccount: b, amount: "3.00", currency: "USD" };
    const responses = await Promise.all(Array.from({ length: 20 }, (_, n) => (n % 2 ? first : second).client().createTransfer(request)));
    expect(responses.filter((r) => !r.existed)).toHaveLength(1);
    expect(new Set(responses.map((r) => r.transfer?.createdAt?.seconds))).toHaveProperty("size", 1);
    const balance = await second.client().getBalance({ accountId: b });
    expect(balance.balance?.balance?.amount).toBe("13.00");
  });
});
