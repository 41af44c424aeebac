// Tamper evidence: every transfer is HMAC-signed over its canonical fields, and every
// mutation is appended to an HMAC-SHA256 hash chain (hash = HMAC(key, prev_hash ‖ payload)).
// Changing a stored transfer breaks its signature; changing, removing or reordering an
// audit entry breaks the chain.
import { createHmac, timingSafeEqual } from "node:crypto";
import type { Db, Queryable } from "@qenex/platform";
import type { NewTransfer } from "../domain/transfer.js";
import { type SignedTransfer, type TransferRow, toTransfer, transferColumns } from "./rows.js";

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

/** How much one statement of a verification reads. */
export type VerifyLimits = {
  /** Entries per page. */
  pageEntriesMax: number;
  /** Payload bytes a page may hold before its last entry (a count of entries alone does not bound it). */
  pagePayloadBytesMax: number;
  /** Transfer ids looked up per statement. */
  transfersPerReadMax: number;
};

/** One transfers entry lists up to 8190 transfers (about 900 kB), hence a bound on bytes too. */
export const verifyLimitsDefault: VerifyLimits = { pageEntriesMax: 1000, pagePayloadBytesMax: 1 << 20, transfersPerReadMax: 8192 };

type AuditRow = { seq: string; kind: string; subject: string; payload: string; prev_hash: string; hash: string; key_id: string };

/** Where the chain breaks: `seq` is the first entry that does not verify. */
type Break = { seq: bigint; reason: string };

/**
 * Walks the chain from the start, a page per statement (keyset on seq), carrying the last
 * hash from page to page: each entry must follow its predecessor, hash correctly under its
 * key, and the transfers it lists must still carry the signatures it recorded and match their
 * own fields. No statement reads more than a page, so a long chain takes many short statements,
 * each refused once the call's deadline has passed or it was canceled (Db.query checks).
 */
export async function verifyAudit(
  db: Db,
  keys: ReadonlyMap<string, string>,
  limits: VerifyLimits = verifyLimitsDefault,
): Promise<AuditVerdict> {
  // The head as the walk starts: every entry up to it must be there, the last one with the
  // hash the head recorded, or entries were deleted from the end, which no link would show.
  const { rows: heads } = await db.query<{ audit_seq: string; audit_hash: string }>("SELECT audit_seq, audit_hash FROM ledger_head");
  const head = heads[0] ? { seq: BigInt(heads[0].audit_seq), hash: heads[0].audit_hash } : { seq: 0n, hash: "" };
  const brokenAt = (broken: Break): AuditVerdict => ({
    intact: false,
    entriesChecked: broken.seq - 1n,
    firstBrokenSequence: broken.seq,
    reason: broken.reason,
  });
  let prevHash = "";
  let lastSeq = 0n;
  for (;;) {
    const page = await readAuditPage(db, lastSeq, limits);
    if (page.length === 0) {
      if (lastSeq < head.seq)
        return brokenAt({ seq: lastSeq + 1n, reason: `entry ${lastSeq + 1n} is missing (the head records ${head.seq} entries)` });
      return { intact: true, entriesChecked: lastSeq, firstBrokenSequence: 0n, reason: "" };
    }
    const broken = await verifyPage(db, keys, page, lastSeq, prevHash, limits.transfersPerReadMax);
    if (broken) return brokenAt(broken);
    const atHead = page.find((row) => BigInt(row.seq) === head.seq);
    if (atHead && atHead.hash !== head.hash) return brokenAt({ seq: head.seq, reason: "its hash is not the one the head records" });
    const last = page[page.length - 1] as AuditRow;
    lastSeq = BigInt(last.seq);
    prevHash = last.hash;
  }
}

/** The entries after `afterSeq`, in order: at least one (if any), within the limits. */
async function readAuditPage(db: Db, afterSeq: bigint, limits: VerifyLimits): Promise<AuditRow[]> {
  const { rows } = await db.query<AuditRow>(
    `SELECT seq, kind, subject, payload, prev_hash, hash, key_id
       FROM (SELECT seq, kind, subject, payload, prev_hash, hash, key_id,
                    sum(octet_length(payload)) OVER (ORDER BY seq) - octet_length(payload) AS bytes_before
               FROM ledger_audit WHERE seq > $1 ORDER BY seq LIMIT $2) page
      WHERE bytes_before <= $3
      ORDER BY seq`,
    [afterSeq.toString(), limits.pageEntriesMax, limits.pagePayloadBytesMax],
  );
  return rows;
}

