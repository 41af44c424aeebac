// Crash recovery: the payments service runs as its own process (`qenex serve payments`) beside
// real ledger and risk servers; it is killed with SIGKILL while 200 payments on every rail are
// in flight and restarted on the same database. Every payment must reach the final state the
// simulated network decided for it, with its ledger effect applied exactly once and its credit
// transfer sent exactly once.
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { type Client, createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { AccountType } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import {
  type CreatePaymentRequestSchema,
  MessageDirection,
  MessageFormat,
  type Payment,
  PaymentState,
  PaymentsService,
} from "@qenex/gen/qenex/payments/v1/payments_pb.js";
import { startTestLedger, type TestLedger, testJwtSecret, uniquePrefix } from "@qenex/ledger/testing";
import { createAuth, createPgliteDb, createPostgresDb, type Db } from "@qenex/platform";
import { freshDatabase } from "@qenex/platform/testing";
import { startTestRisk, type TestRisk } from "@qenex/risk/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decideOutcome, receivedMessages } from "./rails/simulated-network.js";
import { defaultRetryPolicy } from "./service/workers.js";
import { eurParties, testPaymentsEnv, usParties } from "./testing/harness.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const cliMain = path.join(root, "packages/cli/src/main.ts");

const paymentsCount = 200;
type RailName = "SWIFT" | "SEPA" | "ACH" | "FEDWIRE";
const railNames: readonly RailName[] = ["SWIFT", "SEPA", "ACH", "FEDWIRE"];
const simulation = { seed: 11, rejectRate: 0.1, returnRate: 0.1 };
const initialBalance = "1000.00";
/** The kill waits until this many of the first wave's payments are final (posts and voids have run)… */
const finalBeforeKill = 10;
/**
 * …then sends the second wave and strikes once this many of its creates were answered. Jobs
 * run in batches, so the first wave can go from a few final to nearly all at once: the second
 * wave is what guarantees payments in flight at the kill (an answered one cannot be final yet,
 * two network legs of QENEX_SIM_LATENCY_MS away), and creates cut off mid-call.
 */
const secondWaveCount = 50;
const secondWaveAnsweredAtKill = 25;
/**
 * The waits below end on progress, not on a clock: a wait fails once no payment has changed
 * state for this long, however long the whole run takes on a loaded machine. A job that failed
 * (an upstream too slow under load) waits up to the retry policy's longest backoff for its
 * next attempt; the job lease and the simulated network's answers take far less.
 */
const stalledMsMax = defaultRetryPolicy.backoffMaxMs + 30_000;
/** The whole test: two process starts and 200 payments settled, on a machine running other tests. */
const testTimeoutMs = 600_000;
/** The end of the service's output kept for a failure's message. */
const outputTailChars = 8_000;
const rpcConcurrency = 20;

const finalStates = new Set([PaymentState.SETTLED, PaymentState.REJECTED, PaymentState.RETURNED, PaymentState.CANCELLED]);
const expectedFinal = { SETTLE: PaymentState.SETTLED, REJECT: PaymentState.REJECTED, RETURN: PaymentState.RETURNED } as const;

type Request = MessageInitShape<typeof CreatePaymentRequestSchema>;
type Planned = { paymentId: string; rail: RailName; account: string; request: Request; sentType: string };

/** Payment n: rails in turn, both message formats of SWIFT and Fedwire, amounts 10.01 to 99.99. */
function plan(n: number, prefix: string): Planned {
  const rail = railNames[n % railNames.length] as RailName;
  const paymentId = `${prefix}-${n}`;
  const account = `${prefix}-acct-${n}`;
  const amount = `${10 + (n % 90)}.${String((n * 37) % 100).padStart(2, "0")}`;
  const base = { paymentId, debtorAccount: account, amount, reference: `CRASH ${n}` };
  const alternate = Math.floor(n / railNames.length) % 2 === 1;
  switch (rail) {
    case "SWIFT":
      return {
        paymentId,
        rail,
        account,
        sentType: alternate ? "MT103" : "pacs.008.001.08",
        request: {
          ...base,
          rail: "swift",
          currency: "EUR",
          debtor: { name: "Acme GmbH", iban: "DE89370400440532013000", bic: "COBADEFFXXX" },
          creditor: { name: "Globex Ltd", iban: "GB82WEST12345698765432", bic: "NWBKGB2L" },
          ...(alternate ? { messageFormat: MessageFormat.MT103 } : {}),
        },
      };
    case "SEPA":
      return { paymentId, rail, account, sentType: "pacs.008.001.08", request: { ...base, rail: "sepa", currency: "EUR", ...eurParties } };
    case "ACH":
      return { paymentId, rail, account, sentType: "NACHA", request: { ...base, rail: "ach", currency: "USD", ...usParties } };
    case "FEDWIRE":
      return {
        paymentId,
        rail,
        account,
        sentType: alternate ? "Fedwire tags" : "pacs.008.001.08",
        request: {
          ...base,
          rail: "fedwire",
          currency: "USD",
          ...usParties,
          ...(alternate ? { messageFormat: MessageFormat.FEDWIRE_TAGS } : {}),
        },
      };
  }
}

/** "123.45" as 12345n; every amount here has two decimals. */
function minorOf(amount: string | undefined): bigint {
  if (amount === undefined || !/^-?\d+\.\d\d$/.test(amount)) throw new Error(`not an amount with two decimals: ${amount}`);
  return BigInt(amount.replace(".", ""));
}

async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await fn(items[i] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type PaymentsChild = {
  child: ChildProcess;
  url: string;
  exited: Promise<number | null>;
  client: Client<typeof PaymentsService>;
  /** The end of what the service has printed (its warnings: jobs that failed and why). */
  outputTail(): string;
};

/**
 * Starts `qenex serve payments` and resolves once it prints its URL, or fails when it exits
 * first. No clock of its own: a start takes what the machine's load makes it take, and the
 * test's timeout bounds one that never ends (the cleanups then kill the child).
 */
function startPaymentsChild(env: NodeJS.ProcessEnv): Promise<PaymentsChild> {
  const child = spawn(process.execPath, ["--import", "tsx", "--conditions=source", cliMain, "serve", "payments"], {
    cwd: root,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  cleanups.unshift(async () => child.kill("SIGKILL"));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let output = "";
    let url: string | undefined;
    const onData = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-outputTailChars);
      if (url) return;
      url = /payments listening on (http:\/\/[0-9.]+:[0-9]+)/.exec(output)?.[1];
      if (url) resolve({ child, url, exited, client: paymentsClient(url), outputTail: () => output });
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`qenex serve payments exited with ${code}: ${output}`)));
  });
}

