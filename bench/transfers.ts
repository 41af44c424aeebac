// Transfers/s through the ledger's gRPC CreateTransfers next to the same writes done with raw
// SQL through pg, on one PostgreSQL database and one set of accounts, so the cost of the
// service layer (HTTP/2, protobuf, auth, validation, idempotency lookups) shows as a ratio.
import * as os from "node:os";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { type Client, createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import {
  AccountType,
  CreateAccountStatus,
  type CreateTransferResult,
  CreateTransferStatus,
  LedgerService,
  TransferKind,
} from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import pg from "pg";
import { startTestLedger, type TestLedger, uniquePrefix } from "../packages/ledger/src/testing/harness.js";

type PgQueryable = pg.Pool | pg.PoolClient;
type PgPool = pg.Pool;

const currency = "USD";
const transferAmount = "0.01";
const transferAmountMinor = 1n;
// Enough that no account can run dry however the random pairs fall.
const openingBalance = "1000000.00";
const accountsPerRequestMax = 8190;
// The harness starts the ledger with QENEX_DB_POOL_MAX=12; the baseline gets the same number
// of connections so neither side wins by holding more of PostgreSQL.
const serverPoolMax = 12;
// Enough to diagnose; a broken run can have thousands of distinct messages.
const failureReasonsShownMax = 10;

type Settings = {
  durationMs: number;
  warmupMs: number;
  concurrency: number;
  batchConcurrency: number;
  batchSize: number;
  accountCount: number;
};

type Transfer = { id: string; sourceId: string; destinationId: string };
type Failure = { reason: string; example: string; count: number };
type BatchOutcome = { createdCount: number; failures: Failure[] };
type Send = (transfers: readonly Transfer[]) => Promise<BatchOutcome>;
type Scenario = { name: string; batchSize: number; senders: readonly Send[] };

type Measurement = {
  scenario: Scenario;
  createdCount: number;
  failedCount: number;
  failures: Map<string, Failure>;
  latenciesMs: number[];
  elapsedMs: number;
  nodeCpuMs: number;
};

type Workload = { prefix: string; accountIds: readonly string[]; issuedCount: number };

function numberSetting(name: string, text: string, minimum: number): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < minimum) {
    console.error(`bench: ${name} must be a number >= ${minimum}, got "${text}"`);
    process.exit(2);
  }
  return value;
}

function readSettings(): Settings {
  const { values } = parseArgs({
    options: {
      seconds: { type: "string" },
      "warmup-seconds": { type: "string" },
      concurrency: { type: "string" },
      "batch-concurrency": { type: "string" },
      "batch-size": { type: "string" },
      accounts: { type: "string" },
    },
    // `pnpm bench -- --seconds 5` forwards the "--" itself.
    allowPositionals: true,
  });
  const pick = (flag: string | undefined, env: string, fallback: number, minimum: number) =>
    numberSetting(env, flag ?? process.env[env] ?? String(fallback), minimum);
  return {
    durationMs: pick(values.seconds, "BENCH_SECONDS", 10, 0.1) * 1000,
    warmupMs: pick(values["warmup-seconds"], "BENCH_WARMUP_SECONDS", 2, 0) * 1000,
    concurrency: Math.floor(pick(values.concurrency, "BENCH_CONCURRENCY", 16, 1)),
    batchConcurrency: Math.floor(pick(values["batch-concurrency"], "BENCH_BATCH_CONCURRENCY", 2, 1)),
    batchSize: Math.floor(pick(values["batch-size"], "BENCH_BATCH_SIZE", 1000, 2)),
    accountCount: Math.floor(pick(values.accounts, "BENCH_ACCOUNTS", 1000, 2)),
  };
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += size) out.push(items.slice(start, start + size));
  return out;
}

function randomIndex(length: number): number {
  return Math.floor(Math.random() * length);
}

function nextTransfers(work: Workload, count: number): Transfer[] {
  const ids = work.accountIds;
  return Array.from({ length: count }, () => {
    const source = randomIndex(ids.length);
    // Shifting by 1..n-1 picks a different account without rejection loops.
    const destination = (source + 1 + randomIndex(ids.length - 1)) % ids.length;
    return { id: `${work.prefix}-t${work.issuedCount++}`, sourceId: ids[source] ?? "", destinationId: ids[destination] ?? "" };
  });
}

function failure(reason: string, example: string, count = 1): Failure {
  return { reason, example, count };
}

// ---- gRPC -------------------------------------------------------------------------------

