// Randomized: thousands of operations (transfers, pending, post, void, reversal, linked
// pairs) in random sequences against the real store, each checked against a tiny
// independent model. After every operation: the outcome is the model's, per-currency
// Σ debits = Σ credits, no constrained balance is below zero, and the stored balances
// equal both the model and a recomputation from the stored transfers.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { AccountType, TransferKind as Kind, CreateTransferStatus as Status } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { createDb, type Db, migrate } from "@qenex/platform";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TransferCommand } from "../domain/transfer.js";
import { testAuditKey, uniquePrefix, usesPostgres } from "../testing/harness.js";
import { createLedgerStore, type LedgerStore, simpleTransfer } from "./ledger-store.js";
import { ledgerMigrations } from "./migrations.js";

type Op =
  | { type: "transfer"; from: number; to: number; amount: number }
  | { type: "pending"; from: number; to: number; amount: number }
  | { type: "post"; pending: number; amount: number }
  | { type: "void"; pending: number }
  | { type: "reverse"; transfer: number; amount: number }
  | { type: "pair"; from: number; via: number; to: number; first: number; second: number };

const accountCount = 4;
const account = fc.integer({ min: 0, max: accountCount - 1 });
const amount = fc.integer({ min: 1, max: 60 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ type: fc.constant("transfer" as const), from: account, to: account, amount }),
  fc.record({ type: fc.constant("pending" as const), from: account, to: account, amount }),
  fc.record({ type: fc.constant("post" as const), pending: fc.nat(20), amount: fc.integer({ min: 0, max: 60 }) }),
  fc.record({ type: fc.constant("void" as const), pending: fc.nat(20) }),
  fc.record({ type: fc.constant("reverse" as const), transfer: fc.nat(20), amount: fc.integer({ min: 0, max: 60 }) }),
  fc.record({ type: fc.constant("pair" as const), from: account, via: account, to: account, first: amount, second: amount }),
);

type Balances = { dp: bigint; cp: bigint; dq: bigint; cq: bigint; limited: boolean };
type Posted = { id: string; from: string; to: string; amount: bigint; reversed: bigint };
type Pending = { id: string; from: string; to: string; amount: bigint; open: boolean };

/** The model: a few maps and the rules in their plainest form. */
class Model {
  balances = new Map<string, Balances>();
  posted: Posted[] = [];
  pendings: Pending[] = [];
  available(id: string): bigint {
    const b = this.balances.get(id) as Balances;
    return b.cp - b.dp - b.dq;
  }
  canDebit(id: string, amountMinor: bigint): boolean {
    return !(this.balances.get(id) as Balances).limited || this.available(id) >= amountMinor;
  }
  post(from: string, to: string, amountMinor: bigint, id: string): void {
    (this.balances.get(from) as Balances).dp += amountMinor;
    (this.balances.get(to) as Balances).cp += amountMinor;
    this.posted.push({ id, from, to, amount: amountMinor, reversed: 0n });
  }
}

let db: Db;
let store: LedgerStore;
beforeAll(async () => {
  db = await createDb({
    databaseUrl: process.env.DATABASE_URL,
    dataDir: fs.mkdtempSync(path.join(os.tmpdir(), "qenex-model-")),
    poolMax: 4,
    schema: "ledger",
  });
  await migrate(db, "ledger", ledgerMigrations);
  store = createLedgerStore(db, { keyId: "k1", secret: testAuditKey });
});
afterAll(() => db.close());

function command(fields: Partial<TransferCommand> & Pick<TransferCommand, "id" | "kind">): TransferCommand {
  return {
    ...simpleTransfer({ debitAccountId: "", creditAccountId: "", amountMinor: 0n, currency: "", reference: "", ...fields }),
    ...fields,
  };
}

