// A write whose call ended (deadline passed, client canceled) before COMMIT stores nothing.
// The test steps in at a fixed point: right after the batch's write statement, before COMMIT,
// it waits until the server's own view of the call (the handler's ctx.signal) has ended.
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { AccountType, type CreateTransfersRequest, LedgerService } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import type { Db, Queryable, Row } from "@qenex/platform";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bindLedger } from "./index.js";
import { rpcError, startTestLedger, type TestLedger, uniquePrefix } from "./testing/harness.js";

/** Run once, right after the next statement that writes transfers, before the transaction goes on. */
let afterWrite: (() => Promise<void>) | undefined;
/** The server-side signal and outcome of the latest CreateTransfers handler call. */
let handlerSignal: AbortSignal | undefined;
let handlerOutcome: Promise<unknown> | undefined;

function steppingIn(db: Db): Db {
  const wrap = (tx: Queryable): Queryable => ({
    ...tx,
    query: async <R extends Row = Row>(sql: string, params?: unknown[]) => {
      const result = await tx.query<R>(sql, params);
      const step = sql.includes("INSERT INTO ledger_transfers") ? afterWrite : undefined;
      if (step) {
        afterWrite = undefined;
        await step();
      }
      return result;
    },
  });
  return { ...db, transaction: (fn) => db.transaction((tx) => fn(wrap(tx))) };
}

const untilAborted = (signal: AbortSignal | undefined) =>
  new Promise<void>((resolve) => {
    if (!signal) throw new Error("the handler has not been called");
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });

let ledger: TestLedger;

beforeAll(async () => {
  ledger = await startTestLedger({
    bind: (deps) => {
      const bound = bindLedger({ ...deps, db: steppingIn(deps.db) });
      const binding = bound.services.find((s) => s.service.typeName === LedgerService.typeName);
      const impl = binding?.impl as unknown as { createTransfers: (req: CreateTransfersRequest, ctx: HandlerContext) => Promise<unknown> };
      const original = impl.createTransfers.bind(impl);
      impl.createTransfers = (req, ctx) => {
        handlerSignal = ctx.signal;
        handlerOutcome = original(req, ctx);
        return handlerOutcome;
      };
      return bound;
    },
  });
});
afterAll(async () => {
  await ledger?.stop();
});

/** Two accounts, the first holding 1000.00 USD, and 500 transfers of 0.01 between them. */
async function fiveHundredTransfers(p: string) {
  const client = ledger.client();
  for (const [id, initialBalance] of [
    [`${p}-a`, "1000.00"],
    [`${p}-b`, ""],
  ] as const) {
    await client.createAccount({ accountId: id, accountType: AccountType.CHECKING, currency: "USD", initialBalance });
  }
  return Array.from({ length: 500 }, (_, i) => ({
    transferId: `${p}-t${i}`,
    sourceAccount: `${p}-a`,
    destinationAccount: `${p}-b`,
    amount: "0.01",
    currency: "USD",
  }));
}

async function storedTransfers(p: string): Promise<number> {
  const { db } = ledger.process;
  const counted = await db.query<{ n: string }>(
    `SELECT ((SELECT count(*) FROM ledger_transfers WHERE id LIKE $1) +
             (SELECT count(*) FROM ledger_transfer_failures WHERE id LIKE $1))::text AS n`,
    [`${p}-t%`],
  );
  return Number(counted.rows[0]?.n);
}

async function balanceOf(id: string): Promise<string | undefined> {
  return (await ledger.client().getBalance({ accountId: id })).balance?.balance?.amount;
}

describe("a write whose call ended before COMMIT", () => {
  it("is rolled back when the deadline passes, and the server answers DEADLINE_EXCEEDED", async () => {
    const p = uniquePrefix("deadline");
    const transfers = await fiveHundredTransfers(p);
    afterWrite = () => untilAborted(handlerSignal);
    // The deadline goes in the header only, so the answer seen is the server's, not the
    // client's own timer. Reaching the write before the deadline or not, nothing may commit.
    const error = await rpcError(ledger.client().createTransfers({ transfers }, { headers: { "grpc-timeout": "300m" } }));
    await Promise.allSettled([handlerOutcome]);
    expect(error.code).toBe(Code.DeadlineExceeded);
    expect(await storedTransfers(p)).toBe(0);
    expect(await balanceOf(`${p}-a`)).toBe("1000.00");
  });

  it("is rolled back when the client cancels while the batch is being written", async () => {
    const p = uniquePrefix("cancel");
    const transfers = await fiveHundredTransfers(p);
    const controller = new AbortController();
    afterWrite = async () => {
      controller.abort();
      await untilAborted(handlerSignal);
    };
    const error = await rpcError(ledger.client().createTransfers({ transfers }, { signal: controller.signal }));
    expect(error.code).toBe(Code.Canceled);
    const [handled] = await Promise.allSettled([handlerOutcome]);
    expect(handled?.status).toBe("rejected");
    expect(ConnectError.from(handled?.status === "rejected" ? handled.reason : undefined).code).toBe(Code.Canceled);
    expect(await storedTransfers(p)).toBe(0);
    expect(await balanceOf(`${p}-a`)).toBe("1000.00");
  });
});
