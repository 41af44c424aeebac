// Transfers/s through the ledger's gRPC CreateTransfers next to the same writes done with raw
// SQL through pg, on one PostgreSQL database, so the cost of the service layer (HTTP/2,
// protobuf, auth, validation, idempotency lookups, its schema's extra work) shows as a ratio.
// The ledger runs in its own Node process, as in production, so client-side encoding does not
// compete with the server for one thread.
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import * as readline from "node:readline";
import { fileURLToPath } from "node:url";
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
import { anyFreePortsEnv, createAuth } from "@qenex/platform";
import pg from "pg";
import { benchSchemaSql } from "./bench-schema.ts";

type PgQueryable = pg.Pool | pg.PoolClient;
type PgPool = pg.Pool;

const repoRoot = fileURLToPath(new URL("../", import.meta.url));
const cliMainPath = path.join(repoRoot, "packages/cli/src/main.ts");

const currency = "USD";
const transferAmount = "0.01";
const transferAmountMinor = 1n;
// Enough that no account can run dry however the random pairs fall (USD has 2 minor digits).
const openingBalanceMinor = 100_000_000n;
const openingBalance = "1000000.00";
// Where the ledger's opening balances come from (packages/ledger/src/domain/account.ts); the
// baseline seeds the same account so both sides hold the same rows and balances.
const equityAccountId = `equity:${currency}`;
const accountsPerRequestMax = 8190;
// Fixed, so the bench can mint tokens the server it starts accepts; >= 32 characters as the
// config requires. It only ever guards a throwaway server on 127.0.0.1.
const jwtSecret = "bench-secret-bench-secret-bench-secret-0";
const tokenTtlSeconds = 3600;
// The ledger signs transfers and chains its audit log with this key and requires one with
// DATABASE_URL. Fixed, so reruns against the same database extend one chain with one key.
const auditKey = "bench-audit-key-bench-audit-key-bench-0";
// The ledger's PostgreSQL pool (QENEX_DB_POOL_MAX).
const serverPoolMax = 16;
// The baseline gets one connection per worker up to this; PostgreSQL's default
// max_connections is 100, and the ledger and the checks need some too.
const rawPoolMax = 64;
const serverStartTimeoutMs = 120_000;
const serverStopTimeoutMs = 20_000;
// Enough to diagnose; a broken run can have thousands of distinct messages.
const failureReasonsShownMax = 10;
// What the ledger printed before dying is the useful part of a start-up failure.
const serverOutputKeptLines = 40;

type Settings = {
  durationMs: number;
  warmupMs: number;
  concurrencies: number[];
  batchConcurrency: number;
  batchSize: number;
  accountCount: number;
};

type Transfer = { id: string; sourceId: string; destinationId: string };
type Failure = { reason: string; example: string; count: number };
type BatchOutcome = { createdCount: number; failures: Failure[] };
type Send = (transfers: readonly Transfer[]) => Promise<BatchOutcome>;
type Side = "gRPC" | "raw";
type Senders = { senders: Send[]; close(): Promise<void> };
type Scenario = { side: Side; name: string; batchSize: number; concurrency: number; open(): Senders };

type CpuSample = {
  benchUsageMicros: NodeJS.CpuUsage;
  ledgerTicks: number | undefined;
  postgresTicks: Map<number, number> | undefined;
  hostBusyTicks: number | undefined;
};
/** Where CPU time is read from: the ledger's pid, and a pool to ask PostgreSQL for its backends' pids. */
type CpuProbe = { ledgerPid: number; pool: PgPool };
/** CPU time spent during a scenario; undefined where /proc could not tell. */
type CpuUse = { benchMs: number; ledgerMs: number | undefined; postgresMs: number | undefined; otherMs: number | undefined };

type Measurement = {
  scenario: Scenario;
  createdCount: number;
  failedCount: number;
  failures: Map<string, Failure>;
  latenciesMs: number[];
  elapsedMs: number;
  cpu: CpuUse;
};

type Workload = { prefix: string; accountIds: readonly string[]; issuedCount: number };

// ---- settings ---------------------------------------------------------------------------

function settingError(message: string): never {
  console.error(`bench: ${message}`);
  process.exit(2);
}

