// One batch of transfers inside one database transaction:
//   1. read the ids (idempotency) and the transfers the batch refers to (pending, reversed);
//   2. lock every account involved, in id order — the only lock order there is, so batches
//      in any number of processes queue instead of deadlocking;
//   3. read the mutable facts behind those locks (pending states, amounts reversed so far);
//   4. decide in memory (planTransfers);
//   5. lock the ledger head last, number the new transfers in commit order, sign them and
//      chain the batch into the audit log;
//   6. write everything with one statement.
import type { Queryable } from "@qenex/platform";
import type { AccountState } from "../domain/account.js";
import { planTransfers } from "../domain/plan.js";
import type {
  BatchState,
  NewTransfer,
  PendingEntry,
  PendingState,
  Plan,
  ReversibleEntry,
  StoredFailure,
  StoredTransfer,
  TransferCommand,
} from "../domain/transfer.js";
import { type AuditEntry, type AuditKey, auditArrays, canonicalTransfer, chain, hmacHex, lockHead } from "./audit.js";
import {
  type AccountRow,
  accountColumns,
  type SignedTransfer,
  type TransferRow,
  toAccount,
  toTransfer,
  transferArrays,
  transferColumns,
} from "./rows.js";

export type CreatedTransfer = NewTransfer & { createdAt: Date; sequence: bigint; signature: string; keyId: string };

export type BatchResult = { plan: Plan; created: Map<string, CreatedTransfer>; createdAt: Date };

export type BatchOptions = { segmentEnds?: readonly number[]; audit?: readonly AuditEntry[] };

/** Stored transfers with these ids or referenced by them, and remembered failures: one round trip. */
async function lookUp(tx: Queryable, commands: readonly TransferCommand[]) {
  const ids = commands.map((c) => c.id);
  const referenced = commands.flatMap((c) => [c.pendingId, c.reversalOf]).filter((id) => id !== "");
  const { rows } = await tx.query<TransferRow & { status: number | null; message: string | null }>(
    `SELECT ${transferColumns}, NULL::integer AS status, NULL::text AS message
       FROM ledger_transfers WHERE id = ANY($1::text[])
     UNION ALL
     SELECT id, debit_account_id, credit_account_id, amount, currency, reference, kind, created_at, pending_id,
            NULL::timestamptz, linked, reversal_of, '', 0::bigint, '', '', status, message
       FROM ledger_transfer_failures WHERE id = ANY($2::text[])`,
    [[...new Set([...ids, ...referenced])], ids],
  );
  const transfers = new Map<string, SignedTransfer>();
  const failed = new Map<string, StoredFailure>();
  for (const row of rows) {
    if (row.status === null || row.message === null) transfers.set(row.id, toTransfer(row));
    else failed.set(row.id, { ...toTransfer(row), status: row.status, message: row.message });
  }
  return { transfers, failed };
}

async function lockAccounts(tx: Queryable, ids: readonly string[]): Promise<{ accounts: Map<string, AccountState>; now: Date }> {
  const sorted = [...new Set(ids)].filter((id) => id !== "").sort();
  const { rows } = await tx.query<AccountRow & { now: Date }>(
    `SELECT ${accountColumns}, now() AS now FROM ledger_accounts WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`,
    [sorted],
  );
  return { accounts: new Map(rows.map((row) => [row.id, toAccount(row)])), now: rows[0]?.now ?? new Date() };
}

