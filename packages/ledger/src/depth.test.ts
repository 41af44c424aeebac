// Linked chains, two-phase transfers, reversals, balancing, closing and reopening, the
// audit chain and WatchTransfers, against a real ledger server.
import { Code, ConnectError } from "@connectrpc/connect";
import { AccountType, CreateTransferStatus as Status, TransferKind } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rpcError, startTestLedger, type TestLedger, uniquePrefix, usesPostgres } from "./testing/harness.js";

let ledger: TestLedger;
beforeAll(async () => {
  ledger = await startTestLedger();
});
afterAll(() => ledger.stop());

async function open(id: string, initialBalance = "0", currency = "USD") {
  await ledger.client().createAccount({ accountId: id, accountType: AccountType.CHECKING, currency, initialBalance });
}

async function balanceOf(accountId: string) {
  const { balance } = await ledger.client().getBalance({ accountId });
  return {
    posted: balance?.balance?.amount,
    available: balance?.available?.amount,
    debitsPending: balance?.debitsPending?.amount,
    creditsPending: balance?.creditsPending?.amount,
  };
}

function accounts() {
  return [uniquePrefix("A"), uniquePrefix("B"), uniquePrefix("C")] as const;
}

describe("linked chains", () => {
  it("leave no trace when their last item fails", async () => {
    const [a, b, c] = accounts();
    await open(a, "100.00");
    await open(b);
    await open(c);
    const res = await ledger.client().createTransfers({
      transfers: [
        { transferId: `${a}-1`, sourceAccount: a, destinationAccount: b, amount: "60.00", currency: "USD", linked: true },
        { transferId: `${a}-2`, sourceAccount: b, destinationAccount: c, amount: "60.00", currency: "USD", linked: true },
        { transferId: `${a}-3`, sourceAccount: a, destinationAccount: c, amount: "50.00", currency: "USD" },
        { transferId: `${a}-4`, sourceAccount: a, destinationAccount: c, amount: "5.00", currency: "USD" },
      ],
    });
    expect(res.results.map((r) => r.status)).toEqual([
      Status.LINKED_EVENT_FAILED,
      Status.LINKED_EVENT_FAILED,
      Status.INSUFFICIENT_FUNDS,
      Status.CREATED,
    ]);
    expect(await balanceOf(a)).toMatchObject({ posted: "95.00" });
    expect(await balanceOf(b)).toMatchObject({ posted: "0.00" });
    expect(await balanceOf(c)).toMatchObject({ posted: "5.00" });
    await expect(ledger.client().getTransfer({ transferId: `${a}-1` })).rejects.toMatchObject({ code: Code.NotFound });
  });

  it("succeed as one, and refuse a chain left open at the end of the batch", async () => {
    const [a, b, c] = accounts();
    await open(a, "100.00");
    await open(b);
    await open(c);
    const ok = await ledger.client().createTransfers({
      transfers: [
        { sourceAccount: a, destinationAccount: b, amount: "60.00", currency: "USD", linked: true },
        { sourceAccount: b, destinationAccount: c, amount: "60.00", currency: "USD" },
      ],
    });
    expect(ok.results.map((r) => r.status)).toEqual([Status.CREATED, Status.CREATED]);
    expect(ok.results[0]?.transfer?.linked).toBe(true);
    const openChain = await ledger.client().createTransfers({
      transfers: [
        { sourceAccount: a, destinationAccount: b, amount: "1.00", currency: "USD", linked: true },
        { sourceAccount: a, destinationAccount: b, amount: "1.00", currency: "USD", linked: true },
      ],
    });
    expect(openChain.results.map((r) => r.status)).toEqual([Status.LINKED_EVENT_FAILED, Status.LINKED_EVENT_CHAIN_OPEN]);
    expect(await balanceOf(c)).toMatchObject({ posted: "60.00" });
    expect(await balanceOf(a)).toMatchObject({ posted: "40.00" });
  });
});

