// Payments per second end to end through the simulated rails: ledger, risk and payments servers
// (their testing harnesses, in this process) on PostgreSQL (+ Redis when REDIS_URL is set). Per
// rail, N payments go in through the gRPC client at a fixed concurrency; the table shows the
// create RPC's rate and latency, the time until the last one is SETTLED, and each payment's
// received → settled latency from its own transitions. Baseline in the same run: the ledger
// alone doing the same money movement (a PENDING hold, then POST_PENDING), two calls per payment.
// With --rate the payments are offered at that many per second (the latency question) instead of
// as fast as the callers go (the throughput question). Statements per payment count every SQL
// statement the payments server ran on its database during the rail's run, polling included, and
// beside them those the ledger and risk servers ran on theirs.
import * as os from "node:os";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { type Client, createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import {
  AccountType,
  CreateAccountStatus,
  CreateTransferRequestSchema,
  CreateTransferStatus,
  LedgerService,
  TransferKind,
} from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { type CreatePaymentRequestSchema, PaymentState, PaymentsService } from "@qenex/gen/qenex/payments/v1/payments_pb.js";
import { startTestLedger, type TestLedger, testJwtSecret } from "@qenex/ledger/testing";
import { startTestPayments, type TestPayments } from "@qenex/payments/testing";
import { createAuth } from "@qenex/platform";
import { freshDatabase } from "@qenex/platform/testing";
import { startTestRisk, type TestRisk } from "@qenex/risk/testing";
import pg from "pg";

type RailName = "SWIFT" | "SEPA" | "ACH" | "FEDWIRE";
const railNames: readonly RailName[] = ["SWIFT", "SEPA", "ACH", "FEDWIRE"];
const openingBalance = "100000.00";
// CreateAccounts takes at most 8,190 accounts per call.
const accountsPerCallMax = 8190;
// How often the bench counts the run's payments by state while waiting for them to settle.
const pollIntervalMs = 20;
// GetPayment for the transitions runs at this concurrency once every payment is final.
const readConcurrency = 16;
// Where a payment stops moving without anyone acting, as the payments table names them.
const finalStateNames = ["SETTLED", "REJECTED", "HELD_FOR_REVIEW", "RETURNED", "CANCELLED"];

type Settings = {
  payments: number;
  concurrency: number;
  latencyMs: number;
  paymentsPerAccount: number;
  rails: RailName[];
  achCutoffMs: number;
  workers: number;
  settleTimeoutMs: number;
  /** Payments offered per second; 0: as fast as the concurrency allows. */
  ratePerSecond: number;
};

function settings(): Settings {
  const { values } = parseArgs({
    options: {
      payments: { type: "string", default: process.env.BENCH_PAYMENTS ?? "500" },
      concurrency: { type: "string", default: process.env.BENCH_CONCURRENCY ?? "16" },
      "latency-ms": { type: "string", default: process.env.BENCH_SIM_LATENCY_MS ?? "20" },
      "payments-per-account": { type: "string", default: process.env.BENCH_PAYMENTS_PER_ACCOUNT ?? "5" },
      rails: { type: "string", default: process.env.BENCH_RAILS ?? railNames.join(",") },
      "ach-cutoff-ms": { type: "string", default: process.env.BENCH_ACH_CUTOFF_MS ?? "1000" },
      workers: { type: "string", default: process.env.BENCH_PAYMENTS_WORKERS ?? "16" },
      "settle-timeout-seconds": { type: "string", default: process.env.BENCH_SETTLE_TIMEOUT_SECONDS ?? "60" },
      rate: { type: "string", default: process.env.BENCH_RATE ?? "0" },
    },
    // `pnpm bench:payments -- --payments 100` forwards the "--" itself, after which parseArgs
    // would read every option as a positional: drop it.
    args: process.argv.slice(2).filter((arg, i) => !(i === 0 && arg === "--")),
    allowPositionals: true,
  });
  const s: Settings = {
    payments: Number(values.payments),
    concurrency: Number(values.concurrency),
    latencyMs: Number(values["latency-ms"]),
    paymentsPerAccount: Number(values["payments-per-account"]),
    rails: values.rails.split(",").map((r) => r.trim().toUpperCase()) as RailName[],
    achCutoffMs: Number(values["ach-cutoff-ms"]),
    workers: Number(values.workers),
    settleTimeoutMs: Number(values["settle-timeout-seconds"]) * 1000,
    ratePerSecond: Number(values.rate),
  };
  const whole = (v: number, min: number, max: number) => Number.isInteger(v) && v >= min && v <= max;
  if (
    !whole(s.payments, 1, 20_000) ||
    !whole(s.concurrency, 1, 256) ||
    !whole(s.latencyMs, 0, 10_000) ||
    !whole(s.paymentsPerAccount, 1, 100) ||
    s.rails.length === 0 ||
    s.rails.some((r) => !railNames.includes(r)) ||
    !whole(s.achCutoffMs, 10, 60_000) ||
    !whole(s.workers, 1, 256) ||
    !(s.settleTimeoutMs > 0 && s.settleTimeoutMs <= 600_000) ||
    !whole(s.ratePerSecond, 0, 10_000)
  ) {
    throw new Error(
      "--payments 1..20000, --concurrency 1..256, --latency-ms 0..10000, --payments-per-account 1..100, " +
        "--rails a list of swift,sepa,ach,fedwire, --ach-cutoff-ms 10..60000, --workers 1..256, --settle-timeout-seconds (0, 600], " +
        "--rate 0..10000 payments/s (0: unpaced)",
    );
  }
  return s;
}

// ---- clients ----------------------------------------------------------------------------

/** One token minted up front: the harness clients mint one per call, which would be measured too. */
async function bearer(): Promise<Interceptor> {
  const token = await createAuth(testJwtSecret).issue({ subject: "bench", roles: ["admin"] }, 3600);
  return (next) => async (req) => {
    req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
}

type Clients = { ledger: Client<typeof LedgerService>; payments: Client<typeof PaymentsService> };

async function clientsOf(ledger: TestLedger, payments: TestPayments): Promise<Clients> {
  const interceptors = [await bearer()];
  return {
    ledger: createClient(LedgerService, createGrpcTransport({ baseUrl: ledger.url, interceptors })),
    payments: createClient(PaymentsService, createGrpcTransport({ baseUrl: payments.url, interceptors })),
  };
}

// ---- workload ---------------------------------------------------------------------------

const currencyOf = (rail: RailName) => (rail === "SWIFT" || rail === "SEPA" ? "EUR" : "USD");

/** 10.00 to 99.99, never round, far below every amount rule of the risk service. */
const amountOf = (index: number) => (10 + ((index * 371) % 9000) / 100).toFixed(2);

type Request = MessageInitShape<typeof CreatePaymentRequestSchema>;
const usParties = {
  debtor: { name: "Corporation A", accountNumber: "5647772655", routingNumber: "121042882" },
  creditor: { name: "Jane Roe", accountNumber: "567876543", routingNumber: "231380104" },
};

function paymentRequest(rail: RailName, paymentId: string, debtorAccount: string, index: number): Request {
  const common = { paymentId, debtorAccount, amount: amountOf(index), reference: `BENCH ${index}` };
  switch (rail) {
    case "SWIFT":
      return {
        ...common,
        rail: "swift",
        currency: "EUR",
        debtor: { name: "Acme GmbH", iban: "DE89370400440532013000", bic: "COBADEFFXXX" },
        creditor: { name: "Globex Ltd", iban: "GB82WEST12345698765432", bic: "NWBKGB2L" },
      };
    case "SEPA":
      return {
        ...common,
        rail: "sepa",
        currency: "EUR",
        debtor: { name: "Erika Mustermann", iban: "DE89370400440532013000", bic: "COBADEFFXXX" },
        creditor: { name: "Jean Dupont", iban: "FR1420041010050500013M02606", bic: "BNPAFRPP" },
      };
    case "ACH":
      return { ...common, rail: "ach", currency: "USD", ...usParties };
    case "FEDWIRE":
      return { ...common, rail: "fedwire", currency: "USD", ...usParties };
  }
}

/** Opens `count` fresh debtor accounts with the opening balance; returns their ids. */
async function openAccounts(ledger: Clients["ledger"], prefix: string, currency: string, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  for (let from = 0; from < ids.length; from += accountsPerCallMax) {
    const chunk = ids.slice(from, from + accountsPerCallMax);
    const { results } = await ledger.createAccounts({
      accounts: chunk.map((accountId) => ({ accountId, accountType: AccountType.CHECKING, currency, initialBalance: openingBalance })),
    });
    const failed = results.filter((r) => r.status !== CreateAccountStatus.CREATED);
    if (failed.length > 0) throw new Error(`cannot open accounts: ${failed[0]?.message} (${failed.length} failed)`);
  }
  return ids;
}

/**
 * Runs `work(index)` for 0..count-1 on `concurrency` callers, call `index` starting no earlier
 * than index / ratePerSecond seconds in (0: at once); each call's latency in ms.
 */
async function runConcurrently(
  count: number,
  concurrency: number,
  work: (index: number) => Promise<void>,
  ratePerSecond = 0,
): Promise<number[]> {
  const latenciesMs: number[] = [];
  let next = 0;
  const firstMs = performance.now();
  const caller = async () => {
    for (let index = next++; index < count; index = next++) {
      const dueMs = ratePerSecond > 0 ? firstMs + (index * 1000) / ratePerSecond : 0;
      const waitMs = dueMs - performance.now();
      if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
      const startedMs = performance.now();
      await work(index);
      latenciesMs.push(performance.now() - startedMs);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, caller));
  return latenciesMs;
}

function percentileMs(valuesMs: readonly number[], percent: number): number {
  const sorted = [...valuesMs].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((percent / 100) * sorted.length));
  return sorted[rank - 1] ?? Number.NaN;
}

// ---- scenarios --------------------------------------------------------------------------

type Row = {
  name: string;
  count: number;
  settled: number;
  held: number;
  rejected: number;
  /** Create RPCs (or, for the baseline, hold + post pairs) per second and their latency. */
  createPerSecond: number;
  createLatenciesMs: number[];
  /** First create to the last SETTLED; settled per second over that span. */
  endToEndMs: number;
  endToEndPerSecond: number;
  /** Per payment: received → settled (the baseline: hold sent → post answered). */
  settleLatenciesMs: number[];
  /** Per hop between two states a payment passed ("RECEIVED→VALIDATED"), each payment's time in it. */
  hopLatenciesMs: Map<string, number[]>;
  /** SQL statements per payment the payments server ran, and the ledger and risk servers; undefined for the baseline. */
  statementsPerPayment?: StatementCounts;
  problems: string[];
};

/** The ledger alone: per payment a PENDING transfer to a settlement account, then POST_PENDING. */
async function ledgerBaseline(clients: Clients, s: Settings, runTag: string): Promise<Row> {
  const debtors = await openAccounts(clients.ledger, `${runTag}-base`, "USD", Math.ceil(s.payments / s.paymentsPerAccount));
  const settlement = `${runTag}-base-settlement-USD`;
  await clients.ledger.createAccount({
    accountId: settlement,
    accountType: AccountType.SETTLEMENT,
    currency: "USD",
    ownerId: "bench",
    debitsMustNotExceedCredits: false,
  });
  const problems: string[] = [];
  // The calls the payments processor makes: CreateTransfers with one transfer each.
  const transfer = async (fields: MessageInitShape<typeof CreateTransferRequestSchema>) => {
    const { results } = await clients.ledger.createTransfers({ transfers: [create(CreateTransferRequestSchema, fields)] });
    const status = results[0]?.status;
    if (status !== CreateTransferStatus.CREATED) problems.push(`${fields.transferId}: ${CreateTransferStatus[status ?? 0]}`);
  };
  const startedMs = performance.now();
  const latenciesMs = await runConcurrently(s.payments, s.concurrency, async (index) => {
    const id = `${runTag}-base-${index}`;
    await transfer({
      transferId: `${id}.hold`,
      sourceAccount: debtors[Math.floor(index / s.paymentsPerAccount)] ?? "",
      destinationAccount: settlement,
      amount: amountOf(index),
      currency: "USD",
      reference: `payment ${id} over BASELINE`,
      kind: TransferKind.PENDING,
    });
    await transfer({ transferId: `${id}.post`, kind: TransferKind.POST_PENDING, pendingTransferId: `${id}.hold` });
  });
  const elapsedMs = performance.now() - startedMs;
  const perSecond = (s.payments - problems.length) / (elapsedMs / 1000);
  return {
    name: "ledger only: hold + post",
    count: s.payments,
    settled: s.payments - problems.length,
    held: 0,
    rejected: 0,
    createPerSecond: perSecond,
    createLatenciesMs: latenciesMs,
    endToEndMs: elapsedMs,
    endToEndPerSecond: perSecond,
    settleLatenciesMs: latenciesMs,
    hopLatenciesMs: new Map(),
    problems,
  };
}

/** Counts the run's payments of one rail by state, straight from the payments database. */
async function countByState(db: pg.Pool, idPrefix: string): Promise<Map<string, number>> {
  const { rows } = await db.query<{ state: string; n: string }>(
    "SELECT state, count(*) AS n FROM payments WHERE payment_id LIKE $1 GROUP BY state",
    [`${idPrefix}%`],
  );
  return new Map(rows.map((r) => [r.state, Number(r.n)]));
}

/** Waits until every payment is in a final state or nothing moved for the settle timeout. */
async function waitUntilFinal(db: pg.Pool, idPrefix: string, count: number, s: Settings): Promise<Map<string, number>> {
  let lastChangeMs = performance.now();
  let lastText = "";
  for (;;) {
    const states = await countByState(db, idPrefix);
    const final = finalStateNames.reduce((sum, name) => sum + (states.get(name) ?? 0), 0);
    if (final >= count) return states;
    const text = JSON.stringify([...states]);
    if (text !== lastText) {
      lastText = text;
      lastChangeMs = performance.now();
    } else if (performance.now() - lastChangeMs > s.settleTimeoutMs) {
      return states;
    }
    await new Promise((resolve) => setTimeout(resolve, pollIntervalMs));
  }
}

// ---- statements ------------------------------------------------------------------------

/**
 * Counts the statements run on one database by every pg client in this process (the servers
 * run here) except the bench's own, by wrapping pg's Client.prototype.query: BEGIN and COMMIT count.
 */
const benchApplicationName = "qenex-bench";

type StatementCounts = { payments: number; mesh: number };

function countStatements(paymentsDatabase: string, meshDatabase: string): { read(): StatementCounts } {
  const count = { payments: 0, mesh: 0 };
  const original = pg.Client.prototype.query;
  const counting = function (this: pg.Client, ...args: unknown[]) {
    const client = this as unknown as { database?: string; connectionParameters?: { application_name?: string } };
    if (client.connectionParameters?.application_name !== benchApplicationName) {
      if (client.database === paymentsDatabase) count.payments++;
      else if (client.database === meshDatabase) count.mesh++;
    }
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  };
  pg.Client.prototype.query = counting as typeof original;
  return { read: () => ({ ...count }) };
}

async function railRun(
  rail: RailName,
  clients: Clients,
  paymentsDb: pg.Pool,
  s: Settings,
  runTag: string,
  statements: { read(): StatementCounts },
): Promise<Row> {
  const idPrefix = `${runTag}-${rail.toLowerCase()}-`;
  const debtors = await openAccounts(
    clients.ledger,
    `${runTag}-${rail.toLowerCase()}-debtor`,
    currencyOf(rail),
    Math.ceil(s.payments / s.paymentsPerAccount),
  );
  const problems: string[] = [];
  const statementsBefore = statements.read();
  const firstCreateAtMs = Date.now();
  const startedMs = performance.now();
  const createLatenciesMs = await runConcurrently(
    s.payments,
    s.concurrency,
    async (index) => {
      const debtor = debtors[Math.floor(index / s.paymentsPerAccount)] ?? "";
      const { payment } = await clients.payments.createPayment(paymentRequest(rail, `${idPrefix}${index}`, debtor, index));
      if (payment?.state !== PaymentState.VALIDATED) problems.push(`${idPrefix}${index}: created ${PaymentState[payment?.state ?? 0]}`);
    },
    s.ratePerSecond,
  );
  const createElapsedMs = performance.now() - startedMs;
  const states = await waitUntilFinal(paymentsDb, idPrefix, s.payments, s);
  const statementsAfter = statements.read();
  const statementsPerPayment = {
    payments: (statementsAfter.payments - statementsBefore.payments) / s.payments,
    mesh: (statementsAfter.mesh - statementsBefore.mesh) / s.payments,
  };

  const settleLatenciesMs: number[] = [];
  const hopLatenciesMs = new Map<string, number[]>();
  let lastSettledAtMs = firstCreateAtMs;
  await runConcurrently(s.payments, readConcurrency, async (index) => {
    const { payment } = await clients.payments.getPayment({ paymentId: `${idPrefix}${index}` });
    const at = (to: PaymentState) => {
      const transition = payment?.transitions.find((t) => t.to === to);
      return transition?.at ? timestampDate(transition.at).getTime() : undefined;
    };
    const receivedAtMs = at(PaymentState.RECEIVED);
    const settledAtMs = at(PaymentState.SETTLED);
    if (receivedAtMs === undefined || settledAtMs === undefined) return;
    settleLatenciesMs.push(settledAtMs - receivedAtMs);
    // A transition's time is its transaction's start (now()): each hop ends when the work that
    // made the next move began, so a hop holds the wait before that work and the work before it.
    const transitions = payment?.transitions ?? [];
    for (let i = 1; i < transitions.length; i++) {
      const [from, to] = [transitions[i - 1], transitions[i]];
      if (!from?.at || !to?.at) continue;
      const hop = `${PaymentState[from.to]}→${PaymentState[to.to]}`;
      const list = hopLatenciesMs.get(hop) ?? [];
      hopLatenciesMs.set(hop, list);
      list.push(timestampDate(to.at).getTime() - timestampDate(from.at).getTime());
    }
    lastSettledAtMs = Math.max(lastSettledAtMs, settledAtMs);
  });
  for (const [state, n] of states) {
    if (state !== "SETTLED") problems.push(`${n} ${state}${finalStateNames.includes(state) ? "" : " (not final)"}`);
  }
  const settled = states.get("SETTLED") ?? 0;
  const endToEndMs = lastSettledAtMs - firstCreateAtMs;
  return {
    name: rail === "SWIFT" ? "SWIFT pacs.008" : rail,
    count: s.payments,
    settled,
    held: states.get("HELD_FOR_REVIEW") ?? 0,
    rejected: states.get("REJECTED") ?? 0,
    createPerSecond: s.payments / (createElapsedMs / 1000),
    createLatenciesMs,
    endToEndMs,
    endToEndPerSecond: endToEndMs > 0 ? settled / (endToEndMs / 1000) : 0,
    settleLatenciesMs,
    hopLatenciesMs,
    statementsPerPayment,
    problems,
  };
}

// ---- reporting --------------------------------------------------------------------------

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? [];
  const line = (row: readonly string[]) =>
    row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join("  ");
  return rows.map(line).join("\n");
}