/**
 * A check to call on each poll: it fails, describing `stuck`, once the payments' states
 * have not changed for stalledMsMax.
 */
function progressWatch(what: string): (payments: readonly Payment[], stuck: () => string) => void {
  let last = "";
  let changedAtMs = Date.now();
  return (payments, stuck) => {
    const now = payments.map((p) => `${p.paymentId}:${p.state}`).join(",");
    if (now !== last) {
      last = now;
      changedAtMs = Date.now();
    } else if (Date.now() - changedAtMs > stalledMsMax) {
      throw new Error(`${what}: no payment changed state for ${stalledMsMax} ms; ${stuck()}`);
    }
  };
}

function paymentsClient(url: string): Client<typeof PaymentsService> {
  const auth = createAuth(testJwtSecret);
  const bearer: Interceptor = (next) => async (req) => {
    req.header.set("authorization", `Bearer ${await auth.issue({ subject: "crash-test", roles: ["admin"] }, 600)}`);
    return next(req);
  };
  return createClient(PaymentsService, createGrpcTransport({ baseUrl: url, interceptors: [bearer] }));
}

async function listAll(client: Client<typeof PaymentsService>): Promise<Payment[]> {
  const { payments } = await client.listPayments({ page: { pageSize: 1000 } });
  return payments;
}

const cleanups: (() => Promise<unknown>)[] = [];
let ledger: TestLedger;
let risk: TestRisk;
let childEnv: NodeJS.ProcessEnv;
let paymentsDataDir: string;
let paymentsDatabaseUrl: string | undefined;