describe("two-phase transfers", () => {
  it("reserve, post part, and release the rest", async () => {
    const [a, b] = accounts();
    await open(a, "100.00");
    await open(b);
    const pending = await ledger.client().createTransfer({
      transferId: `${a}-p`,
      sourceAccount: a,
      destinationAccount: b,
      amount: "70.00",
      currency: "USD",
      kind: TransferKind.PENDING,
    });
    expect(pending.transfer?.kind).toBe(TransferKind.PENDING);
    expect(await balanceOf(a)).toMatchObject({ posted: "100.00", available: "30.00", debitsPending: "70.00" });
    expect(await balanceOf(b)).toMatchObject({ posted: "0.00", creditsPending: "70.00" });
    const overdraw = await rpcError(
      ledger.client().createTransfer({ sourceAccount: a, destinationAccount: b, amount: "30.01", currency: "USD" }),
    );
    expect(overdraw.message).toContain("insufficient funds");
    const post = await ledger.client().createTransfer({
      transferId: `${a}-post`,
      kind: TransferKind.POST_PENDING,
      pendingTransferId: `${a}-p`,
      amount: "50.00",
      currency: "USD",
    });
    expect(post.transfer).toMatchObject({ sourceAccount: a, destinationAccount: b, pendingTransferId: `${a}-p` });
    expect(await balanceOf(a)).toMatchObject({ posted: "50.00", available: "50.00", debitsPending: "0.00" });
    expect(await balanceOf(b)).toMatchObject({ posted: "50.00", creditsPending: "0.00" });
    const twice = await rpcError(ledger.client().createTransfer({ kind: TransferKind.POST_PENDING, pendingTransferId: `${a}-p` }));
    expect(twice).toMatchObject({ code: Code.FailedPrecondition });
    expect(twice.message).toContain("already posted");
    const voidAfterPost = await rpcError(ledger.client().createTransfer({ kind: TransferKind.VOID_PENDING, pendingTransferId: `${a}-p` }));
    expect(voidAfterPost.message).toContain("already posted");
  });

  it("void releases the reservation; posting more than reserved or voiding twice fails with its own code", async () => {
    const [a, b] = accounts();
    await open(a, "10.00");
    await open(b);
    await ledger.client().createTransfer({
      transferId: `${a}-p`,
      sourceAccount: a,
      destinationAccount: b,
      amount: "8.00",
      currency: "USD",
      kind: TransferKind.PENDING,
    });
    const batch = await ledger.client().createTransfers({
      transfers: [
        { kind: TransferKind.POST_PENDING, pendingTransferId: `${a}-p`, amount: "8.01", currency: "USD" },
        { kind: TransferKind.VOID_PENDING, pendingTransferId: `${a}-p`, amount: "7.00", currency: "USD" },
        { kind: TransferKind.POST_PENDING, pendingTransferId: `${a}-p`, sourceAccount: b, destinationAccount: a },
        { kind: TransferKind.VOID_PENDING, pendingTransferId: `${a}-p` },
        { kind: TransferKind.VOID_PENDING, pendingTransferId: `${a}-p` },
        { kind: TransferKind.POST_PENDING, pendingTransferId: `${a}-nope` },
      ],
    });
    expect(batch.results.map((r) => r.status)).toEqual([
      Status.EXCEEDS_PENDING_TRANSFER_AMOUNT,
      Status.PENDING_TRANSFER_HAS_DIFFERENT_AMOUNT,
      Status.PENDING_TRANSFER_HAS_DIFFERENT_ACCOUNTS,
      Status.CREATED,
      Status.PENDING_TRANSFER_ALREADY_VOIDED,
      Status.PENDING_TRANSFER_NOT_FOUND,
    ]);
    expect(await balanceOf(a)).toMatchObject({ posted: "10.00", available: "10.00", debitsPending: "0.00" });
  });

  it("expire after their timeout, and cannot be posted then", async () => {
    const [a, b] = accounts();
    await open(a, "10.00");
    await open(b);
    await ledger.client().createTransfer({
      transferId: `${a}-p`,
      sourceAccount: a,
      destinationAccount: b,
      amount: "4.00",
      currency: "USD",
      kind: TransferKind.PENDING,
      timeoutSeconds: 1,
    });
    expect(await balanceOf(a)).toMatchObject({ available: "6.00" });
    await waitFor(async () => (await balanceOf(a)).available === "10.00", 10_000);
    const late = await rpcError(ledger.client().createTransfer({ kind: TransferKind.POST_PENDING, pendingTransferId: `${a}-p` }));
    expect(late.message).toContain("expired");
    const expiry = await ledger.client().getTransfer({ transferId: `expire:${a}-p` });
    expect(expiry.transfer?.kind).toBe(TransferKind.EXPIRE_PENDING);
  });
});