/** Pending states (locked) and amounts reversed so far, read once the accounts are locked. */
async function readMutable(tx: Queryable, commands: readonly TransferCommand[], transfers: ReadonlyMap<string, StoredTransfer>) {
  const pendingIds = [...new Set(commands.map((c) => c.pendingId).filter((id) => transfers.has(id)))].sort();
  const reversalIds = [...new Set(commands.map((c) => c.reversalOf).filter((id) => transfers.has(id)))];
  const pendings = new Map<string, PendingEntry>();
  const reversibles = new Map<string, ReversibleEntry>();
  if (pendingIds.length > 0) {
    const { rows } = await tx.query<{ transfer_id: string; state: PendingState }>(
      "SELECT transfer_id, state FROM ledger_pending WHERE transfer_id = ANY($1::text[]) ORDER BY transfer_id FOR UPDATE",
      [pendingIds],
    );
    const states = new Map(rows.map((row) => [row.transfer_id, row.state]));
    for (const id of pendingIds) {
      const transfer = transfers.get(id);
      // A transfer without a pending row is not pending: planTransfers reports that.
      if (transfer) pendings.set(id, { transfer, state: states.get(id) ?? "POSTED" });
    }
  }
  if (reversalIds.length > 0) {
    const { rows } = await tx.query<{ reversal_of: string; reversed: string }>(
      "SELECT reversal_of, SUM(amount)::text AS reversed FROM ledger_transfers WHERE reversal_of = ANY($1::text[]) GROUP BY reversal_of",
      [reversalIds],
    );
    const sums = new Map(rows.map((row) => [row.reversal_of, BigInt(row.reversed)]));
    for (const id of reversalIds) {
      const transfer = transfers.get(id);
      if (transfer) reversibles.set(id, { transfer, reversedMinor: sums.get(id) ?? 0n });
    }
  }
  return { pendings, reversibles };
}

export async function applyTransfers(
  tx: Queryable,
  key: AuditKey,
  commands: readonly TransferCommand[],
  options: BatchOptions = {},
): Promise<BatchResult> {
  const { transfers, failed } = await lookUp(tx, commands);
  const involved = commands.flatMap((c) => [c.debitAccountId, c.creditAccountId]);
  for (const c of commands) {
    const referenced = transfers.get(c.pendingId) ?? transfers.get(c.reversalOf);
    if (referenced) involved.push(referenced.debitAccountId, referenced.creditAccountId);
  }
  const { accounts, now } = await lockAccounts(tx, involved);
  const before = new Map([...accounts].map(([id, a]) => [id, { ...a }]));
  const mutable = await readMutable(tx, commands, transfers);
  const ownIds = new Set(commands.map((c) => c.id));
  const known = new Map([...transfers].filter(([id]) => ownIds.has(id)));
  const state: BatchState = { accounts, known, failedBefore: failed, ...mutable, now };
  const plan = planTransfers(commands, state, options.segmentEnds);
  const created = await writeBatch(tx, key, plan, balanceDeltas(accounts, before), now, options.audit ?? []);
  return { plan, created, createdAt: now };
}

type BalanceDelta = { id: string; debitsPosted: bigint; creditsPosted: bigint; debitsPending: bigint; creditsPending: bigint };

function balanceDeltas(after: ReadonlyMap<string, AccountState>, before: ReadonlyMap<string, AccountState>): BalanceDelta[] {
  const deltas: BalanceDelta[] = [];
  for (const a of after.values()) {
    const b = before.get(a.id);
    if (!b) throw new Error(`account ${a.id} was not locked before the batch`);
    const delta = {
      id: a.id,
      debitsPosted: a.debitsPostedMinor - b.debitsPostedMinor,
      creditsPosted: a.creditsPostedMinor - b.creditsPostedMinor,
      debitsPending: a.debitsPendingMinor - b.debitsPendingMinor,
      creditsPending: a.creditsPendingMinor - b.creditsPendingMinor,
    };
    if (delta.debitsPosted || delta.creditsPosted || delta.debitsPending || delta.creditsPending) deltas.push(delta);
  }
  return deltas;
}

/** Numbers, signs and chains the new transfers; one audit entry lists the batch. */
function seal(key: AuditKey, plan: Plan, now: Date, head: Awaited<ReturnType<typeof lockHead>>, extra: readonly AuditEntry[]) {
  let sequence = head.commitSeq;
  const created = new Map<string, CreatedTransfer>();
  for (const t of plan.created) {
    sequence += 1n;
    const signature = hmacHex(key.secret, canonicalTransfer(t, now, sequence));
    created.set(t.id, { ...t, createdAt: now, sequence, signature, keyId: key.keyId });
  }
  const entries = [...extra];
  if (created.size > 0) {
    const listed = [...created.values()].map((t) => [t.id, t.signature]);
    entries.push({ kind: "transfers", subject: `${head.commitSeq + 1n}..${sequence}`, payload: JSON.stringify(listed) });
  }
  return { created, commitSeq: sequence, ...chain(key, head, entries) };
}