function numberSetting(name: string, text: string, minimum: number): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < minimum) settingError(`${name} must be a number >= ${minimum}, got "${text}"`);
  return value;
}

function listSetting(name: string, text: string): number[] {
  const values = text.split(",").map((part) => Math.floor(numberSetting(name, part.trim(), 1)));
  return [...new Set(values)].sort((a, b) => a - b);
}

function readSettings(): Settings {
  const { values } = parseArgs({
    options: {
      seconds: { type: "string" },
      "warmup-seconds": { type: "string" },
      concurrencies: { type: "string" },
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
  // `--concurrency N` (the earlier single setting) still works and means `--concurrencies N`.
  const concurrencies =
    values.concurrencies ?? values.concurrency ?? process.env.BENCH_CONCURRENCIES ?? process.env.BENCH_CONCURRENCY ?? "1,16,64";
  return {
    durationMs: pick(values.seconds, "BENCH_SECONDS", 8, 0.1) * 1000,
    warmupMs: pick(values["warmup-seconds"], "BENCH_WARMUP_SECONDS", 2, 0) * 1000,
    concurrencies: listSetting("BENCH_CONCURRENCIES", concurrencies),
    batchConcurrency: Math.floor(pick(values["batch-concurrency"], "BENCH_BATCH_CONCURRENCY", 2, 1)),
    batchSize: Math.floor(pick(values["batch-size"], "BENCH_BATCH_SIZE", 1000, 2)),
    accountCount: Math.floor(pick(values.accounts, "BENCH_ACCOUNTS", 1000, 2)),
  };
}

// ---- workload ---------------------------------------------------------------------------

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += size) out.push(items.slice(start, start + size));
  return out;
}

function randomIndex(length: number): number {
  return Math.floor(Math.random() * length);
}

/** Keeps this run's accounts and transfers apart from earlier runs' in the same database. */
function uniquePrefix(name: string): string {
  return `${name}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
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

// ---- the ledger process -----------------------------------------------------------------

type LedgerProcess = { url: string; pid: number; stop(): Promise<void> };

function lineReader(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  readline.createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on("line", onLine);
}

/** Starts `qenex serve ledger` (the ledger alone, its own Node process) and resolves once it prints the URL it listens on. */
async function startLedgerProcess(databaseUrl: string): Promise<LedgerProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", "--conditions=source", cliMainPath, "serve", "ledger"], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      ...anyFreePortsEnv,
      QENEX_HOST: "127.0.0.1",
      QENEX_JWT_SECRET: jwtSecret,
      QENEX_AUDIT_KEY: auditKey,
      QENEX_LOG_LEVEL: "warn",
      QENEX_DB_POOL_MAX: String(serverPoolMax),
    },
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start the ledger (${process.execPath} ${cliMainPath})`);
  const recentLines: string[] = [];
  let listening = false;
  // The start-up banner's indented lines after the URL (storage, hints) say nothing the bench does not.
  let bannerDone = false;
  const url = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the ledger did not listen within ${serverStartTimeoutMs} ms`)), serverStartTimeoutMs);
    const onLine = (line: string) => {
      // Before it listens, output is kept for the error; after, a warning is worth seeing at once.
      if (!listening) {
        recentLines.push(line);
        if (recentLines.length > serverOutputKeptLines) recentLines.shift();
      } else {
        bannerDone ||= !line.startsWith("  ");
        if (bannerDone) console.error(`ledger: ${line}`);
      }
      const match = /ledger listening on (https?:\/\/\S+)/.exec(line);
      if (!listening && match?.[1]) {
        listening = true;
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    lineReader(child.stderr, onLine);
    lineReader(child.stdout, onLine);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      if (!listening) reject(new Error(`the ledger exited (${signal ?? `code ${code}`}) before listening:\n${recentLines.join("\n")}`));
    });
  });
  let stopping = false;
  child.once("exit", (code, signal) => {
    // A ledger that dies mid-run fails every later request; this says why the numbers stop.
    if (listening && !stopping) console.error(`bench: the ledger process exited unexpectedly (${signal ?? `code ${code}`})`);
  });
  const stop = async () => {
    stopping = true;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), serverStopTimeoutMs);
    await exited;
    clearTimeout(timer);
  };
  try {
    return { url: await url, pid, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

// ---- CPU --------------------------------------------------------------------------------

function clockTicksPerSecond(): number {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    // 100 is what Linux reports on every common architecture.
    return 100;
  }
}

const ticksPerSecond = clockTicksPerSecond();

/** utime + stime of a process from /proc, in clock ticks; undefined off Linux or once it is gone. */
function processTicks(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses; the fields after its last ")" do not.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

/** Busy time of all cores together from /proc/stat, so load from outside the bench shows too. */
function hostBusyTicks(): number | undefined {
  try {
    const cpuLine = fs.readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
    // user nice system idle iowait irq softirq steal; guest time is already inside user.
    const [user, nice, system, , , irq, softirq, steal] = cpuLine.trim().split(/\s+/).slice(1, 9).map(Number);
    const busyTicks = (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0);
    return Number.isFinite(busyTicks) && busyTicks > 0 ? busyTicks : undefined;
  } catch {
    return undefined;
  }
}

/**
 * PostgreSQL's processes working for this run: backends connected to this database (the
 * ledger's, the baseline's, autovacuum) and the shared background ones (WAL writer,
 * checkpointer…), which the run keeps busy. Readable only when PostgreSQL runs on this machine.
 */
async function postgresTicks(pool: PgPool): Promise<Map<number, number> | undefined> {
  const { rows } = await pool.query<{ pid: number }>(
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() OR backend_type <> 'client backend'",
  );
  const ticks = new Map<number, number>();
  for (const { pid } of rows) {
    const processTicksNow = processTicks(pid);
    if (processTicksNow !== undefined) ticks.set(pid, processTicksNow);
  }
  return ticks.size > 0 ? ticks : undefined;
}

async function cpuSample(ledgerPid: number, pool: PgPool): Promise<CpuSample> {
  return {
    benchUsageMicros: process.cpuUsage(),
    ledgerTicks: processTicks(ledgerPid),
    postgresTicks: await postgresTicks(pool).catch(() => undefined),
    hostBusyTicks: hostBusyTicks(),
  };
}

function ticksToMs(ticks: number): number {
  return (ticks * 1000) / ticksPerSecond;
}

function delta(before: number | undefined, after: number | undefined): number | undefined {
  return before === undefined || after === undefined ? undefined : after - before;
}

async function cpuSince(before: CpuSample, ledgerPid: number, pool: PgPool): Promise<CpuUse> {
  const after = await cpuSample(ledgerPid, pool);
  const bench = process.cpuUsage(before.benchUsageMicros);
  const benchMs = (bench.user + bench.system) / 1000;
  const ledgerTicks = delta(before.ledgerTicks, after.ledgerTicks);
  const ledgerMs = ledgerTicks === undefined ? undefined : ticksToMs(ledgerTicks);
  // A backend that connected during the scenario counts from zero; one that left is lost (the
  // pools keep their connections for the whole scenario, so that is rare).
  const postgresMs =
    before.postgresTicks && after.postgresTicks
      ? ticksToMs([...after.postgresTicks].reduce((sum, [pid, ticks]) => sum + ticks - (before.postgresTicks?.get(pid) ?? 0), 0))
      : undefined;
  const hostTicks = delta(before.hostBusyTicks, after.hostBusyTicks);
  const otherMs =
    hostTicks === undefined || ledgerMs === undefined || postgresMs === undefined
      ? undefined
      : // Sampling at 10 ms ticks can leave a few ms below zero.
        Math.max(0, ticksToMs(hostTicks) - benchMs - ledgerMs - postgresMs);
  return { benchMs, ledgerMs, postgresMs, otherMs };
}

// ---- gRPC -------------------------------------------------------------------------------

function benchClient(url: string, token: string): Client<typeof LedgerService> {
  // One token for the run, as a real caller caches it, so JWT signing is not billed to the
  // ledger. Each client gets its own transport and so its own HTTP/2 connection.
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

// The baseline's own tables, shaped like the ledger's schema version 1
// (packages/ledger/src/store/migrations.ts): same columns, keys, checks and indexes, so an
// insert or update costs PostgreSQL the same. The ledger's tables keep changing (later
// migrations add columns the baseline would have to fill), so the baseline never writes them.
const benchTablesSql = `
  DROP TABLE IF EXISTS bench_transfers;
  DROP TABLE IF EXISTS bench_accounts;
  ${benchSchemaSql}`;

/** Recreates the baseline's tables with the accounts, balances and opening transfers the ledger holds after CreateAccounts. */
async function seedBenchTables(pool: PgPool, accountIds: readonly string[]): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query(benchTablesSql);
    const openingMinor = openingBalanceMinor.toString();
    await client.query(
      `INSERT INTO bench_accounts (id, account_type, currency, owner_id, debits_must_not_exceed_credits, debits_posted)
       VALUES ($1, $2, $3, 'qenex', false, $4::bigint * $5::bigint)`,
      [equityAccountId, AccountType.EQUITY, currency, openingMinor, accountIds.length],
    );
    await client.query(
      `INSERT INTO bench_accounts (id, account_type, currency, debits_must_not_exceed_credits, credits_posted)
       SELECT id, $2, $3, true, $4::bigint FROM unnest($1::text[]) AS a (id)`,
      [accountIds, AccountType.CHECKING, currency, openingMinor],
    );
    await client.query(
      `INSERT INTO bench_transfers (id, debit_account_id, credit_account_id, amount, currency, reference, kind)
       SELECT 'opening:' || id, $2, id, $3::bigint, $4, 'opening balance', $5 FROM unnest($1::text[]) AS a (id)`,
      [accountIds, equityAccountId, openingMinor, currency, TransferKind.OPENING_BALANCE],
    );
  });
}

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
  // Every transaction locks in the same (id) order, so concurrent ones wait instead of deadlocking.
  const ids = [...new Set(transfers.flatMap((t) => [t.sourceId, t.destinationId]))].sort();
  const { rows } = await client.query<LockedAccount>(
    `SELECT id, currency, status, debits_must_not_exceed_credits, debits_posted, credits_posted, debits_pending
       FROM bench_accounts WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`,
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

/** What a hand-written service does per transfer: its own transaction, single-row statements. */
async function rawTransferInOwnTransaction(pool: PgPool, transfer: Transfer): Promise<BatchOutcome> {
  return inTransaction(pool, async (client) => {
    const { accepted, failures } = checkFunds([transfer], await lockAccounts(client, [transfer]));
    if (accepted.length === 0) return { createdCount: 0, failures };
    await client.query(
      `INSERT INTO bench_transfers (id, debit_account_id, credit_account_id, amount, currency, reference, kind)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [transfer.id, transfer.sourceId, transfer.destinationId, transferAmountMinor.toString(), currency, "bench", TransferKind.TRANSFER],
    );
    await client.query(
      `UPDATE bench_accounts
          SET debits_posted = debits_posted + CASE WHEN id = $1 THEN $3::bigint ELSE 0 END,
              credits_posted = credits_posted + CASE WHEN id = $2 THEN $3::bigint ELSE 0 END
        WHERE id IN ($1, $2)`,
      [transfer.sourceId, transfer.destinationId, transferAmountMinor.toString()],
    );
    return { createdCount: 1, failures };
  });
}