describe.runIf(usesPostgres)("expiry with two replicas", () => {
  it("voids each expired pending transfer exactly once", async () => {
    const second = await startTestLedger();
    try {
      const [a, b] = accounts();
      await open(a, "100.00");
      await open(b);
      const ids = Array.from({ length: 20 }, (_, n) => `${a}-p${n}`);
      await ledger.client().createTransfers({
        transfers: ids.map((transferId) => ({
          transferId,
          sourceAccount: a,
          destinationAccount: b,
          amount: "1.00",
          currency: "USD",
          kind: TransferKind.PENDING,
          timeoutSeconds: 1,
        })),
      });
      await waitFor(async () => (await balanceOf(a)).available === "100.00", 15_000);
      const { rows } = await ledger.process.db.query<{ n: string; states: string }>(
        `SELECT count(*)::text AS n, string_agg(DISTINCT p.state, ',') AS states
           FROM ledger_transfers t JOIN ledger_pending p ON p.transfer_id = t.pending_id
          WHERE t.kind = $2 AND t.pending_id = ANY($1::text[])`,
        [ids, TransferKind.EXPIRE_PENDING],
      );
      expect(rows[0]).toEqual({ n: "20", states: "EXPIRED" });
      expect(await balanceOf(b)).toMatchObject({ posted: "0.00", creditsPending: "0.00" });
    } finally {
      await second.stop();
    }
  });
});

describe("reversal", () => {
  it("undoes part, then the rest, and never more than the original", async () => {
    const [a, b] = accounts();
    await open(a, "100.00");
    await open(b);
    await ledger
      .client()
      .createTransfer({ transferId: `${a}-t`, sourceAccount: a, destinationAccount: b, amount: "30.00", currency: "USD" });
    const part = await ledger.client().reverseTransfer({ transferId: `${a}-t`, reversalId: `${a}-r1`, amount: "10.00" });
    expect(part.reversal).toMatchObject({ sourceAccount: b, destinationAccount: a, reversalOf: `${a}-t`, kind: TransferKind.REVERSAL });
    const tooMuch = await rpcError(ledger.client().reverseTransfer({ transferId: `${a}-t`, reversalId: `${a}-r2`, amount: "20.01" }));
    expect(tooMuch).toMatchObject({ code: Code.FailedPrecondition });
    const rest = await ledger.client().reverseTransfer({ transferId: `${a}-t`, reversalId: `${a}-r3` });
    expect(rest.reversal?.amount?.amount).toBe("20.00");
    const again = await ledger.client().reverseTransfer({ transferId: `${a}-t`, reversalId: `${a}-r3` });
    expect(again.existed).toBe(true);
    expect((await rpcError(ledger.client().reverseTransfer({ transferId: `${a}-t`, reversalId: `${a}-r4` }))).code).toBe(
      Code.FailedPrecondition,
    );
    expect(await balanceOf(a)).toMatchObject({ posted: "100.00" });
    expect(await balanceOf(b)).toMatchObject({ posted: "0.00" });
  });
});

describe("balancing, closing and reopening", () => {
  it("moves what is available when asked for more", async () => {
    const [a, b] = accounts();
    await open(a, "12.34");
    await open(b);
    const res = await ledger
      .client()
      .createTransfer({ sourceAccount: a, destinationAccount: b, amount: "1000.00", currency: "USD", balancing: true });
    expect(res.transfer?.amount?.amount).toBe("12.34");
    expect(await balanceOf(a)).toMatchObject({ posted: "0.00" });
  });

  it("lets only an admin reopen a closed account", async () => {
    const [a, b] = accounts();
    await open(a, "5.00");
    await open(b);
    await ledger.client().closeAccount({ accountId: b });
    expect(
      (await rpcError(ledger.client().createTransfer({ sourceAccount: a, destinationAccount: b, amount: "1.00", currency: "USD" }))).code,
    ).toBe(Code.FailedPrecondition);
    expect((await rpcError(ledger.client(["operator"]).reopenAccount({ accountId: b }))).code).toBe(Code.PermissionDenied);
    await ledger.client(["admin"]).reopenAccount({ accountId: b });
    await ledger.client().createTransfer({ sourceAccount: a, destinationAccount: b, amount: "1.00", currency: "USD" });
    expect(await balanceOf(b)).toMatchObject({ posted: "1.00" });
  });
});