async function writeBatch(
  tx: Queryable,
  key: AuditKey,
  plan: Plan,
  deltas: readonly BalanceDelta[],
  now: Date,
  extraAudit: readonly AuditEntry[],
): Promise<Map<string, CreatedTransfer>> {
  if (plan.created.length === 0 && plan.failed.length === 0 && extraAudit.length === 0) return new Map();
  const head = await lockHead(tx);
  const sealed = seal(key, plan, now, head, extraAudit);
  const created = [...sealed.created.values()];
  const pendings = [...plan.pendingChanges];
  await tx.query(WRITE_BATCH_SQL, [
    ...transferArrays(created),
    created.map((t) => t.expiresAt ?? null),
    created.map((t) => t.exchangeRate),
    created.map((t) => t.sequence.toString()),
    created.map((t) => t.signature),
    created.map((t) => t.keyId),
    now,
    ...transferArrays(plan.failed),
    plan.failed.map((f) => f.status),
    plan.failed.map((f) => f.message),
    deltas.map((d) => d.id),
    deltas.map((d) => d.debitsPosted.toString()),
    deltas.map((d) => d.creditsPosted.toString()),
    deltas.map((d) => d.debitsPending.toString()),
    deltas.map((d) => d.creditsPending.toString()),
    pendings.map(([id]) => id),
    pendings.map(([, p]) => p.state),
    pendings.map(([, p]) => p.expiresAt ?? null),
    pendings.map(([, p]) => p.resolvedBy || null),
    ...auditArrays(sealed.chained),
    sealed.commitSeq.toString(),
    sealed.auditSeq.toString(),
    sealed.auditHash,
  ]);
  return sealed.created;
}

// Data-modifying CTEs all run, whether or not the final SELECT reads them. The NOTIFY is
// delivered at commit, so watchers only ever hear of committed transfers.
const WRITE_BATCH_SQL = `
WITH transfers AS (
  INSERT INTO ledger_transfers (id, debit_account_id, credit_account_id, amount, currency, reference, kind,
    pending_id, reversal_of, linked, expires_at, exchange_rate, commit_seq, signature, key_id, created_at)
  SELECT t.*, $16::timestamptz FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[],
    $7::integer[], $8::text[], $9::text[], $10::boolean[], $11::timestamptz[], $12::text[], $13::bigint[], $14::text[],
    $15::text[]) AS t
  RETURNING 1
), failures AS (
  INSERT INTO ledger_transfer_failures (id, debit_account_id, credit_account_id, amount, currency, reference, kind,
    pending_id, reversal_of, linked, status, message)
  SELECT * FROM unnest($17::text[], $18::text[], $19::text[], $20::bigint[], $21::text[], $22::text[], $23::integer[],
    $24::text[], $25::text[], $26::boolean[], $27::integer[], $28::text[])
  RETURNING 1
), balances AS (
  UPDATE ledger_accounts AS a
     SET debits_posted = a.debits_posted + d.dp, credits_posted = a.credits_posted + d.cp,
         debits_pending = a.debits_pending + d.dq, credits_pending = a.credits_pending + d.cq
    FROM unnest($29::text[], $30::bigint[], $31::bigint[], $32::bigint[], $33::bigint[]) AS d (id, dp, cp, dq, cq)
   WHERE a.id = d.id
  RETURNING 1
), pendings AS (
  INSERT INTO ledger_pending (transfer_id, state, expires_at, resolved_by)
  SELECT * FROM unnest($34::text[], $35::text[], $36::timestamptz[], $37::text[])
  ON CONFLICT (transfer_id) DO UPDATE SET state = excluded.state, resolved_by = excluded.resolved_by
  RETURNING 1
), audit AS (
  INSERT INTO ledger_audit (seq, kind, subject, payload, prev_hash, hash, key_id)
  SELECT * FROM unnest($38::bigint[], $39::text[], $40::text[], $41::text[], $42::text[], $43::text[], $44::text[])
  RETURNING 1
), head AS (
  UPDATE ledger_head SET commit_seq = $45, audit_seq = $46, audit_hash = $47
  RETURNING commit_seq
)
SELECT pg_notify('ledger_transfers', commit_seq::text) FROM head`;