/** Where received → settled goes: each hop's p50 and p99 in ms, per rail. */
function printHops(rows: readonly Row[]): void {
  const hops = [...new Set(rows.flatMap((r) => [...r.hopLatenciesMs.keys()]))];
  if (hops.length === 0) return;
  const cell = (values: readonly number[] | undefined) =>
    values === undefined || values.length === 0 ? "-" : `${percentileMs(values, 50).toFixed(0)} / ${percentileMs(values, 99).toFixed(0)}`;
  const withHops = rows.filter((r) => r.hopLatenciesMs.size > 0);
  console.log("\nreceived → settled by hop, p50 / p99 ms (a hop ends when the next move's transaction began):");
  console.log(
    table([["hop", ...withHops.map((r) => r.name)], ...hops.map((hop) => [hop, ...withHops.map((r) => cell(r.hopLatenciesMs.get(hop)))])]),
  );
  console.log("");
}

function printTable(rows: readonly Row[]): void {
  const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : "-");
  const header = [
    "scenario",
    "payments",
    "settled",
    "held",
    "rejected",
    "create/s",
    "create p50 ms",
    "create p99 ms",
    "e2e s",
    "e2e payments/s",
    "recv→settled p50 ms",
    "p99 ms",
    "SQL/payment",
    "ledger+risk SQL/payment",
  ];
  const lines = rows.map((r) => [
    r.name,
    String(r.count),
    String(r.settled),
    String(r.held),
    String(r.rejected),
    r.createPerSecond.toFixed(0),
    ms(percentileMs(r.createLatenciesMs, 50)),
    ms(percentileMs(r.createLatenciesMs, 99)),
    (r.endToEndMs / 1000).toFixed(2),
    r.endToEndPerSecond.toFixed(0),
    ms(percentileMs(r.settleLatenciesMs, 50)),
    ms(percentileMs(r.settleLatenciesMs, 99)),
    r.statementsPerPayment === undefined ? "-" : r.statementsPerPayment.payments.toFixed(1),
    r.statementsPerPayment === undefined ? "-" : r.statementsPerPayment.mesh.toFixed(1),
  ]);
  console.log(table([header, ...lines]));
  printHops(rows);
  const baseline = rows[0];
  if (!baseline) return;
  console.log("\nend-to-end payments/s against the ledger alone (hold + post):");
  for (const r of rows.slice(1)) {
    console.log(`  ${r.name.padEnd(16)} ${(r.endToEndPerSecond / baseline.endToEndPerSecond).toFixed(2)}×`);
  }
}