beforeAll(async () => {
  // Every server on a database of its own: the settlement accounts' balances are then this
  // test's alone, and no other test's payments worker claims these payments' jobs.
  const fresh = async (name: string) => {
    const database = await freshDatabase(name);
    cleanups.push(database.drop);
    return database.url;
  };
  const ledgerDatabase = await fresh("qenex_crash_ledger");
  ledger = await startTestLedger(ledgerDatabase ? { databaseUrl: ledgerDatabase } : {});
  cleanups.unshift(() => ledger.stop());
  const riskDatabase = await fresh("qenex_crash_risk");
  risk = await startTestRisk({ ledgerUrl: ledger.url, ...(riskDatabase ? { databaseUrl: riskDatabase } : {}) });
  cleanups.unshift(() => risk.stop());
  paymentsDatabaseUrl = await fresh("qenex_crash_payments");
  paymentsDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "qenex-crash-"));
  childEnv = {
    ...process.env,
    ...testPaymentsEnv({
      QENEX_SIM_SEED: String(simulation.seed),
      QENEX_SIM_REJECT_RATE: String(simulation.rejectRate),
      QENEX_SIM_RETURN_RATE: String(simulation.returnRate),
      // Slow enough that answers, posts and returns are still due when the kill strikes.
      QENEX_SIM_LATENCY_MS: "150",
      // The dead process's leased jobs are taken over this soon after the restart.
      QENEX_PAYMENTS_JOB_LEASE_MS: "1000",
    }),
    QENEX_LEDGER_URL: ledger.url,
    QENEX_RISK_URL: risk.url,
    QENEX_PAYMENTS_PORT: "0",
    QENEX_DATA_DIR: paymentsDataDir,
    DATABASE_URL: paymentsDatabaseUrl ?? "",
  };
}, 60_000);

afterAll(async () => {
  for (const cleanup of cleanups) await cleanup().catch(() => {});
});