function benchClient(url: string, token: string): Client<typeof LedgerService> {
  // One token for the run, as a real caller caches it; the harness client signs one per call,
  // which would bill JWT signing to the ledger. Each client gets its own HTTP/2 connection.
  const bearer: Interceptor = (next) => (req) => {
    req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
  return createClient(LedgerService, createGrpcTransport({ baseUrl: url, interceptors: [bearer] }));
}

async function createAccounts(client: Client<typeof LedgerService>, accountIds: readonly string[]): Promise<void> {
  for (const chunk of chunks(accountIds, accountsPerRequestMax)) {
    const accounts = chunk.map((accountId) => ({ accountId, accountType: AccountType.CHECKING, currency, initialBalance: openingBalance }));
    const { results } = await client.createAccounts({ accounts });
    const refused = results.filter((r) => r.status !== CreateAccountStatus.CREATED);
    if (results.length !== chunk.length || refused.length > 0) {
      throw new Error(`CreateAccounts: ${results.length}/${chunk.length} results, first refusal: ${refused[0]?.message ?? "none"}`);
    }
  }
}

function grpcOutcome(expectedCount: number, results: readonly CreateTransferResult[]): BatchOutcome {
  const outcome: BatchOutcome = { createdCount: 0, failures: [] };
  for (const result of results) {
    if (result.status === CreateTransferStatus.CREATED) outcome.createdCount++;
    else outcome.failures.push(failure(CreateTransferStatus[result.status] ?? `status ${result.status}`, result.message));
  }
  const missingCount = expectedCount - results.length;
  if (missingCount !== 0) outcome.failures.push(failure("result count mismatch", `${results.length} of ${expectedCount}`, missingCount));
  return outcome;
}

function grpcSend(client: Client<typeof LedgerService>): Send {
  return async (transfers) => {
    const requests = transfers.map((t) => ({
      transferId: t.id,
      sourceAccount: t.sourceId,
      destinationAccount: t.destinationId,
      amount: transferAmount,
      currency,
      reference: "bench",
    }));
    const { results } = await client.createTransfers({ transfers: requests });
    return grpcOutcome(transfers.length, results);
  };
}

// ---- raw SQL baseline -------------------------------------------------------------------

type LockedAccount = {
  id: string;
  currency: string;
  status: string;
  debits_must_not_exceed_credits: boolean;
  debits_posted: string;
  credits_posted: string;
  debits_pending: string;
};
type Funds = { availableMinor: bigint; guarded: boolean; usable: boolean };

async function inTransaction<T>(pool: PgPool, work: (client: PgQueryable) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const result = await work(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

async function lockAccounts(client: PgQueryable, transfers: readonly Transfer[]): Promise<Map<string, Funds>> {
  // Every batch locks in the same (id) order, so concurrent batches wait instead of deadlocking.
  const ids = [...new Set(transfers.flatMap((t) => [t.sourceId, t.destinationId]))].sort();
  const { rows } = await client.query<LockedAccount>(
    `SELECT id, currency, status, debits_must_not_exceed_credits, debits_posted, credits_posted, debits_pending
       FROM ledger_accounts WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`,
    [ids],
  );
  const funds = (a: LockedAccount): Funds => ({
    availableMinor: BigInt(a.credits_posted) - BigInt(a.debits_posted) - BigInt(a.debits_pending),
    guarded: a.debits_must_not_exceed_credits,
    usable: a.status === "OPEN" && a.currency === currency,
  });
  return new Map(rows.map((a) => [a.id, funds(a)]));
}

/** Decides each transfer in order, as the ledger does: each sees the balances the ones before left. */
function checkFunds(transfers: readonly Transfer[], accounts: Map<string, Funds>): BatchOutcome & { accepted: Transfer[] } {
  const accepted: Transfer[] = [];
  const failures: Failure[] = [];
  for (const transfer of transfers) {
    const source = accounts.get(transfer.sourceId);
    const destination = accounts.get(transfer.destinationId);
    if (!source?.usable || !destination?.usable) {
      failures.push(failure("account missing, closed or in another currency", transfer.id));
    } else if (source.guarded && source.availableMinor < transferAmountMinor) {
      failures.push(failure("insufficient funds", `${transfer.id}: ${transfer.sourceId} has ${source.availableMinor} minor units`));
    } else {
      source.availableMinor -= transferAmountMinor;
      destination.availableMinor += transferAmountMinor;
      accepted.push(transfer);
    }
  }
  return { accepted, failures, createdCount: accepted.length };
}

async function insertTransfers(client: PgQueryable, transfers: readonly Transfer[]): Promise<void> {
  await client.query(
    `INSERT INTO ledger_transfers (id, debit_account_id, credit_account_id, amount, currency, reference, kind)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::integer[])`,
    [
      transfers.map((t) => t.id),
      transfers.map((t) => t.sourceId),
      transfers.map((t) => t.destinationId),
      transfers.map(() => transferAmountMinor.toString()),
      transfers.map(() => currency),
      transfers.map(() => "bench"),
      transfers.map(() => TransferKind.TRANSFER),
    ],
  );
}

async function updateBalances(client: PgQueryable, transfers: readonly Transfer[]): Promise<void> {
  const deltas = new Map<string, { debitsMinor: bigint; creditsMinor: bigint }>();
  const delta = (id: string) => deltas.get(id) ?? deltas.set(id, { debitsMinor: 0n, creditsMinor: 0n }).get(id);
  for (const t of transfers) {
    const debit = delta(t.sourceId);
    const credit = delta(t.destinationId);
    if (debit) debit.debitsMinor += transferAmountMinor;
    if (credit) credit.creditsMinor += transferAmountMinor;
  }
  const rows = [...deltas];
  await client.query(
    `UPDATE ledger_accounts AS a
        SET debits_posted = a.debits_posted + d.debits, credits_posted = a.credits_posted + d.credits
       FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS d (id, debits, credits)
      WHERE a.id = d.id`,
    [rows.map(([id]) => id), rows.map(([, d]) => d.debitsMinor.toString()), rows.map(([, d]) => d.creditsMinor.toString())],
  );
}

function rawSend(pool: PgPool): Send {
  return (transfers) =>
    inTransaction(pool, async (client) => {
      const accounts = await lockAccounts(client, transfers);
      const { accepted, failures } = checkFunds(transfers, accounts);
      if (accepted.length > 0) {
        await insertTransfers(client, accepted);
        await updateBalances(client, accepted);
      }
      return { createdCount: accepted.length, failures };
    });
}

// ---- measuring --------------------------------------------------------------------------

function record(m: Measurement, outcome: BatchOutcome): void {
  m.createdCount += outcome.createdCount;
  for (const f of outcome.failures) {
    m.failedCount += f.count;
    const seen = m.failures.get(f.reason);
    if (seen) seen.count += f.count;
    else m.failures.set(f.reason, { ...f });
  }
}

async function sendCounted(send: Send, transfers: readonly Transfer[]): Promise<BatchOutcome> {
  try {
    return await send(transfers);
  } catch (error) {
    // A request that throws fails every transfer in it; it is counted, never swallowed.
    const text = error instanceof Error ? error.message : String(error);
    return { createdCount: 0, failures: [failure(`request error: ${text.slice(0, 120)}`, text, transfers.length)] };
  }
}

/** Runs every sender in a loop until the deadline; each request's transfers are made before its clock starts. */
async function measure(scenario: Scenario, work: Workload, durationMs: number): Promise<Measurement> {
  const m: Measurement = { scenario, createdCount: 0, failedCount: 0, failures: new Map(), latenciesMs: [], elapsedMs: 0, nodeCpuMs: 0 };
  const cpuBefore = process.cpuUsage();
  const startedMs = performance.now();
  const deadlineMs = startedMs + durationMs;
  const loop = async (send: Send) => {
    while (performance.now() < deadlineMs) {
      const transfers = nextTransfers(work, scenario.batchSize);
      const sentMs = performance.now();
      const outcome = await sendCounted(send, transfers);
      m.latenciesMs.push(performance.now() - sentMs);
      record(m, outcome);
    }
  };
  await Promise.all(scenario.senders.map(loop));
  m.elapsedMs = performance.now() - startedMs;
  const cpu = process.cpuUsage(cpuBefore);
  m.nodeCpuMs = (cpu.user + cpu.system) / 1000;
  return m;
}

function percentileMs(sortedMs: readonly number[], percent: number): number {
  const rank = Math.max(1, Math.ceil((percent / 100) * sortedMs.length));
  return sortedMs[rank - 1] ?? Number.NaN;
}

function transfersPerSecond(m: Measurement): number {
  return m.createdCount / (m.elapsedMs / 1000);
}

// ---- reporting --------------------------------------------------------------------------

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? [];
  const line = (row: readonly string[]) =>
    row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join("  ");
  return rows.map(line).join("\n");
}

function resultRow(m: Measurement): string[] {
  const sortedMs = [...m.latenciesMs].sort((a, b) => a - b);
  return [
    m.scenario.name,
    String(m.scenario.batchSize),
    String(m.scenario.senders.length),
    String(m.createdCount),
    (m.elapsedMs / 1000).toFixed(2),
    transfersPerSecond(m).toFixed(0),
    percentileMs(sortedMs, 50).toFixed(2),
    percentileMs(sortedMs, 99).toFixed(2),
  ];
}

function printResults(measurements: readonly Measurement[]): void {
  const header = ["scenario", "batch", "concurrency", "transfers", "seconds", "transfers/s", "p50 ms", "p99 ms"];
  console.log(`\n${table([header, ...measurements.map(resultRow)])}\n`);
  const batchSizes = [...new Set(measurements.map((m) => m.scenario.batchSize))];
  for (const batchSize of batchSizes) {
    const grpc = measurements.find((m) => m.scenario.batchSize === batchSize && m.scenario.name.startsWith("gRPC"));
    const raw = measurements.find((m) => m.scenario.batchSize === batchSize && m.scenario.name.startsWith("raw"));
    if (grpc && raw) console.log(`batch ${batchSize}: gRPC / raw SQL = ${(transfersPerSecond(grpc) / transfersPerSecond(raw)).toFixed(2)}`);
  }
  // Near 100% means the one Node thread (bench clients and ledger together) was the bottleneck.
  const cpuPercents = measurements.map(
    (m) => `${m.scenario.name} ×${m.scenario.batchSize} ${((100 * m.nodeCpuMs) / m.elapsedMs).toFixed(0)}%`,
  );
  console.log(`Node process CPU, % of one core: ${cpuPercents.join(", ")}`);
}

function printFailures(measurements: readonly Measurement[]): number {
  let failedCount = 0;
  for (const m of measurements) {
    failedCount += m.failedCount;
    const reasons = [...m.failures.values()].slice(0, failureReasonsShownMax);
    for (const f of reasons) {
      console.log(`FAILED ${m.scenario.name} batch ${m.scenario.batchSize}: ${f.count} × ${f.reason} (e.g. ${f.example})`);
    }
  }
  console.log(failedCount === 0 ? "failures: none, every transfer was CREATED" : `failures: ${failedCount} transfers not created`);
  return failedCount;
}

async function printMachine(pool: PgPool, settings: Settings): Promise<void> {
  const { rows } = await pool.query<{ version: string; synchronous_commit: string }>(
    "SELECT current_setting('server_version') AS version, current_setting('synchronous_commit') AS synchronous_commit",
  );
  const cpus = os.cpus();
  console.log(`node ${process.version}, ${cpus.length} CPUs (${cpus[0]?.model ?? "unknown"}), load average ${os.loadavg()[0]?.toFixed(2)}`);
  console.log(`PostgreSQL ${rows[0]?.version}, synchronous_commit=${rows[0]?.synchronous_commit}`);
  console.log(
    `${settings.accountCount} accounts; ${settings.durationMs / 1000} s per scenario after ${settings.warmupMs / 1000} s warm-up; ` +
      "ledger and bench clients share this Node process",
  );
}

// ---- verification -----------------------------------------------------------------------

async function verify(pool: PgPool, prefix: string, createdCount: number): Promise<string[]> {
  const problems: string[] = [];
  const sums = await pool.query<{ currency: string; debits: string; credits: string }>(
    `SELECT currency, sum(debits_posted)::text AS debits, sum(credits_posted)::text AS credits
       FROM ledger_accounts GROUP BY currency ORDER BY currency`,
  );
  for (const { currency: code, debits, credits } of sums.rows) {
    console.log(`${code}: Σ debits_posted = ${debits}, Σ credits_posted = ${credits} ${debits === credits ? "(equal)" : "(DIFFERENT)"}`);
    if (debits !== credits) problems.push(`${code} debits and credits differ`);
  }
  const stored = await pool.query<{ count: string }>("SELECT count(*)::text AS count FROM ledger_transfers WHERE starts_with(id, $1)", [
    `${prefix}-t`,
  ]);
  const storedCount = Number(stored.rows[0]?.count ?? 0);
  console.log(`transfers stored this run: ${storedCount}, reported created (incl. warm-up): ${createdCount}`);
  if (storedCount !== createdCount) problems.push("stored transfer count differs from the reported one");
  return [...problems, ...(await verifyBalancesMatchTransfers(pool, prefix))];
}

/** Each account's posted totals must equal the sums of the transfers that touch it. */
async function verifyBalancesMatchTransfers(pool: PgPool, prefix: string): Promise<string[]> {
  const { rows } = await pool.query<{ count: string }>(
    `WITH legs AS (
       SELECT debit_account_id AS id, amount AS debits, 0::bigint AS credits FROM ledger_transfers
       UNION ALL SELECT credit_account_id, 0, amount FROM ledger_transfers),
     totals AS (SELECT id, sum(debits) AS debits, sum(credits) AS credits FROM legs GROUP BY id)
     SELECT count(*)::text AS count FROM ledger_accounts a LEFT JOIN totals t USING (id)
      WHERE starts_with(a.id, $1) AND (a.debits_posted <> coalesce(t.debits, 0) OR a.credits_posted <> coalesce(t.credits, 0))`,
    [`${prefix}-a`],
  );
  const mismatchedCount = Number(rows[0]?.count ?? 0);
  console.log(`accounts whose balances disagree with their transfers: ${mismatchedCount}`);
  return mismatchedCount === 0 ? [] : [`${mismatchedCount} accounts disagree with their transfers`];
}

// ---- main -------------------------------------------------------------------------------

function scenarios(settings: Settings, ledger: TestLedger, token: string, pool: PgPool): Scenario[] {
  const grpcSenders = (count: number) => Array.from({ length: count }, () => grpcSend(benchClient(ledger.url, token)));
  const rawSenders = (count: number) => Array.from({ length: count }, () => rawSend(pool));
  // gRPC and raw SQL alternate per batch size, so each pair writes into tables of similar size.
  return [
    { name: "gRPC CreateTransfers", batchSize: 1, senders: grpcSenders(settings.concurrency) },
    { name: "raw SQL (pg)", batchSize: 1, senders: rawSenders(settings.concurrency) },
    { name: "gRPC CreateTransfers", batchSize: settings.batchSize, senders: grpcSenders(settings.batchConcurrency) },
    { name: "raw SQL (pg)", batchSize: settings.batchSize, senders: rawSenders(settings.batchConcurrency) },
  ];
}

async function runScenarios(
  list: readonly Scenario[],
  work: Workload,
  settings: Settings,
): Promise<{ measured: Measurement[]; createdCount: number }> {
  const measured: Measurement[] = [];
  let createdCount = 0;
  for (const scenario of list) {
    console.log(`running ${scenario.name}, batch ${scenario.batchSize}, concurrency ${scenario.senders.length}…`);
    if (settings.warmupMs > 0) createdCount += (await measure(scenario, work, settings.warmupMs)).createdCount;
    const m = await measure(scenario, work, settings.durationMs);
    createdCount += m.createdCount;
    measured.push(m);
  }
  return { measured, createdCount };
}

async function bench(settings: Settings, ledger: TestLedger, pool: PgPool): Promise<boolean> {
  await printMachine(pool, settings);
  const prefix = uniquePrefix("bench");
  const work: Workload = { prefix, accountIds: Array.from({ length: settings.accountCount }, (_, i) => `${prefix}-a${i}`), issuedCount: 0 };
  const setupStartedMs = performance.now();
  await createAccounts(ledger.client(["admin"]), work.accountIds);
  console.log(`created ${work.accountIds.length} accounts in ${(performance.now() - setupStartedMs).toFixed(0)} ms (run prefix ${prefix})`);
  const token = await ledger.token(["service"]);
  const { measured, createdCount } = await runScenarios(scenarios(settings, ledger, token, pool), work, settings);
  printResults(measured);
  const failedCount = printFailures(measured);
  const problems = await verify(pool, prefix, createdCount);
  for (const problem of problems) console.log(`VERIFY FAILED: ${problem}`);
  return failedCount === 0 && problems.length === 0;
}

async function main(): Promise<void> {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    console.error(
      "bench: DATABASE_URL is not set. The bench measures PostgreSQL, e.g.\n  DATABASE_URL=postgres://postgres@127.0.0.1:5432/qenex_bench pnpm bench",
    );
    process.exit(2);
  }
  const settings = readSettings();
  const ledger = await startTestLedger();
  const pool = new pg.Pool({ connectionString: databaseUrl, max: serverPoolMax });
  // An idle connection dropped by the server must not crash the bench; the pool replaces it.
  pool.on("error", () => {});
  try {
    process.exitCode = (await bench(settings, ledger, pool)) ? 0 : 1;
  } finally {
    await pool.end();
    await ledger.stop();
  }
}

await main();