// ---- main -------------------------------------------------------------------------------

async function main(): Promise<void> {
  const s = settings();
  if (!process.env.DATABASE_URL)
    throw new Error("set DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/qenex_bench): the bench measures PostgreSQL");
  const cpus = os.cpus();
  console.log(`node ${process.version}, ${cpus.length} CPUs (${cpus[0]?.model ?? "unknown"}), load average ${os.loadavg()[0]?.toFixed(2)}`);
  console.log(
    `ledger, risk and payments servers in this process (their testing harnesses); PostgreSQL, kv ${process.env.REDIS_URL ? `Redis ${process.env.REDIS_URL}` : "in-process"}`,
  );
  console.log(
    `${s.payments} payments per rail at concurrency ${s.concurrency}, ${s.paymentsPerAccount} per debtor account; simulated latency ${s.latencyMs} ms, ` +
      `${s.ratePerSecond > 0 ? `offered at ${s.ratePerSecond}/s` : "unpaced"}, reject/return rate 0; QENEX_PAYMENTS_WORKERS=${s.workers}, QENEX_ACH_CUTOFF_MS=${s.achCutoffMs}, QENEX_PAYMENTS_JOB_LEASE_MS=15000, ` +
      "pools: ledger 12, risk 10, payments 10 connections\n",
  );
  // Ledger and risk share a fresh database; the payments harness creates its own beside it.
  const mesh = await freshDatabase("bench_payments_mesh");
  // DATABASE_URL is set (checked above), so the database was created.
  const meshUrl = mesh.url as string;
  let ledger: TestLedger | undefined;
  let risk: TestRisk | undefined;
  let payments: TestPayments | undefined;
  let paymentsDb: pg.Pool | undefined;
  let failed = false;
  try {
    ledger = await startTestLedger({ databaseUrl: meshUrl });
    risk = await startTestRisk({ ledgerUrl: ledger.url, databaseUrl: meshUrl });
    payments = await startTestPayments({
      ledgerUrl: ledger.url,
      riskUrl: risk.url,
      env: {
        QENEX_SIM_LATENCY_MS: String(s.latencyMs),
        QENEX_SIM_REJECT_RATE: "0",
        QENEX_SIM_RETURN_RATE: "0",
        QENEX_ACH_CUTOFF_MS: String(s.achCutoffMs),
        QENEX_PAYMENTS_WORKERS: String(s.workers),
        QENEX_PAYMENTS_JOB_LEASE_MS: "15000",
      },
    });
    // The payments server keeps its tables in schema payments of its database.
    paymentsDb = new pg.Pool({
      connectionString: payments.databaseUrl,
      max: 2,
      options: "-c search_path=payments",
      // Not counted: the bench's own polling is no cost of the payments.
      application_name: benchApplicationName,
    });
    const statements = countStatements(new URL(payments.databaseUrl ?? "").pathname.slice(1), new URL(meshUrl).pathname.slice(1));
    const clients = await clientsOf(ledger, payments);
    const runTag = `bp${Date.now().toString(36)}`;
    const rows: Row[] = [await ledgerBaseline(clients, s, runTag)];
    for (const rail of s.rails) {
      process.stdout.write(`${rail}… `);
      rows.push(await railRun(rail, clients, paymentsDb, s, runTag, statements));
    }
    console.log("\n");
    printTable(rows);
    for (const r of rows) {
      if (r.problems.length === 0 && r.settled === r.count) continue;
      failed = true;
      console.log(`\n${r.name}: ${r.count - r.settled} not settled; ${r.problems.slice(0, 10).join("; ")}`);
    }
  } finally {
    await paymentsDb?.end();
    await payments?.stop();
    await risk?.stop();
    await ledger?.stop();
    await mesh.drop();
  }
  if (failed) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