describe("payments crash recovery", () => {
  it("SIGKILL with 200 payments in flight, restart: each ends as the network decided, booked once, sent once", {
    timeout: testTimeoutMs,
  }, async () => {
    const prefix = uniquePrefix("crash").replaceAll(".", "-").slice(0, 28);
    const planned = Array.from({ length: paymentsCount }, (_, n) => plan(n, prefix));
    await mapLimited(planned, rpcConcurrency, (p) =>
      ledger
        .client()
        .createAccount({ accountId: p.account, accountType: AccountType.CHECKING, currency: p.request.currency ?? "", initialBalance }),
    );
    let service = await startPaymentsChild(childEnv);
    // The kill may cut some of these calls off; they are retried below.
    const create = (p: Planned) =>
      service.client.createPayment(p.request).then(
        () => true,
        () => false,
      );
    const firstWave = planned.slice(0, paymentsCount - secondWaveCount);
    const creatingFirst = firstWave.map(create);

    const beforeKill = progressWatch(`waiting for ${finalBeforeKill} payments to be final`);
    for (;;) {
      const all = await listAll(service.client);
      const final = all.filter((p) => finalStates.has(p.state)).length;
      if (final >= finalBeforeKill) break;
      beforeKill(all, () => `${all.length} payments, ${final} final`);
      await sleep(10);
    }
    let answered = 0;
    let enoughAnswered: () => void = () => {};
    const killNow = new Promise<void>((resolve) => {
      enoughAnswered = resolve;
    });
    const creatingSecond = planned.slice(firstWave.length).map((p) =>
      create(p).finally(() => {
        if (++answered === secondWaveAnsweredAtKill) enoughAnswered();
      }),
    );
    await killNow;
    service.child.kill("SIGKILL");
    expect(await service.exited).toBe(null);
    const created = await Promise.all([...creatingFirst, ...creatingSecond]);

    service = await startPaymentsChild(childEnv);
    // A client whose call was cut off retries it: the same id and content is the same payment.
    await mapLimited(
      planned.filter((_, i) => !created[i]),
      rpcConcurrency,
      (p) => service.client.createPayment(p.request),
    );
    const expected = new Map(
      planned.map((p) => [p.paymentId, expectedFinal[decideOutcome({ ...simulation, rail: p.rail }, p.paymentId).kind]]),
    );
    const afterRestart = progressWatch("after the restart");
    for (;;) {
      const all = await listAll(service.client);
      for (const held of all.filter((p) => p.state === PaymentState.HELD_FOR_REVIEW)) {
        await service.client.reviewPayment({ paymentId: held.paymentId, approve: true, note: "crash test: approved" });
      }
      const done = all.filter(
        (p) => p.state === expected.get(p.paymentId) || (finalStates.has(p.state) && p.state !== PaymentState.SETTLED),
      );
      if (all.length === paymentsCount && done.length === paymentsCount) break;
      afterRestart(all, () => {
        const stuck = all.filter((p) => p.state !== expected.get(p.paymentId)).slice(0, 10);
        const listed = stuck.map((p) => `${p.paymentId} ${PaymentState[p.state]} (${p.stateReason})`).join("; ");
        return `${all.length} payments, not final as expected: ${listed}\nthe service printed: ${service.outputTail()}`;
      });
      await sleep(100);
    }
    const payments = await mapLimited(planned, rpcConcurrency, async (p) => {
      const [{ payment }, { messages }, { transfers }, { balance }] = await Promise.all([
        service.client.getPayment({ paymentId: p.paymentId }),
        service.client.getPaymentMessage({ paymentId: p.paymentId }),
        ledger.client().listTransfers({ accountId: p.account, page: { pageSize: 1000 } }),
        ledger.client().getBalance({ accountId: p.account }),
      ]);
      return { planned: p, payment, messages, transfers, balance };
    });

    // Each payment: the network's decision, its state history, one credit transfer sent.
    for (const { planned: p, payment, messages } of payments) {
      const states = payment?.transitions.map((t) => PaymentState[t.to]) ?? [];
      const context = `${p.paymentId} (${p.rail}): ${states.join(" → ")}`;
      expect(payment?.state, context).toBe(expected.get(p.paymentId));
      expect(new Set(states).size, `a state repeats: ${context}`).toBe(states.length);
      const withoutReview = states.filter((s) => s !== "HELD_FOR_REVIEW");
      const upToSubmitted = ["RECEIVED", "VALIDATED", "SCREENED", "FUNDS_RESERVED", "SUBMITTED"];
      const after = { SETTLED: ["ACCEPTED", "SETTLED"], REJECTED: ["REJECTED"], RETURNED: ["ACCEPTED", "SETTLED", "RETURNED"] };
      const finalName = PaymentState[payment?.state ?? 0] as keyof typeof after;
      expect(withoutReview, context).toEqual([...upToSubmitted, ...after[finalName]]);
      const sent = messages.filter((m) => m.direction === MessageDirection.SENT);
      expect(
        sent.map((m) => m.messageType),
        context,
      ).toEqual([p.sentType]);
    }

    // The ledger: each payment's transfers exist once, with the effect its final state needs.
    const seenTransferIds = new Set<string>();
    let debtorsMinor = 0n;
    for (const { planned: p, payment, transfers, balance } of payments) {
      for (const transfer of transfers) {
        expect(seenTransferIds.has(transfer.transferId), `transfer ${transfer.transferId} listed twice`).toBe(false);
        seenTransferIds.add(transfer.transferId);
      }
      const ours = new Map(transfers.filter((t) => t.transferId.startsWith(`${p.paymentId}.`)).map((t) => [t.transferId, t]));
      const hold = `${p.paymentId}.hold`;
      const post = `${p.paymentId}.post`;
      const amountMinor = minorOf(payment?.amount?.amount);
      let expectedMinor = minorOf(initialBalance);
      expect(ours.get(hold)?.amount?.amount, p.paymentId).toBe(payment?.amount?.amount);
      if (payment?.state === PaymentState.SETTLED) {
        expect([...ours.keys()].sort(), p.paymentId).toEqual([hold, post]);
        expect(ours.get(post)?.pendingTransferId, p.paymentId).toBe(hold);
        expect(payment.settleTransferId).toBe(post);
        expectedMinor -= amountMinor;
      } else if (payment?.state === PaymentState.REJECTED) {
        const voided = `${p.paymentId}.void`;
        expect([...ours.keys()].sort(), p.paymentId).toEqual([hold, voided]);
        expect(ours.get(voided)?.pendingTransferId, p.paymentId).toBe(hold);
        expect(payment.settleTransferId).toBe(voided);
      } else if (payment?.state === PaymentState.RETURNED) {
        const reversal = `${p.paymentId}.return`;
        expect([...ours.keys()].sort(), p.paymentId).toEqual([hold, post, reversal]);
        expect(ours.get(post)?.pendingTransferId, p.paymentId).toBe(hold);
        expect(ours.get(reversal)?.reversalOf, p.paymentId).toBe(post);
        expect(payment.returnTransferId).toBe(reversal);
      }
      expect({ balance: balance?.balance?.amount, available: balance?.available?.amount }, p.paymentId).toEqual({
        balance: (Number(expectedMinor) / 100).toFixed(2),
        available: (Number(expectedMinor) / 100).toFixed(2),
      });
      debtorsMinor += minorOf(balance?.balance?.amount);
    }
    // No money made or lost: what left the debtors is in the settlement accounts, nothing more.
    const settlements = ["settlement-swift-EUR", "settlement-sepa-EUR", "settlement-ach-USD", "settlement-fedwire-USD"];
    let settledMinor = 0n;
    for (const accountId of settlements) {
      const { balance } = await ledger.client().getBalance({ accountId });
      expect(balance?.available?.amount, accountId).toBe(balance?.balance?.amount);
      settledMinor += minorOf(balance?.balance?.amount);
    }
    expect(debtorsMinor + settledMinor).toBe(minorOf(initialBalance) * BigInt(paymentsCount));
    service.child.kill("SIGTERM");
    expect(await service.exited).toBe(0);
    await checkNetworkSawEachMessageOnce(planned);
  });
});