/** Runs one op on the store and the model; returns whether the store and model agreed. */
async function step(op: Op, ids: string[], model: Model, n: number, prefix: string): Promise<void> {
  const id = `${prefix}-${n}`;
  const at = (i: number) => ids[i] as string;
  const usd = (from: string, to: string, amountMinor: bigint, extra: Partial<TransferCommand> = {}) =>
    command({ id, kind: Kind.TRANSFER, debitAccountId: from, creditAccountId: to, amountMinor, currency: "USD", ...extra });
  if ((op.type === "transfer" || op.type === "pending") && op.from === op.to) return;
  if (op.type === "transfer" || op.type === "pending") {
    const [from, to, amountMinor] = [at(op.from), at(op.to), BigInt(op.amount)];
    const pending = op.type === "pending";
    const expected = model.canDebit(from, amountMinor);
    const { plan } = await store.createTransfers([usd(from, to, amountMinor, pending ? { kind: Kind.PENDING } : {})]);
    expect(plan.outcomes[0]?.status).toBe(expected ? Status.CREATED : Status.INSUFFICIENT_FUNDS);
    if (!expected) return;
    if (!pending) return model.post(from, to, amountMinor, id);
    (model.balances.get(from) as Balances).dq += amountMinor;
    (model.balances.get(to) as Balances).cq += amountMinor;
    model.pendings.push({ id, from, to, amount: amountMinor, open: true });
    return;
  }
  if (op.type === "post" || op.type === "void") {
    const target = model.pendings[op.pending % Math.max(model.pendings.length, 1)];
    if (!target) return;
    const postAmount = op.type === "post" && op.amount > 0 ? BigInt(op.amount) : target.amount;
    const expected = target.open && postAmount <= target.amount;
    const kind = op.type === "post" ? Kind.POST_PENDING : Kind.VOID_PENDING;
    const amountMinor = op.type === "post" && op.amount > 0 ? postAmount : 0n;
    const { plan } = await store.createTransfers([
      command({ id, kind, pendingId: target.id, amountMinor, currency: amountMinor ? "USD" : "" }),
    ]);
    expect(plan.outcomes[0]?.status === Status.CREATED).toBe(expected);
    if (!expected) return;
    target.open = false;
    (model.balances.get(target.from) as Balances).dq -= target.amount;
    (model.balances.get(target.to) as Balances).cq -= target.amount;
    if (op.type === "post") model.post(target.from, target.to, postAmount, id);
    return;
  }
  if (op.type === "reverse") {
    const original = model.posted[op.transfer % Math.max(model.posted.length, 1)];
    if (!original) return;
    const remaining = original.amount - original.reversed;
    const amountMinor = op.amount > 0 ? BigInt(op.amount) : remaining;
    const expected = amountMinor > 0n && amountMinor <= remaining && model.canDebit(original.to, amountMinor);
    const { plan } = await store.createTransfers([
      command({ id, kind: Kind.REVERSAL, reversalOf: original.id, amountMinor: op.amount > 0 ? amountMinor : 0n }),
    ]);
    expect(plan.outcomes[0]?.status === Status.CREATED).toBe(expected);
    if (!expected) return;
    original.reversed += amountMinor;
    model.post(original.to, original.from, amountMinor, id);
    return;
  }
  const [from, via, to] = [at(op.from), at(op.via), at(op.to)];
  if (from === via || via === to) return;
  const [first, second] = [BigInt(op.first), BigInt(op.second)];
  const firstOk = model.canDebit(from, first);
  if (firstOk) model.post(from, via, first, `${id}.a`);
  const secondOk = firstOk && model.canDebit(via, second);
  if (firstOk && !secondOk) {
    model.posted.pop();
    (model.balances.get(from) as Balances).dp -= first;
    (model.balances.get(via) as Balances).cp -= first;
  }
  if (secondOk) model.post(via, to, second, `${id}.b`);
  const { plan } = await store.createTransfers([
    usd(from, via, first, { id: `${id}.a`, linked: true }),
    usd(via, to, second, { id: `${id}.b` }),
  ]);
  expect(plan.outcomes.map((o) => o.status === Status.CREATED)).toEqual([secondOk, secondOk]);
}

async function checkInvariants(ids: string[], model: Model): Promise<void> {
  const { rows } = await db.query<{
    id: string;
    dp: string;
    cp: string;
    dq: string;
    cq: string;
    rdp: string;
    rcp: string;
    rdq: string;
    rcq: string;
  }>(
    `SELECT a.id, a.debits_posted::text AS dp, a.credits_posted::text AS cp, a.debits_pending::text AS dq, a.credits_pending::text AS cq,
       (SELECT COALESCE(SUM(amount), 0) FROM ledger_transfers t WHERE t.debit_account_id = a.id AND t.kind IN (1, 2, 4, 7))::text AS rdp,
       (SELECT COALESCE(SUM(amount), 0) FROM ledger_transfers t WHERE t.credit_account_id = a.id AND t.kind IN (1, 2, 4, 7))::text AS rcp,
       (SELECT COALESCE(SUM(t.amount), 0) FROM ledger_transfers t JOIN ledger_pending p ON p.transfer_id = t.id
         WHERE t.debit_account_id = a.id AND p.state = 'PENDING')::text AS rdq,
       (SELECT COALESCE(SUM(t.amount), 0) FROM ledger_transfers t JOIN ledger_pending p ON p.transfer_id = t.id
         WHERE t.credit_account_id = a.id AND p.state = 'PENDING')::text AS rcq
     FROM ledger_accounts a WHERE a.id = ANY($1::text[])`,
    [ids],
  );
  for (const row of rows) {
    const m = model.balances.get(row.id) as Balances;
    const stored = [row.dp, row.cp, row.dq, row.cq].map(BigInt);
    expect(stored, `stored vs model for ${row.id}`).toEqual([m.dp, m.cp, m.dq, m.cq]);
    expect([row.rdp, row.rcp, row.rdq, row.rcq].map(BigInt), `recomputed for ${row.id}`).toEqual(stored);
    if (m.limited) expect(m.cp - m.dp - m.dq >= 0n, `${row.id} overdrawn`).toBe(true);
  }
  const sides = await db.query<{ currency: string; d: string; c: string; dq: string; cq: string }>(
    `SELECT currency, SUM(debits_posted)::text AS d, SUM(credits_posted)::text AS c,
            SUM(debits_pending)::text AS dq, SUM(credits_pending)::text AS cq FROM ledger_accounts GROUP BY currency`,
  );
  for (const side of sides.rows) expect([side.d, side.dq], `currency ${side.currency}`).toEqual([side.c, side.cq]);
}

describe("the store against a model", () => {
  it("agrees on every outcome and keeps the book's invariants", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 25 }), async (ops) => {
        const prefix = uniquePrefix("model");
        const ids = Array.from({ length: accountCount }, (_, n) => `${prefix}-acct${n}`);
        const model = new Model();
        await store.createAccounts(
          ids.map((id, n) => ({
            id,
            type: AccountType.CHECKING,
            currency: "USD",
            ownerId: "",
            debitsMustNotExceedCredits: n !== 0,
            initialBalanceMinor: 100n,
          })),
        );
        for (const [n, id] of ids.entries()) {
          model.balances.set(id, { dp: 0n, cp: 100n, dq: 0n, cq: 0n, limited: n !== 0 });
        }
        for (const [n, op] of ops.entries()) {
          await step(op, ids, model, n, prefix);
          await checkInvariants(ids, model);
        }
      }),
      { numRuns: usesPostgres ? 150 : 40 },
    );
  });
});
