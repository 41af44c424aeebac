// VerifyAudit over a chain of many pages, on a database of the test's own (so the chain is
// exactly what the test wrote): a page carries the last hash over to the next, a break in a
// later page is found and reported as the first, and the call's end stops the walk.
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { AccountType, TransferKind } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { createDb, createPostgresDb, type Db, migrate, type Row, runInCall } from "@qenex/platform";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testAuditKey } from "../testing/harness.js";
import { appendAudit, hmacHex, type VerifyLimits, verifyAudit, verifyLimitsDefault } from "./audit.js";
import { createLedgerStore, simpleTransfer } from "./ledger-store.js";
import { ledgerMigrations } from "./migrations.js";

const keys = new Map([["k1", testAuditKey]]);
/** Several default pages, so the walk crosses page boundaries at the size it runs at. */
const pagesWritten = 3.5;
const entriesPerBatch = 500;
/** Tiny pages and lookups: every boundary and chunking path, cheaply. */
const smallLimits: VerifyLimits = { pageEntriesMax: 7, pagePayloadBytesMax: 1_500, transfersPerReadMax: 3 };

let db: Db;
let dropDatabase: () => Promise<void> = async () => {};
/** Seq of every transfers entry, in order. */
const transferEntries: { seq: bigint; ids: string[] }[] = [];
let entries = 0n;