/** The database after a clean stop: each credit transfer reached its network under one id, its outcome scheduled once. */
async function checkNetworkSawEachMessageOnce(planned: readonly Planned[]): Promise<void> {
  // Where `qenex serve payments` keeps its tables: its own schema, or its own folder.
  const db: Db = paymentsDatabaseUrl
    ? createPostgresDb(paymentsDatabaseUrl, 2, { schema: "payments" })
    : await createPgliteDb(path.join(paymentsDataDir, "payments"));
  try {
    const sent = await db.query<{ rail: string; message_id: string }>(
      "SELECT rail, message_id FROM payment_messages WHERE direction = 'SENT' ORDER BY rail, message_id",
    );
    const received = await receivedMessages(db);
    expect(received.map((m) => `${m.rail} ${m.messageId}`).sort()).toEqual(sent.rows.map((m) => `${m.rail} ${m.message_id}`).sort());
    const events = await db.query<{ payment_id: string; messages: string; kinds: string; undelivered: string }>(
      `SELECT payment_id, count(DISTINCT message_id) AS messages, string_agg(kind, ',' ORDER BY step) AS kinds,
              count(*) FILTER (WHERE delivered_at IS NULL) AS undelivered
       FROM sim_network_events GROUP BY payment_id`,
    );
    const byPayment = new Map(events.rows.map((row) => [row.payment_id, row]));
    for (const p of planned) {
      const row = byPayment.get(p.paymentId);
      const outcome = decideOutcome({ ...simulation, rail: p.rail }, p.paymentId).kind;
      const kinds = { SETTLE: "ACCEPTED,SETTLED", REJECT: "REJECTED", RETURN: "ACCEPTED,SETTLED,RETURNED" }[outcome];
      expect({
        paymentId: row?.payment_id,
        messages: Number(row?.messages),
        kinds: row?.kinds,
        undelivered: Number(row?.undelivered),
      }).toEqual({
        paymentId: p.paymentId,
        messages: 1,
        kinds,
        undelivered: 0,
      });
    }
    expect(Number((await db.query<{ n: string }>("SELECT count(*) AS n FROM payment_jobs")).rows[0]?.n)).toBe(0);
    expect((await db.query("SELECT job_id, kind, payment_id, last_error FROM payment_dead_letters")).rows).toEqual([]);
  } finally {
    await db.close();
  }
}