/**
 * The first entry of the page that does not verify. The chain is checked entry by entry; the
 * transfers of the entries before its first break are then read together, and a problem
 * with them is reported first, since it comes earlier in the chain.
 */
async function verifyPage(
  db: Db,
  keys: ReadonlyMap<string, string>,
  page: readonly AuditRow[],
  afterSeq: bigint,
  prevHash: string,
  transfersPerReadMax: number,
): Promise<Break | undefined> {
  let expectedSeq = afterSeq + 1n;
  let expectedPrevHash = prevHash;
  let chainBreak: Break | undefined;
  let linked = 0;
  for (const row of page) {
    chainBreak = chainProblem(keys, row, expectedSeq, expectedPrevHash);
    if (chainBreak) break;
    expectedSeq += 1n;
    expectedPrevHash = row.hash;
    linked += 1;
  }
  return (await firstTransfersProblem(db, keys, page.slice(0, linked), transfersPerReadMax)) ?? chainBreak;
}

function chainProblem(keys: ReadonlyMap<string, string>, row: AuditRow, expectedSeq: bigint, prevHash: string): Break | undefined {
  const seq = BigInt(row.seq);
  if (seq !== expectedSeq) return { seq: expectedSeq, reason: `entry ${expectedSeq} is missing` };
  if (row.prev_hash !== prevHash) return { seq, reason: "does not follow the entry before it" };
  const secret = keys.get(row.key_id);
  if (!secret) return { seq, reason: `signed with unknown key id "${row.key_id}"` };
  if (!sameHex(hmacHex(secret, `${row.prev_hash}\n${row.kind}\n${row.subject}\n${row.payload}`), row.hash)) {
    return { seq, reason: "its content does not match its hash" };
  }
  return undefined;
}

/** The first of `rows` (in order) whose listed transfers are missing or altered. */
async function firstTransfersProblem(
  db: Db,
  keys: ReadonlyMap<string, string>,
  rows: readonly AuditRow[],
  transfersPerReadMax: number,
): Promise<Break | undefined> {
  const listings = rows
    .filter((row) => row.kind === "transfers")
    .map((row) => ({ seq: BigInt(row.seq), listed: JSON.parse(row.payload) as [string, string][] }));
  const ids = listings.flatMap(({ listed }) => listed.map(([id]) => id));
  const transfers = await readTransfers(db, ids, transfersPerReadMax);
  for (const { seq, listed } of listings) {
    const problem = transfersProblem(keys, listed, transfers);
    if (problem) return { seq, reason: problem };
  }
  return undefined;
}

async function readTransfers(db: Db, ids: readonly string[], perReadMax: number): Promise<Map<string, SignedTransfer>> {
  const byId = new Map<string, SignedTransfer>();
  for (let start = 0; start < ids.length; start += perReadMax) {
    const { rows } = await db.query<TransferRow>(`SELECT ${transferColumns} FROM ledger_transfers WHERE id = ANY($1::text[])`, [
      ids.slice(start, start + perReadMax),
    ]);
    for (const row of rows) byId.set(row.id, toTransfer(row));
  }
  return byId;
}

function transfersProblem(
  keys: ReadonlyMap<string, string>,
  listed: readonly [string, string][],
  byId: ReadonlyMap<string, SignedTransfer>,
): string | undefined {
  for (const [id, signature] of listed) {
    const transfer = byId.get(id);
    if (!transfer) return `transfer ${id} it lists is missing`;
    const secret = keys.get(transfer.keyId);
    const expected = secret && hmacHex(secret, canonicalTransfer({ ...transfer }, transfer.createdAt, transfer.sequence));
    if (transfer.signature !== signature || !expected || !sameHex(expected, signature)) return `transfer ${id} was altered`;
  }
  return undefined;
}