/** A PostgreSQL database of its own when DATABASE_URL is set, else PGlite in a new folder. */
async function freshDb(): Promise<{ db: Db; drop(): Promise<void> }> {
  const adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    const db = await createDb({ databaseUrl: undefined, dataDir: fs.mkdtempSync(path.join(os.tmpdir(), "qenex-audit-")), poolMax: 1 });
    return { db, drop: () => db.close() };
  }
  const name = `qenex_audit_${randomBytes(6).toString("hex")}`;
  const admin = createPostgresDb(adminUrl, 1);
  await admin.exec(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const db = createPostgresDb(url.toString(), 4, { schema: "ledger" });
  return {
    db,
    drop: async () => {
      await db.close();
      await admin.exec(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.close();
    },
  };
}

const account = (id: string, initialBalanceMinor: bigint) => ({
  id,
  type: AccountType.CHECKING,
  currency: "USD",
  ownerId: "owner",
  debitsMustNotExceedCredits: false,
  initialBalanceMinor,
});

beforeAll(async () => {
  const fresh = await freshDb();
  db = fresh.db;
  dropDatabase = fresh.drop;
  await migrate(db, "ledger", ledgerMigrations);
  const store = createLedgerStore(db, { keyId: "k1", secret: testAuditKey });
  await store.createAccounts([account("payer", 1_000_000n), account("payee", 0n)]);
  // Account-style entries fill the pages (appended as the store appends them, without the
  // accounts, which would only slow the setup); a transfers entry follows each batch of them.
  const target = BigInt(Math.ceil(verifyLimitsDefault.pageEntriesMax * pagesWritten));
  for (let batch = 0; (await auditHead()) < target; batch++) {
    const filler = Array.from({ length: entriesPerBatch }, (_, i) => ({
      kind: "account.create",
      subject: `a${batch}-${i}`,
      payload: JSON.stringify({ currency: "USD", type: "CHECKING" }),
    }));
    await db.transaction((tx) => appendAudit(tx, { keyId: "k1", secret: testAuditKey }, filler));
    const ids = [`t${batch}-0`, `t${batch}-1`];
    const transfer = (id: string) =>
      simpleTransfer({
        id,
        debitAccountId: "payer",
        creditAccountId: "payee",
        amountMinor: 1n,
        currency: "USD",
        reference: "",
        kind: TransferKind.TRANSFER,
      });
    await store.createTransfers(ids.map(transfer));
    transferEntries.push({ seq: await auditHead(), ids });
  }
  entries = await auditHead();
});
afterAll(() => dropDatabase());

async function auditHead(): Promise<bigint> {
  const { rows } = await db.query<{ audit_seq: string }>("SELECT audit_seq FROM ledger_head");
  return BigInt(rows[0]?.audit_seq ?? 0);
}

/** Runs fn with the append-only (or immutable) trigger of `table` off, then restores it. */
async function bypassing(table: string, trigger: string, fn: () => Promise<void>): Promise<void> {
  await db.exec(`ALTER TABLE ${table} DISABLE TRIGGER ${trigger}`);
  try {
    await fn();
  } finally {
    await db.exec(`ALTER TABLE ${table} ENABLE TRIGGER ${trigger}`);
  }
}

type Snapshot = { seq: string; payload: string; prev_hash: string; hash: string }[];

/** Tampers with entries from `fromSeq` on, runs check, then puts every entry back as it was. */
async function withAuditTampered(fromSeq: bigint, tamper: () => Promise<void>, check: () => Promise<void>): Promise<void> {
  const { rows: saved } = await db.query<Snapshot[number]>(
    "SELECT seq, payload, prev_hash, hash FROM ledger_audit WHERE seq >= $1 ORDER BY seq",
    [fromSeq.toString()],
  );
  const restore = (rows: Snapshot) =>
    db.query(
      `UPDATE ledger_audit a SET payload = r.payload, prev_hash = r.prev_hash, hash = r.hash
         FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS r(seq, payload, prev_hash, hash)
        WHERE a.seq = r.seq`,
      [rows.map((r) => r.seq), rows.map((r) => r.payload), rows.map((r) => r.prev_hash), rows.map((r) => r.hash)],
    );
  await bypassing("ledger_audit", "ledger_audit_append_only", tamper);
  try {
    await check();
  } finally {
    await bypassing("ledger_audit", "ledger_audit_append_only", async () => {
      await restore(saved);
    });
  }
}

async function expectIntactAgain(): Promise<void> {
  expect(await verifyAudit(db, keys)).toEqual({ intact: true, entriesChecked: entries, firstBrokenSequence: 0n, reason: "" });
}

/**
 * Makes entry `seq` follow a forged predecessor hash and re-signs it and every later entry
 * with the key, so the chain is well formed everywhere except the link into `seq`: only a
 * walk that checks that link against the hash it carried from before finds it.
 */
async function forgeLinkAt(seq: bigint): Promise<void> {
  const { rows } = await db.query<{ seq: string; kind: string; subject: string; payload: string }>(
    "SELECT seq, kind, subject, payload FROM ledger_audit WHERE seq >= $1 ORDER BY seq",
    [seq.toString()],
  );
  let prevHash = hmacHex(testAuditKey, "a predecessor that is not in the chain");
  const resigned = rows.map((row) => {
    const hash = hmacHex(testAuditKey, `${prevHash}\n${row.kind}\n${row.subject}\n${row.payload}`);
    const result = { seq: row.seq, prevHash, hash };
    prevHash = hash;
    return result;
  });
  await db.query(
    `UPDATE ledger_audit a SET prev_hash = r.prev_hash, hash = r.hash
       FROM unnest($1::bigint[], $2::text[], $3::text[]) AS r(seq, prev_hash, hash) WHERE a.seq = r.seq`,
    [resigned.map((r) => r.seq), resigned.map((r) => r.prevHash), resigned.map((r) => r.hash)],
  );
  await db.query("UPDATE ledger_head SET audit_hash = $1", [prevHash]);
}

/** The first entry of the third default page: a boundary two pages into the walk. */
const laterPageStart = BigInt(2 * verifyLimitsDefault.pageEntriesMax + 1);

describe("VerifyAudit over a chain of many pages", () => {
  it("verifies every entry of a chain several pages long", async () => {
    expect(entries).toBeGreaterThan(BigInt(3 * verifyLimitsDefault.pageEntriesMax));
    const intact = { intact: true, entriesChecked: entries, firstBrokenSequence: 0n, reason: "" };
    expect(await verifyAudit(db, keys)).toEqual(intact);
    expect(await verifyAudit(db, keys, smallLimits)).toEqual(intact);
  });

  it("finds a link forged at a later page's first entry (the hash carried across pages)", async () => {
    const { rows } = await db.query<{ audit_hash: string }>("SELECT audit_hash FROM ledger_head");
    const head = rows[0]?.audit_hash ?? "";
    try {
      await withAuditTampered(
        laterPageStart,
        () => forgeLinkAt(laterPageStart),
        async () => {
          // Pages by entries only, so laterPageStart begins a page at both sizes.
          for (const limits of [verifyLimitsDefault, { ...verifyLimitsDefault, pageEntriesMax: 10 }]) {
            expect(await verifyAudit(db, keys, limits)).toEqual({
              intact: false,
              entriesChecked: laterPageStart - 1n,
              firstBrokenSequence: laterPageStart,
              reason: "does not follow the entry before it",
            });
          }
        },
      );
    } finally {
      await db.query("UPDATE ledger_head SET audit_hash = $1", [head]);
    }
    await expectIntactAgain();
  });

  it("finds an altered entry in a later page", async () => {
    const seq = laterPageStart + 123n;
    await withAuditTampered(
      seq,
      () => db.query("UPDATE ledger_audit SET payload = payload || ' ' WHERE seq = $1", [seq.toString()]).then(() => {}),
      async () => {
        for (const limits of [verifyLimitsDefault, smallLimits]) {
          expect(await verifyAudit(db, keys, limits)).toEqual({
            intact: false,
            entriesChecked: seq - 1n,
            firstBrokenSequence: seq,
            reason: "its content does not match its hash",
          });
        }
      },
    );
    await expectIntactAgain();
  });

  it("reports an altered transfer before a broken entry later on the same page", async () => {
    const pageOf = (seq: bigint) => (seq - 1n) / BigInt(verifyLimitsDefault.pageEntriesMax);
    const listing = transferEntries.find((e) => e.seq > laterPageStart && pageOf(e.seq) === pageOf(e.seq + 5n) && e.seq + 5n <= entries);
    if (!listing) throw new Error("no transfers entry in a later page");
    const transferId = listing.ids[1] as string;
    const later = listing.seq + 5n;
    await bypassing("ledger_transfers", "ledger_transfers_immutable", async () => {
      await db.query("UPDATE ledger_transfers SET amount = amount + 1 WHERE id = $1", [transferId]);
    });
    try {
      await withAuditTampered(
        later,
        () => db.query("UPDATE ledger_audit SET payload = payload || ' ' WHERE seq = $1", [later.toString()]).then(() => {}),
        async () => {
          for (const limits of [verifyLimitsDefault, smallLimits]) {
            expect(await verifyAudit(db, keys, limits)).toEqual({
              intact: false,
              entriesChecked: listing.seq - 1n,
              firstBrokenSequence: listing.seq,
              reason: `transfer ${transferId} was altered`,
            });
          }
        },
      );
    } finally {
      await bypassing("ledger_transfers", "ledger_transfers_immutable", async () => {
        await db.query("UPDATE ledger_transfers SET amount = amount - 1 WHERE id = $1", [transferId]);
      });
    }
    await expectIntactAgain();
  });

  it("finds entries deleted from the end of the chain, which break no link", async () => {
    const firstDeleted = entries - 2n;
    const { rows } = await db.query<{ saved: string }>(
      "SELECT json_agg(a)::text AS saved FROM (SELECT * FROM ledger_audit WHERE seq >= $1 ORDER BY seq) a",
      [firstDeleted.toString()],
    );
    await bypassing("ledger_audit", "ledger_audit_append_only", async () => {
      await db.query("DELETE FROM ledger_audit WHERE seq >= $1", [firstDeleted.toString()]);
    });
    try {
      for (const limits of [verifyLimitsDefault, smallLimits]) {
        expect(await verifyAudit(db, keys, limits)).toEqual({
          intact: false,
          entriesChecked: firstDeleted - 1n,
          firstBrokenSequence: firstDeleted,
          reason: `entry ${firstDeleted} is missing (the head records ${entries} entries)`,
        });
      }
    } finally {
      await db.query("INSERT INTO ledger_audit SELECT * FROM json_populate_recordset(NULL::ledger_audit, $1::json)", [rows[0]?.saved]);
    }
    await expectIntactAgain();
  });

  it("stops between pages once the call has ended, answering DEADLINE_EXCEEDED", async () => {
    const controller = new AbortController();
    let statementsRun = 0;
    // The deadline passes while the first page is read: the next statement must not start.
    const ending: Db = {
      ...db,
      query: async <R extends Row>(sql: string, params?: unknown[]) => {
        const result = await db.query<R>(sql, params);
        statementsRun += 1;
        controller.abort(new DOMException("the deadline passed", "TimeoutError"));
        return result;
      },
    };
    const error = await runInCall({ signal: controller.signal }, () => verifyAudit(ending, keys)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(ConnectError.from(error).code).toBe(Code.DeadlineExceeded);
    expect(statementsRun).toBe(1);
  });
});
