// Tamper evidence: every transfer is HMAC-signed over its canonical fields, and every
// mutation is appended to an HMAC-SHA256 hash chain (hash = HMAC(key, prev_hash ‖ payload)).
// Changing a stored transfer breaks its signature; changing, removing or reordering an
// audit entry breaks the chain.
import { createHmac, timingSafeEqual } from "node:crypto";
import type { Db, Queryable } from "@qenex/platform";
import type { NewTransfer } from "../domain/transfer.js";
import { type TransferRow, toTransfer, transferColumns } from "./rows.js";

export type AuditKey = { keyId: string; secret: string };

export type AuditEntry = { kind: string; subject: string; payload: string };

export type ChainedEntry = AuditEntry & { seq: bigint; prevHash: string; hash: string; keyId: string };

export type Head = { commitSeq: bigint; auditSeq: bigint; auditHash: string };

/** The signed form of a transfer. Frozen: changing it would invalidate every signature. */
export function canonicalTransfer(t: NewTransfer, createdAt: Date, sequence: bigint): string {
  return JSON.stringify([
    t.id,
    t.debitAccountId,
    t.creditAccountId,
    t.amountMinor.toString(),
    t.currency,
    t.kind,
    t.reference,
    t.pendingId,
    t.reversalOf,
    t.exchangeRate,
    t.linked,
    t.expiresAt?.toISOString() ?? "",
    createdAt.toISOString(),
    sequence.toString(),
  ]);
}

export function hmacHex(secret: string, text: string): string {
  return createHmac("sha256", secret).update(text).digest("hex");
}

function sameHex(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/** Chains entries after `head`; returns them and the new head. */
export function chain(
  key: AuditKey,
  head: Head,
  entries: readonly AuditEntry[],
): { chained: ChainedEntry[]; auditSeq: bigint; auditHash: string } {
  let seq = head.auditSeq;
  let prevHash = head.auditHash;
  const chained = entries.map((entry) => {
    seq += 1n;
    const hash = hmacHex(key.secret, `${prevHash}\n${entry.kind}\n${entry.subject}\n${entry.payload}`);
    const result = { ...entry, seq, prevHash, hash, keyId: key.keyId };
    prevHash = hash;
    return result;
  });
  return { chained, auditSeq: seq, auditHash: prevHash };
}

/** Takes the ledger head's lock (after the accounts', always) and reads it. */
export async function lockHead(tx: Queryable): Promise<Head> {
  const { rows } = await tx.query<{ commit_seq: string; audit_seq: string; audit_hash: string }>(
    "SELECT commit_seq, audit_seq, audit_hash FROM ledger_head FOR UPDATE",
  );
  const row = rows[0];
  if (!row) throw new Error("ledger_head row is missing");
  return { commitSeq: BigInt(row.commit_seq), auditSeq: BigInt(row.audit_seq), auditHash: row.audit_hash };
}

export function auditArrays(entries: readonly ChainedEntry[]): unknown[] {
  return [
    entries.map((e) => e.seq.toString()),
    entries.map((e) => e.kind),
    entries.map((e) => e.subject),
    entries.map((e) => e.payload),
    entries.map((e) => e.prevHash),
    entries.map((e) => e.hash),
    entries.map((e) => e.keyId),
  ];
}

/** Appends entries for a mutation that writes no transfers (account changes, rates). */
export async function appendAudit(tx: Queryable, key: AuditKey, entries: readonly AuditEntry[]): Promise<void> {
  const head = await lockHead(tx);
  const { chained, auditSeq, auditHash } = chain(key, head, entries);
  await tx.query(
    `WITH appended AS (
       INSERT INTO ledger_audit (seq, kind, subject, payload, prev_hash, hash, key_id)
       SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
       RETURNING 1)
     UPDATE ledger_head SET audit_seq = $8, audit_hash = $9`,
    [...auditArrays(chained), auditSeq.toString(), auditHash],
  );
}

export type AuditVerdict = { intact: boolean; entriesChecked: bigint; firstBrokenSequence: bigint; reason: string };

/** Entries read per round trip while verifying. */
const verifyPageSize = 1000;

/**
 * Walks the chain from the start: each entry must follow its predecessor, hash correctly
 * under its key, and the transfers it lists must still carry the signatures it recorded
 * and match their own fields.
 */
export async function verifyAudit(db: Db, keys: ReadonlyMap<string, string>): Promise<AuditVerdict> {
  let prevHash = "";
  let expectedSeq = 1n;
  for (;;) {
    const { rows } = await db.query<{
      seq: string;
      kind: string;
      subject: string;
      payload: string;
      prev_hash: string;
      hash: string;
      key_id: string;
    }>("SELECT seq, kind, subject, payload, prev_hash, hash, key_id FROM ledger_audit WHERE seq >= $1 ORDER BY seq LIMIT $2", [
      expectedSeq.toString(),
      verifyPageSize,
    ]);
    for (const row of rows) {
      const broken = (reason: string): AuditVerdict => ({
        intact: false,
        entriesChecked: expectedSeq - 1n,
        firstBrokenSequence: BigInt(row.seq),
        reason,
      });
      if (BigInt(row.seq) !== expectedSeq) return { ...broken(`entry ${expectedSeq} is missing`), firstBrokenSequence: expectedSeq };
      if (row.prev_hash !== prevHash) return broken("does not follow the entry before it");
      const secret = keys.get(row.key_id);
      if (!secret) return broken(`signed with unknown key id "${row.key_id}"`);
      if (!sameHex(hmacHex(secret, `${row.prev_hash}\n${row.kind}\n${row.subject}\n${row.payload}`), row.hash)) {
        return broken("its content does not match its hash");
      }
      if (row.kind === "transfers") {
        const problem = await checkTransfers(db, keys, row.payload);
        if (problem) return broken(problem);
      }
      prevHash = row.hash;
      expectedSeq += 1n;
    }
    if (rows.length < verifyPageSize) break;
  }
  return { intact: true, entriesChecked: expectedSeq - 1n, firstBrokenSequence: 0n, reason: "" };
}

async function checkTransfers(db: Db, keys: ReadonlyMap<string, string>, payload: string): Promise<string | undefined> {
  const listed = JSON.parse(payload) as [string, string][];
  const { rows } = await db.query<TransferRow>(`SELECT ${transferColumns} FROM ledger_transfers WHERE id = ANY($1::text[])`, [
    listed.map(([id]) => id),
  ]);
  const byId = new Map(rows.map((row) => [row.id, toTransfer(row)]));
  for (const [id, signature] of listed) {
    const transfer = byId.get(id);
    if (!transfer) return `transfer ${id} it lists is missing`;
    const secret = keys.get(transfer.keyId);
    const expected = secret && hmacHex(secret, canonicalTransfer({ ...transfer }, transfer.createdAt, transfer.sequence));
    if (transfer.signature !== signature || !expected || !sameHex(expected, signature)) return `transfer ${id} was altered`;
  }
  return undefined;
}