function rawSendOneTransactionEach(pool: PgPool): Send {
  return async (transfers) => {
    const outcome: BatchOutcome = { createdCount: 0, failures: [] };
    for (const transfer of transfers) {
      const one = await rawTransferInOwnTransaction(pool, transfer);
      outcome.createdCount += one.createdCount;
      outcome.failures.push(...one.failures);
    }
    return outcome;
  };
}

async function insertTransfers(client: PgQueryable, transfers: readonly Transfer[]): Promise<void> {
  await client.query(
    `INSERT INTO bench_transfers (id, debit_account_id, credit_account_id, amount, currency, reference, kind)
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
    `UPDATE bench_accounts AS a
        SET debits_posted = a.debits_posted + d.debits, credits_posted = a.credits_posted + d.credits
       FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS d (id, debits, credits)
      WHERE a.id = d.id`,
    [rows.map(([id]) => id), rows.map(([, d]) => d.debitsMinor.toString()), rows.map(([, d]) => d.creditsMinor.toString())],
  );
}

/** What the ledger's store does at its core per batch: one transaction, set-based statements. */
function rawSendSetBased(pool: PgPool): Send {
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

function rawPool(databaseUrl: string, connectionsMax: number): PgPool {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: connectionsMax });
  // An idle connection dropped by the server must not crash the bench; the pool replaces it.
  pool.on("error", () => {});
  return pool;
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
async function measure(scenario: Scenario, senders: readonly Send[], work: Workload, durationMs: number, probe: CpuProbe) {
  const m: Measurement = {
    scenario,
    createdCount: 0,
    failedCount: 0,
    failures: new Map(),
    latenciesMs: [],
    elapsedMs: 0,
    cpu: { benchMs: 0, ledgerMs: undefined, postgresMs: undefined, otherMs: undefined },
  };
  const cpuBefore = await cpuSample(probe.ledgerPid, probe.pool);
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
  await Promise.all(senders.map(loop));
  m.elapsedMs = performance.now() - startedMs;
  m.cpu = await cpuSince(cpuBefore, probe.ledgerPid, probe.pool);
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

function percentOf(partMs: number | undefined, wholeMs: number): string {
  return partMs === undefined ? "-" : `${((100 * partMs) / wholeMs).toFixed(0)}%`;
}

function sortedLatenciesMs(m: Measurement): number[] {
  return [...m.latenciesMs].sort((a, b) => a - b);
}

function resultRow(m: Measurement): string[] {
  const sortedMs = sortedLatenciesMs(m);
  return [
    m.scenario.name,
    String(m.scenario.batchSize),
    String(m.scenario.concurrency),
    String(m.createdCount),
    (m.elapsedMs / 1000).toFixed(2),
    transfersPerSecond(m).toFixed(0),
    percentileMs(sortedMs, 50).toFixed(2),
    percentileMs(sortedMs, 99).toFixed(2),
    percentOf(m.cpu.benchMs, m.elapsedMs),
    percentOf(m.cpu.ledgerMs, m.elapsedMs),
    percentOf(m.cpu.postgresMs, m.elapsedMs),
    percentOf(m.cpu.otherMs, m.elapsedMs),
  ];
}

function printRatios(measurements: readonly Measurement[]): void {
  const shapes = new Map<string, { grpc?: Measurement; raw?: Measurement }>();
  for (const m of measurements) {
    const key = `batch ${m.scenario.batchSize}, concurrency ${m.scenario.concurrency}`;
    const pair = shapes.get(key) ?? shapes.set(key, {}).get(key);
    if (pair && m.scenario.side === "gRPC") pair.grpc = m;
    else if (pair) pair.raw = m;
  }
  for (const [shape, { grpc, raw }] of shapes) {
    if (!grpc || !raw) continue;
    const throughput = transfersPerSecond(grpc) / transfersPerSecond(raw);
    const latency = percentileMs(sortedLatenciesMs(grpc), 50) / percentileMs(sortedLatenciesMs(raw), 50);
    console.log(`${shape}: gRPC / raw SQL transfers/s = ${throughput.toFixed(2)} (p50 latency ×${latency.toFixed(2)})`);
  }
}

function printResults(measurements: readonly Measurement[]): void {
  const header = ["scenario", "batch", "conc", "transfers", "seconds", "transfers/s", "p50 ms", "p99 ms", "bench", "ledger", "pg", "other"];
  console.log(`\n${table([header, ...measurements.map(resultRow)])}\n`);
  const coreCount = os.availableParallelism();
  console.log(
    `CPU in % of one core (${coreCount} cores = ${coreCount * 100}%): bench process, ledger process, PostgreSQL, everything else on the machine.\n`,
  );
  printRatios(measurements);
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

async function printMachine(pool: PgPool, settings: Settings, ledger: LedgerProcess): Promise<void> {
  const { rows } = await pool.query<{ version: string; synchronous_commit: string; max_connections: string }>(
    `SELECT current_setting('server_version') AS version, current_setting('synchronous_commit') AS synchronous_commit,
            current_setting('max_connections') AS max_connections`,
  );
  const cpus = os.cpus();
  console.log(`node ${process.version}, ${cpus.length} CPUs (${cpus[0]?.model ?? "unknown"}), load average ${os.loadavg()[0]?.toFixed(2)}`);
  console.log(
    `PostgreSQL ${rows[0]?.version}, synchronous_commit=${rows[0]?.synchronous_commit}, max_connections=${rows[0]?.max_connections}`,
  );
  console.log(
    `${settings.accountCount} accounts; ${settings.durationMs / 1000} s per scenario after ${settings.warmupMs / 1000} s warm-up; ` +
      `ledger in its own process (pid ${ledger.pid}, ${ledger.url}, ${serverPoolMax} PostgreSQL connections); ` +
      `raw SQL pool = concurrency, at most ${rawPoolMax}`,
  );
}

// ---- verification -----------------------------------------------------------------------

type Tables = { label: string; accounts: string; transfers: string };

const ledgerTables: Tables = { label: "ledger", accounts: "ledger.ledger_accounts", transfers: "ledger.ledger_transfers" };
const benchTables: Tables = { label: "raw SQL", accounts: "bench_accounts", transfers: "bench_transfers" };

async function verify(pool: PgPool, tables: Tables, prefix: string, createdCount: number): Promise<string[]> {
  const problems: string[] = [];
  const sums = await pool.query<{ currency: string; debits: string; credits: string }>(
    `SELECT currency, sum(debits_posted)::text AS debits, sum(credits_posted)::text AS credits
       FROM ${tables.accounts} GROUP BY currency ORDER BY currency`,
  );
  for (const { currency: code, debits, credits } of sums.rows) {
    const verdict = debits === credits ? "(equal)" : "(DIFFERENT)";
    console.log(`${tables.label} ${code}: Σ debits_posted = ${debits}, Σ credits_posted = ${credits} ${verdict}`);
    if (debits !== credits) problems.push(`${tables.label} ${code} debits and credits differ`);
  }
  const stored = await pool.query<{ count: string }>(`SELECT count(*)::text AS count FROM ${tables.transfers} WHERE starts_with(id, $1)`, [
    `${prefix}-t`,
  ]);
  const storedCount = Number(stored.rows[0]?.count ?? 0);
  console.log(`${tables.label}: transfers stored this run: ${storedCount}, reported created (incl. warm-up): ${createdCount}`);
  if (storedCount !== createdCount) problems.push(`${tables.label}: stored transfer count differs from the reported one`);
  return [...problems, ...(await verifyBalancesMatchTransfers(pool, tables, prefix))];
}

/**
 * Each bench account's posted totals must equal the sums of the transfers that touch it. Only
 * plain and opening-balance transfers count: the only kinds the bench makes, and the ones whose
 * amount lands in posted totals at once (a pending one reserves, its post is a later row).
 */
async function verifyBalancesMatchTransfers(pool: PgPool, tables: Tables, prefix: string): Promise<string[]> {
  const accountPrefix = `${prefix}-a`;
  const { rows } = await pool.query<{ count: string }>(
    `WITH posted AS (
       SELECT debit_account_id, credit_account_id, amount FROM ${tables.transfers}
        WHERE kind = ANY($2::integer[]) AND (starts_with(debit_account_id, $1) OR starts_with(credit_account_id, $1))),
     legs AS (
       SELECT debit_account_id AS id, amount AS debits, 0::bigint AS credits FROM posted
       UNION ALL SELECT credit_account_id, 0, amount FROM posted),
     totals AS (SELECT id, sum(debits) AS debits, sum(credits) AS credits FROM legs GROUP BY id)
     SELECT count(*)::text AS count FROM ${tables.accounts} a LEFT JOIN totals t USING (id)
      WHERE starts_with(a.id, $1) AND (a.debits_posted <> coalesce(t.debits, 0) OR a.credits_posted <> coalesce(t.credits, 0))`,
    [accountPrefix, [TransferKind.TRANSFER, TransferKind.OPENING_BALANCE]],
  );
  const mismatchedCount = Number(rows[0]?.count ?? 0);
  console.log(`${tables.label}: accounts whose balances disagree with their transfers: ${mismatchedCount}`);
  return mismatchedCount === 0 ? [] : [`${tables.label}: ${mismatchedCount} accounts disagree with their transfers`];
}

// ---- main -------------------------------------------------------------------------------

function scenarios(settings: Settings, databaseUrl: string, ledgerUrl: string, token: string): Scenario[] {
  const grpc = (batchSize: number, concurrency: number): Scenario => ({
    side: "gRPC",
    name: "gRPC CreateTransfers",
    batchSize,
    concurrency,
    // Nothing to close: the clients' connections end when the ledger stops.
    open: () => ({ senders: Array.from({ length: concurrency }, () => grpcSend(benchClient(ledgerUrl, token))), close: async () => {} }),
  });
  const raw = (name: string, batchSize: number, concurrency: number, send: (pool: PgPool) => Send): Scenario => ({
    side: "raw",
    name,
    batchSize,
    concurrency,
    open: () => {
      const pool = rawPool(databaseUrl, Math.min(concurrency, rawPoolMax));
      return { senders: Array.from({ length: concurrency }, () => send(pool)), close: () => pool.end() };
    },
  });
  // gRPC and raw SQL alternate per shape, so each pair runs with PostgreSQL in a similar state
  // (tables of similar size, the same checkpoints and autovacuum behind it).
  return [
    ...settings.concurrencies.flatMap((concurrency) => [
      grpc(1, concurrency),
      raw("raw SQL, tx per transfer", 1, concurrency, rawSendOneTransactionEach),
    ]),
    grpc(settings.batchSize, settings.batchConcurrency),
    raw("raw SQL, set-based", settings.batchSize, settings.batchConcurrency, rawSendSetBased),
  ];
}

type RunTotals = { measured: Measurement[]; createdCount: Record<Side, number> };

async function runScenarios(list: readonly Scenario[], work: Workload, settings: Settings, probe: CpuProbe): Promise<RunTotals> {
  const totals: RunTotals = { measured: [], createdCount: { gRPC: 0, raw: 0 } };
  for (const scenario of list) {
    console.log(`running ${scenario.name}, batch ${scenario.batchSize}, concurrency ${scenario.concurrency}…`);
    const { senders, close } = scenario.open();
    try {
      // Warm-up opens connections and lets both processes' JIT settle; its transfers are kept and checked too.
      if (settings.warmupMs > 0) {
        totals.createdCount[scenario.side] += (await measure(scenario, senders, work, settings.warmupMs, probe)).createdCount;
      }
      const m = await measure(scenario, senders, work, settings.durationMs, probe);
      totals.createdCount[scenario.side] += m.createdCount;
      totals.measured.push(m);
    } finally {
      await close();
    }
  }
  return totals;
}

async function bench(settings: Settings, databaseUrl: string, ledger: LedgerProcess, pool: PgPool): Promise<boolean> {
  await printMachine(pool, settings, ledger);
  const prefix = uniquePrefix("bench");
  const work: Workload = { prefix, accountIds: Array.from({ length: settings.accountCount }, (_, i) => `${prefix}-a${i}`), issuedCount: 0 };
  const token = await createAuth(jwtSecret).issue({ subject: "bench", roles: ["service"] }, tokenTtlSeconds);
  const setupStartedMs = performance.now();
  await createAccounts(benchClient(ledger.url, token), work.accountIds);
  await seedBenchTables(pool, work.accountIds);
  console.log(
    `created ${work.accountIds.length} accounts on each side in ${(performance.now() - setupStartedMs).toFixed(0)} ms (run prefix ${prefix})`,
  );
  const { measured, createdCount } = await runScenarios(scenarios(settings, databaseUrl, ledger.url, token), work, settings, {
    ledgerPid: ledger.pid,
    pool,
  });
  printResults(measured);
  const failedCount = printFailures(measured);
  const problems = [
    ...(await verify(pool, ledgerTables, prefix, createdCount.gRPC)),
    ...(await verify(pool, benchTables, prefix, createdCount.raw)),
  ];
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
  const ledger = await startLedgerProcess(databaseUrl).catch((error: unknown) => {
    console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
  // Setup and checks only; each raw SQL scenario opens its own pool sized to its concurrency.
  const pool = rawPool(databaseUrl, 2);
  try {
    process.exitCode = (await bench(settings, databaseUrl, ledger, pool)) ? 0 : 1;
  } catch (error) {
    // Setup or a check could not run at all; the ledger's own log line (above) usually says why.
    console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  } finally {
    await pool.end();
    await ledger.stop();
  }
}

await main();