describe("audit trail", () => {
  it("signs transfers and detects tampering with the log or a transfer", async () => {
    const [a, b] = accounts();
    await open(a, "50.00");
    await open(b);
    const { transfer } = await ledger
      .client()
      .createTransfer({ transferId: `${a}-t`, sourceAccount: a, destinationAccount: b, amount: "5.00", currency: "USD" });
    expect(transfer?.signature).toMatch(/^[0-9a-f]{64}$/);
    expect(transfer?.keyId).toBe("k1");
    expect(await ledger.client(["auditor"]).verifyAudit({})).toMatchObject({ intact: true });
    const db = ledger.process.db;
    const { rows } = await db.query<{ seq: string; payload: string }>(
      "SELECT seq, payload FROM ledger_audit WHERE payload LIKE $1 ORDER BY seq LIMIT 1",
      [`%${a}-t%`],
    );
    const entry = rows[0];
    if (!entry) throw new Error("the transfer is not in the audit log");
    const tamper = async (sql: string, params: unknown[], table: string, trigger: string) => {
      await db.exec(`ALTER TABLE ${table} DISABLE TRIGGER ${trigger}`);
      try {
        await db.query(sql, params);
      } finally {
        await db.exec(`ALTER TABLE ${table} ENABLE TRIGGER ${trigger}`);
      }
    };
    try {
      await tamper(
        "UPDATE ledger_audit SET payload = $2 WHERE seq = $1",
        [entry.seq, entry.payload.replace(`${a}-t`, `${a}-x`)],
        "ledger_audit",
        "ledger_audit_append_only",
      );
      const broken = await ledger.client(["auditor"]).verifyAudit({});
      expect(broken).toMatchObject({ intact: false, firstBrokenSequence: BigInt(entry.seq) });
    } finally {
      await tamper(
        "UPDATE ledger_audit SET payload = $2 WHERE seq = $1",
        [entry.seq, entry.payload],
        "ledger_audit",
        "ledger_audit_append_only",
      );
    }
    try {
      await tamper(
        "UPDATE ledger_transfers SET amount = amount + 1 WHERE id = $1",
        [`${a}-t`],
        "ledger_transfers",
        "ledger_transfers_immutable",
      );
      const altered = await ledger.client(["auditor"]).verifyAudit({});
      expect(altered).toMatchObject({ intact: false, firstBrokenSequence: BigInt(entry.seq) });
      expect(altered.reason).toContain(`${a}-t`);
    } finally {
      await tamper(
        "UPDATE ledger_transfers SET amount = amount - 1 WHERE id = $1",
        [`${a}-t`],
        "ledger_transfers",
        "ledger_transfers_immutable",
      );
    }
    expect(await ledger.client(["auditor"]).verifyAudit({})).toMatchObject({ intact: true });
  });
});

describe("WatchTransfers", () => {
  it("resumes after a disconnect missing nothing and repeating nothing, in commit order", async () => {
    const [a, b] = accounts();
    await open(a, "100.00");
    await open(b);
    const pay = (n: number) =>
      ledger
        .client()
        .createTransfer({ transferId: `${a}-w${n}`, sourceAccount: a, destinationAccount: b, amount: "1.00", currency: "USD" });
    const seen: string[] = [];
    let cursor = 0n;
    const first = new AbortController();
    const stream = ledger.client().watchTransfers({ accountId: b }, { signal: first.signal });
    const writes = (async () => {
      for (let n = 0; n < 5; n++) await pay(n);
    })();
    try {
      for await (const { transfer } of stream) {
        seen.push(transfer?.transferId ?? "");
        cursor = transfer?.sequence ?? cursor;
        if (seen.length === 3) first.abort();
      }
    } catch (error) {
      expect(ConnectError.from(error).code).toBe(Code.Canceled);
    }
    await writes;
    for (let n = 5; n < 8; n++) await pay(n);
    const resumed = new AbortController();
    for await (const { transfer } of ledger.client().watchTransfers({ accountId: b, afterSequence: cursor }, { signal: resumed.signal })) {
      seen.push(transfer?.transferId ?? "");
      if (seen.length === 8) break;
    }
    resumed.abort();
    expect(seen).toEqual(Array.from({ length: 8 }, (_, n) => `${a}-w${n}`));
  });
});

describe.runIf(usesPostgres)("WatchTransfers across replicas", () => {
  it("delivers transfers another replica commits, promptly", async () => {
    const writer = await startTestLedger();
    try {
      const [a, b] = accounts();
      await open(a, "10.00");
      await open(b);
      const watcher = new AbortController();
      const seen: string[] = [];
      const reading = (async () => {
        for await (const { transfer } of ledger.client().watchTransfers({ accountId: b }, { signal: watcher.signal })) {
          seen.push(transfer?.transferId ?? "");
          if (seen.length === 3) return;
        }
      })();
      for (let n = 0; n < 3; n++) {
        await writer
          .client()
          .createTransfer({ transferId: `${a}-x${n}`, sourceAccount: a, destinationAccount: b, amount: "1.00", currency: "USD" });
      }
      await reading;
      watcher.abort();
      expect(seen).toEqual([`${a}-x0`, `${a}-x1`, `${a}-x2`]);
    } finally {
      await writer.stop();
    }
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
