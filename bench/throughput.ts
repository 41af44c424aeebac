// Transfers/s, p50/p99 and CPU per transfer of each process, with the mesh run as production runs
// it and driven by C load generators (wrk, h2load) so the client costs little, beside pgbench
// doing the same transfer in SQL against the same PostgreSQL server, in one run (issue 13).
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { create, toBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import {
  AccountType,
  CreateAccountStatus,
  CreateTransferRequestSchema,
  LedgerService,
  TransferKind,
} from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { createMeshTransport } from "@qenex/platform";
import pg from "pg";
import {
  buildQenexBundle,
  node,
  qenexBundleArgs,
  qenexEnv,
  qenexToken,
  serviceProcesses,
  startMesh,
} from "../packages/cli/src/testing/mesh.ts";
import { benchSchemaSql } from "./bench-schema.ts";

const benchDir = fileURLToPath(new URL(".", import.meta.url));
const luaScript = path.join(benchDir, "throughput-transfer.lua");
// Whole seconds: pgbench's -T takes nothing else.
const seconds = setting("BENCH_SECONDS", "10", 1, 3600)[0] as number;
const warmupSeconds = setting("BENCH_WARMUP_SECONDS", "2", 0, 600)[0] as number;
const connectionCounts = setting("BENCH_CONNECTIONS", "16,64", 1, 256);
// h2load gives each connection two accounts of its own, so at least twice the most connections.
const accountCount = setting("BENCH_ACCOUNTS", "1000", 2 * Math.max(...connectionCounts), 1_000_000)[0] as number;
/** Substrings of row names, separated by "|" ("ledger alone, gRPC|mesh: edge"): only rows naming one run. */
const rowFilters = (process.env.BENCH_ROWS ?? "").split("|").filter((f) => f.length > 0);
const wanted = (rowPath: string) => rowFilters.length === 0 || rowFilters.some((f) => rowPath.includes(f));
/** Extra arguments to `qenex start` for the mesh rows, such as `--workers edge=2`. */
const meshArgs = (process.env.BENCH_MESH_ARGS ?? "").split(" ").filter((a) => a.length > 0);
/** Where the services write CPU profiles (node --cpu-prof), when set. */
const profileDir = process.env.BENCH_PROFILE_DIR;
const serverUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
// Fixed so `qenex token` and the servers agree; it only guards throwaway servers on 127.0.0.1.
const jwtSecret = "bench-secret-bench-secret-bench-secret-0";
const accountsPerRequestMax = 8190;
const stopTimeoutMs = 20_000;
/** The longest the bench waits for the risk monitor to catch up after a row. */
const riskCatchUpMaxS = 300;
const services = ["ledger", "edge", "risk", "payments", "auth"] as const;
// Keeps this run's ids apart: transfer ids of wrk's runs and pgbench's, account ids.
const runPrefix = `tp${Date.now().toString(36)}`;
const accountPrefix = `${runPrefix}-a`;
const ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;

/** A comma-separated list of whole numbers from the environment, each within [minimum, maximum]. */
function setting(name: string, fallback: string, minimum: number, maximum: number): number[] {
  const values = (process.env[name] ?? fallback).split(",").map(Number);
  if (values.some((v) => !Number.isInteger(v) || v < minimum || v > maximum)) {
    throw new Error(`${name} must be whole numbers from ${minimum} to ${maximum}, got "${process.env[name]}"`);
  }
  return values;
}

// ---- tools --------------------------------------------------------------------------------

function ensureTools(): void {
  const has = (bin: string) => spawnOk("sh", ["-c", `command -v ${bin}`]);
  // On Debian pgbench comes with the server package, which postgresql-contrib pulls in.
  const missing = [
    ["wrk", "wrk"],
    ["h2load", "nghttp2-client"],
    ["pgbench", "postgresql-contrib"],
  ].filter(([bin]) => !has(bin as string));
  if (missing.length === 0) return;
  const packages = missing.map(([, pkg]) => pkg as string);
  console.log(`installing ${packages.join(", ")} with apt-get…`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
  execFileSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...packages], { stdio: "inherit", env });
}

function spawnOk(command: string, args: string[]): boolean {
  try {
    execFileSync(command, args, { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Runs a load generator to its end; its output, or an error naming it and its last words. */
function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk));
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0 ? resolve(output) : reject(new Error(`${command} exited with ${code}:\n${output.slice(-2000)}`)),
    );
  });
}

// ---- load: what one measured run reports --------------------------------------------------

/** seconds: what the tool measured over (pgbench's leaves out connecting, slow for 64 backends). */
type Load = {
  successCount: number;
  errorCount: number;
  errorKinds?: string;
  p50Ms: number;
  p99Ms: number;
  seconds: number;
  /** CPU the client itself spent, when the client is this process (a Node client). */
  clientCpuMs?: number;
};

function percentileMs(sortedUs: Float64Array, percent: number): number {
  return (sortedUs[Math.max(0, Math.ceil((percent / 100) * sortedUs.length) - 1)] ?? Number.NaN) / 1000;
}

function fromLatencies(latenciesUs: number[], errorCount: number, seconds: number): Load {
  const sorted = Float64Array.from(latenciesUs).sort();
  return { successCount: sorted.length, errorCount, p50Ms: percentileMs(sorted, 50), p99Ms: percentileMs(sorted, 99), seconds };
}

let invocationCount = 0;

/** wrk with the Lua script: Connect JSON to the ledger or REST to the edge. */
async function wrk(url: string, token: string, connections: number, durationS: number): Promise<Load> {
  const runId = `${runPrefix}-w${invocationCount++}`;
  const output = await run("wrk", [
    ...["-t", String(Math.min(2, connections)), "-c", String(connections), "-d", `${durationS}s`, "--timeout", "10s"],
    ...[
      "-s",
      luaScript,
      "-H",
      "content-type: application/json",
      "-H",
      "connect-protocol-version: 1",
      "-H",
      `authorization: Bearer ${token}`,
    ],
    ...[url, "--", runId, accountPrefix, String(accountCount)],
  ]);
  const line = /^wrk-result (.*)$/m.exec(output)?.[1];
  if (!line) throw new Error(`wrk printed no result:\n${output}`);
  const v = Object.fromEntries(
    line
      .split(" ")
      .map((kv) => kv.split("=") as [string, string])
      .map(([k, n]) => [k, Number(n)]),
  );
  const errorKinds = ["status_errors", "connect_errors", "read_errors", "write_errors", "timeouts"].filter((k) => (v[k] ?? 0) > 0);
  const errorCount = errorKinds.reduce((sum, k) => sum + (v[k] ?? 0), 0);
  const successCount = (v.requests ?? 0) - (v.status_errors ?? 0);
  const toMs = (us: number | undefined) => (us ?? Number.NaN) / 1000;
  return {
    successCount,
    errorCount,
    errorKinds: errorKinds.map((k) => `${k}=${v[k]}`).join(" "),
    p50Ms: toMs(v.p50_us),
    p99Ms: toMs(v.p99_us),
    seconds: toMs(v.duration_us) / 1000,
  };
}

/**
 * h2load sends one body for every request, so the ledger makes the id (transfer_id left empty:
 * a new transfer each time, never an idempotent replay) and each connection is an h2load of its
 * own with a pair of accounts of its own: no two connections contend on an account row.
 */
async function h2load(url: string, token: string, connections: number, durationS: number): Promise<Load> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "qenex-h2load-"));
  try {
    const runs = Array.from({ length: connections }, (_, i) => {
      const request = create(CreateTransferRequestSchema, {
        sourceAccount: `${accountPrefix}${(2 * i) % accountCount}`,
        destinationAccount: `${accountPrefix}${(2 * i + 1) % accountCount}`,
        amount: "0.01",
        currency: "USD",
        reference: "bench",
      });
      const message = toBinary(CreateTransferRequestSchema, request);
      // A gRPC length-prefixed message: flags byte 0 (not compressed), 4-byte big-endian length.
      const frame = Buffer.alloc(5 + message.length);
      frame.writeUInt32BE(message.length, 1);
      frame.set(message, 5);
      fs.writeFileSync(path.join(dir, `${i}.bin`), frame);
      return run("h2load", [
        ...["-c", "1", "-t", "1", "-m", "1", "-D", String(durationS), "-d", path.join(dir, `${i}.bin`)],
        ...["-H", "content-type: application/grpc", "-H", "te: trailers", "-H", `authorization: Bearer ${token}`],
        ...[`--log-file=${path.join(dir, `${i}.log`)}`, `${url}/qenex.ledger.v1.LedgerService/CreateTransfer`],
      ]);
    });
    await Promise.all(runs);
    // Each log line: start (µs since epoch), HTTP status, µs to the end of the response.
    const latenciesUs: number[] = [];
    let errorCount = 0;
    for (let i = 0; i < connections; i++) {
      for (const line of fs.readFileSync(path.join(dir, `${i}.log`), "utf8").split("\n")) {
        const [, status, latencyUs] = line.split("\t");
        if (status === undefined) continue;
        if (status === "200") latenciesUs.push(Number(latencyUs));
        else errorCount++;
      }
    }
    return fromLatencies(latenciesUs, errorCount, durationS);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A Node client in this process, as one QENEX service calls another: `connections` calls in
 * flight over one HTTP/2 session, gRPC or Connect with binary protobuf (createMeshTransport).
 * Its rows compare the two protocols' CPU at both ends, which chose the mesh's transport.
 */
async function nodeClient(url: string, token: string, protocol: "grpc" | "connect", connections: number, durationS: number): Promise<Load> {
  const transport = protocol === "grpc" ? createGrpcTransport({ baseUrl: url }) : createMeshTransport({ baseUrl: url });
  const client = createClient(LedgerService, transport);
  const headers = { authorization: `Bearer ${token}` };
  const latenciesUs: number[] = [];
  let errorCount = 0;
  let sent = 0;
  const endAt = performance.now() + durationS * 1000;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < endAt) {
        const source = Math.floor(Math.random() * accountCount);
        const destination = (source + 1 + Math.floor(Math.random() * (accountCount - 1))) % accountCount;
        const callStarted = performance.now();
        try {
          await client.createTransfer(
            {
              transferId: `${runPrefix}-n${invocationCount}-${sent++}`,
              sourceAccount: `${accountPrefix}${source}`,
              destinationAccount: `${accountPrefix}${destination}`,
              amount: "0.01",
              currency: "USD",
              reference: "bench",
            },
            { headers },
          );
          latenciesUs.push((performance.now() - callStarted) * 1000);
        } catch {
          errorCount++;
        }
      }
    }),
  );
  invocationCount++;
  const cpu = process.cpuUsage(cpuBefore);
  return { ...fromLatencies(latenciesUs, errorCount, (performance.now() - started) / 1000), clientCpuMs: (cpu.user + cpu.system) / 1000 };
}

/** pgbench runs the transfer in SQL against bench_accounts/bench_transfers in the bench database. */
async function pgbench(databaseUrl: string, script: string, connections: number, durationS: number): Promise<Load> {
  const url = new URL(databaseUrl);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "qenex-pgbench-"));
  try {
    const output = await run("pgbench", [
      ...["-n", "-M", "prepared", "-c", String(connections), "-j", "2", "-T", String(durationS), "-f", script],
      ...["--log", `--log-prefix=${path.join(dir, "pgbench")}`],
      ...["-h", url.hostname, "-p", url.port || "5432", "-U", decodeURIComponent(url.username) || "postgres", url.pathname.slice(1)],
    ]);
    // Each log line: client, transaction number, latency µs ("failed" and the like when it
    // failed), script, epoch s, µs.
    const latencies = fs
      .readdirSync(dir)
      .flatMap((file) => fs.readFileSync(path.join(dir, file), "utf8").split("\n"))
      .filter((line) => line.length > 0)
      .map((line) => Number(line.split(" ")[2]));
    const failedCount = Number(/number of failed transactions: (\d+)/.exec(output)?.[1] ?? 0);
    const latenciesUs = latencies.filter(Number.isFinite);
    // A short run on a busy machine can spend all of -T connecting: no tps then, nothing done.
    const tps = Number(/tps = ([0-9.]+) \(without initial connection time\)/.exec(output)?.[1]);
    const measuredS = tps > 0 ? latenciesUs.length / tps : durationS;
    return fromLatencies(latenciesUs, Math.max(failedCount, latencies.length - latenciesUs.length), measuredS);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ---- CPU ----------------------------------------------------------------------------------

/** Fields of /proc/PID/stat after the command name (which may hold spaces): [0] is the state. */
function statFields(pid: number): string[] {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

function processTicks(pid: number, withReapedChildren = false): number {
  const f = statFields(pid).map(Number);
  // utime, stime; then cutime, cstime: children that exited and were waited for.
  return (f[11] ?? 0) + (f[12] ?? 0) + (withReapedChildren ? (f[13] ?? 0) + (f[14] ?? 0) : 0);
}

/**
 * All of PostgreSQL: the postmaster, its live children, and (through cutime) the ones that
 * exited, such as pgbench's backends, which are gone by the time the run ends. Other databases'
 * backends on the same server count too.
 */
function liveChildren(pid: number): number[] {
  return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
}

function postgresTicks(postmasterPid: number): number {
  const children = liveChildren(postmasterPid);
  return children.reduce(
    (sum, pid) => {
      try {
        return sum + processTicks(pid);
      } catch {
        return sum; // exited between the two reads; its time is in cutime next time
      }
    },
    processTicks(postmasterPid, true),
  );
}

function hostTicks(): { busy: number; total: number } {
  const [user, nice, system, idle, iowait, irq, softirq, steal] = (fs.readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "")
    .trim()
    .split(/\s+/)
    .slice(1, 9)
    .map(Number) as number[];
  const busy = (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0);
  return { busy, total: busy + (idle ?? 0) + (iowait ?? 0) };
}

type CpuSample = { byName: Map<string, number>; host: { busy: number; total: number } };

function cpuSample(pids: Map<string, number>, postmasterPid: number): CpuSample {
  // A service run with --workers is a primary with cluster workers as its children: all count.
  const ticks = (name: string, pid: number) => {
    try {
      return liveChildren(pid).reduce(
        (sum, child) => {
          try {
            return sum + processTicks(child);
          } catch {
            return sum; // exited between the two reads; its time is in the primary's cutime next time
          }
        },
        processTicks(pid, true),
      );
    } catch {
      throw new Error(`the ${name} process (pid ${pid}) is gone: it died (the supervisor may have restarted it)`);
    }
  };
  const byName = new Map([...pids].map(([name, pid]) => [name, ticks(name, pid)]));
  byName.set("pg", postgresTicks(postmasterPid));
  return { byName, host: hostTicks() };
}

// ---- the bench database, the accounts, the SQL transfer -----------------------------------

async function onServer<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function createAccounts(ledgerUrl: string, token: string): Promise<void> {
  const client = createClient(LedgerService, createGrpcTransport({ baseUrl: ledgerUrl }));
  const ids = Array.from({ length: accountCount }, (_, i) => `${accountPrefix}${i}`);
  for (let start = 0; start < ids.length; start += accountsPerRequestMax) {
    const accounts = ids
      .slice(start, start + accountsPerRequestMax)
      .map((accountId) => ({ accountId, accountType: AccountType.CHECKING, currency: "USD", initialBalance: "1000000.00" }));
    const { results } = await client.createAccounts({ accounts }, { headers: { authorization: `Bearer ${token}` } });
    const refused = results.find((r) => r.status !== CreateAccountStatus.CREATED);
    if (refused || results.length !== accounts.length) throw new Error(`CreateAccounts refused: ${refused?.message ?? "result count"}`);
  }
}

/**
 * pgbench's own tables in the same database, shaped like the ledger's schema version 1, with the
 * same accounts and balances: what bench/transfers.ts's raw SQL baseline writes.
 */

async function seedBenchTables(databaseUrl: string): Promise<void> {
  await onServer(databaseUrl, async (client) => {
    await client.query(benchSchemaSql);
    await client.query(
      `INSERT INTO bench_accounts (id, account_type, currency, debits_must_not_exceed_credits, credits_posted)
       SELECT $1 || i, $2, 'USD', true, 100000000 FROM generate_series(0, $3 - 1) AS i`,
      [accountPrefix, AccountType.CHECKING, accountCount],
    );
  });
}

/**
 * The ledger's transfer as a transaction, as bench/transfers.ts's "tx per transfer": lock both
 * accounts in id order, insert the transfer, update both balances. The no-overdraft CHECK stands
 * in for the funds check the baseline does in JS. 63 random bits make a unique enough id.
 */
function pgbenchScript(): string {
  const account = (variable: string) => `'${accountPrefix}' || :${variable}`;
  return `\\set src random(0, ${accountCount - 1})
\\set dst (:src + random(1, ${accountCount - 1})) % ${accountCount}
\\set n random(1, 9223372036854775806)
BEGIN;
SELECT id, currency, status, debits_must_not_exceed_credits, debits_posted, credits_posted, debits_pending FROM bench_accounts WHERE id IN (${account("src")}, ${account("dst")}) ORDER BY id FOR UPDATE;
INSERT INTO bench_transfers (id, debit_account_id, credit_account_id, amount, currency, reference, kind) VALUES ('${runPrefix}-pg' || :n, ${account("src")}, ${account("dst")}, 1, 'USD', 'bench', ${TransferKind.TRANSFER});
UPDATE bench_accounts SET debits_posted = debits_posted + CASE WHEN id = ${account("src")} THEN 1 ELSE 0 END, credits_posted = credits_posted + CASE WHEN id = ${account("dst")} THEN 1 ELSE 0 END WHERE id IN (${account("src")}, ${account("dst")});
END;
`;
}

// ---- measuring ----------------------------------------------------------------------------

type Row = {
  path: string;
  connections: number;
  load: Load;
  cpuMsPerTransfer: Map<string, number>;
  hostBusy: number;
  /** The risk monitor's lag behind the ledger when the load stopped, and how long it took to catch up. */
  riskLag?: { transfersBehind: number; catchUpS: number };
  /** Mean transfers per group-commit transaction and mean time per transaction. */
  groups?: { meanTransfers: number; meanWriteMs: number };
};
type GroupStats = { groups: number; transfers: number; writeSeconds: number };

/** The ledger's group-commit histograms' sums and counts, from its /metrics. */
async function groupStats(ledgerUrl: string): Promise<GroupStats> {
  const text = await (await fetch(`${ledgerUrl}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name} ([0-9.e+-]+)$`, "m").exec(text)?.[1] ?? Number.NaN);
  return {
    groups: value("qenex_ledger_group_transfers_count"),
    transfers: value("qenex_ledger_group_transfers_sum"),
    writeSeconds: value("qenex_ledger_group_write_seconds_sum"),
  };
}

type Target = {
  /** The ledger this path reaches, for its group-commit figures. */
  ledgerUrl?: string;
  path: string;
  drive(connections: number, durationS: number): Promise<Load>;
  /** Rows of the table this path writes, to check every answered transfer was really created. */
  transfersTable: string;
  pids: Map<string, number>;
  /** The whole mesh runs: the risk monitor follows the ledger, and the row waits for it to catch up. */
  withRiskMonitor?: boolean;
};

/** How far behind the ledger's head the risk monitor's saved cursor is, in transfers. */
function riskLagOf(databaseUrl: string): Promise<number> {
  return onServer(databaseUrl, async (c) => {
    const { rows } = await c.query(
      `SELECT (SELECT commit_seq FROM ledger.ledger_head) - COALESCE((SELECT after_sequence FROM risk.risk_monitor_cursor WHERE name = 'ledger'), 0) AS behind`,
    );
    return Number(rows[0].behind);
  });
}

/** Polls the risk monitor's lag until it is zero; seconds it took (bounded by riskCatchUpMaxS). */
async function riskCatchUp(databaseUrl: string): Promise<{ transfersBehind: number; catchUpS: number }> {
  const started = performance.now();
  const transfersBehind = await riskLagOf(databaseUrl);
  let behind = transfersBehind;
  while (behind > 0) {
    if (performance.now() - started > riskCatchUpMaxS * 1000)
      throw new Error(`the risk monitor is still ${behind} transfers behind after ${riskCatchUpMaxS} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    behind = await riskLagOf(databaseUrl);
  }
  return { transfersBehind, catchUpS: (performance.now() - started) / 1000 };
}

async function measure(t: Target, connections: number, databaseUrl: string, postmasterPid: number): Promise<Row> {
  console.log(`${t.path}, ${connections} connections…`);
  if (warmupSeconds > 0) await t.drive(connections, warmupSeconds);
  // Each row starts with the monitor caught up, so its lag is this row's own.
  if (t.withRiskMonitor) await riskCatchUp(databaseUrl);
  const count = () => onServer(databaseUrl, async (c) => Number((await c.query(`SELECT count(*) FROM ${t.transfersTable}`)).rows[0].count));
  const countBefore = await count();
  const before = cpuSample(t.pids, postmasterPid);
  const groupsBefore = t.ledgerUrl ? await groupStats(t.ledgerUrl) : undefined;
  const load = await t.drive(connections, seconds);
  const groupsAfter = t.ledgerUrl ? await groupStats(t.ledgerUrl) : undefined;
  // The monitor's catch-up is part of each transfer's cost: CPU is read once it is done.
  const riskLag = t.withRiskMonitor ? await riskCatchUp(databaseUrl) : undefined;
  const after = cpuSample(t.pids, postmasterPid);
  const createdCount = (await count()) - countBefore;
  if (load.successCount === 0) throw new Error(`${t.path}: no transfer succeeded in ${seconds} s`);
  // An answer that created nothing (a gRPC error in trailers, a replay) would inflate the rate.
  if (createdCount < load.successCount) {
    throw new Error(`${t.path}: ${load.successCount} successful answers but only ${createdCount} new rows in ${t.transfersTable}`);
  }
  const cpuMsPerTransfer = new Map(
    [...after.byName].map(([name, ticks]) => [
      name,
      ((ticks - (before.byName.get(name) ?? 0)) * 1000) / ticksPerSecond / load.successCount,
    ]),
  );
  if (load.clientCpuMs !== undefined) cpuMsPerTransfer.set("client", load.clientCpuMs / load.successCount);
  const hostBusy = (after.host.busy - before.host.busy) / (after.host.total - before.host.total);
  const groups =
    groupsBefore && groupsAfter
      ? {
          meanTransfers: (groupsAfter.transfers - groupsBefore.transfers) / (groupsAfter.groups - groupsBefore.groups),
          meanWriteMs: (1000 * (groupsAfter.writeSeconds - groupsBefore.writeSeconds)) / (groupsAfter.groups - groupsBefore.groups),
        }
      : undefined;
  return { path: t.path, connections, load, cpuMsPerTransfer, hostBusy, ...(riskLag ? { riskLag } : {}), ...(groups ? { groups } : {}) };
}

// ---- the processes under test -------------------------------------------------------------

type Started = { pid: number; urls: Record<string, string>; output(): string; stop(): Promise<void> };

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const timer = setTimeout(() => child.kill("SIGKILL"), stopTimeoutMs);
      child.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill("SIGTERM");
    });
}

function startLedgerAlone(env: NodeJS.ProcessEnv): Promise<Started> {
  const child = spawn(node, [...qenexBundleArgs, "serve", "ledger"], { env, stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let output = "";
    const collect = (chunk: Buffer) => {
      output += chunk;
      const url = /QENEX ledger listening on (http:\/\/\S+)/.exec(output)?.[1];
      if (url && child.pid) resolve({ pid: child.pid, urls: { ledger: url }, output: () => output, stop: stopper(child) });
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    child.once("exit", (code) => reject(new Error(`qenex serve ledger exited with ${code}: ${output}`)));
  });
}

async function startWholeMesh(env: NodeJS.ProcessEnv): Promise<Started> {
  const mesh = await startMesh(env, meshArgs, "bundle");
  return { pid: mesh.child.pid as number, urls: mesh.urls, output: mesh.output, stop: stopper(mesh.child) };
}

// ---- report -------------------------------------------------------------------------------

function printTable(rows: readonly Row[]): void {
  const cpuColumns = [...services, "pg", "client"];
  const header = ["path", "conns", "transfers/s", "p50 ms", "p99 ms", ...cpuColumns, "host busy", "group", "group ms"];
  const cells = rows.map((r) => [
    r.path,
    String(r.connections),
    (r.load.successCount / r.load.seconds).toFixed(0),
    r.load.p50Ms.toFixed(1),
    r.load.p99Ms.toFixed(1),
    ...cpuColumns.map((name) => r.cpuMsPerTransfer.get(name)?.toFixed(2) ?? "-"),
    `${(100 * r.hostBusy).toFixed(0)}%`,
    r.groups?.meanTransfers.toFixed(1) ?? "-",
    r.groups?.meanWriteMs.toFixed(1) ?? "-",
  ]);
  const all = [header, ...cells];
  const widths = header.map((_, c) => Math.max(...all.map((row) => row[c]?.length ?? 0)));
  console.log(
    `\n${all.map((row) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join("  ")).join("\n")}`,
  );
  console.log(
    `\n${cpuColumns.join(", ")}: CPU ms per transfer of each process (pg: all of PostgreSQL; client: the bench's own Node client, ` +
      `where it is one); host busy: all ${os.availableParallelism()} cores; group, group ms: mean transfers per group-commit ` +
      "transaction of the ledger (the mesh's share included) and its mean duration.",
  );
  const rate = (p: string, c: number) => {
    const r = rows.find((row) => row.path === p && row.connections === c);
    return r ? r.load.successCount / r.load.seconds : Number.NaN;
  };
  for (const r of rows) {
    if (r.riskLag) {
      console.log(
        `${r.path} at ${r.connections}: the risk monitor was ${r.riskLag.transfersBehind} transfers behind when the load stopped, ` +
          `caught up in ${r.riskLag.catchUpS.toFixed(1)} s`,
      );
    }
  }
  for (const c of connectionCounts) {
    const ratio = (a: string, b: string) => `${(rate(a, c) / rate(b, c)).toFixed(2)}×`;
    console.log(
      `${c} connections: ledger alone gRPC ÷ pgbench ${ratio("ledger alone, gRPC", "pgbench, SQL transfer")}, ` +
        `Connect JSON ÷ pgbench ${ratio("ledger alone, Connect JSON", "pgbench, SQL transfer")}; ` +
        `mesh: edge REST ÷ ledger gRPC ${ratio("mesh: edge, REST", "mesh: ledger, gRPC")}`,
    );
  }
}

// ---- main ---------------------------------------------------------------------------------

async function main(): Promise<void> {
  ensureTools();
  // The services run as `pnpm start` runs them: the bundle, not the tsx loader.
  buildQenexBundle();
  const databaseName = `qenex_throughput_${Date.now().toString(36)}`;
  await onServer(serverUrl, (c) => c.query(`CREATE DATABASE ${databaseName}`));
  const url = new URL(serverUrl);
  url.pathname = `/${databaseName}`;
  const databaseUrl = url.toString();
  const meshDatabaseName = `${databaseName}_mesh`;
  url.pathname = `/${meshDatabaseName}`;
  const meshDatabaseUrl = url.toString();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "qenex-throughput-"));
  const script = path.join(dataDir, "transfer.sql");
  fs.writeFileSync(script, pgbenchScript());
  const env = {
    ...qenexEnv(dataDir),
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    QENEX_JWT_SECRET: jwtSecret,
    // One client address and one principal send everything; the limits have tests of their own.
    QENEX_RATE_LIMIT_PRINCIPAL: "9999999/9999999",
    QENEX_RATE_LIMIT_IP: "9999999/9999999",
    ...(profileDir ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --cpu-prof --cpu-prof-dir=${path.resolve(profileDir)}` } : {}),
  };
  const rows: Row[] = [];
  let running: Started | undefined;
  try {
    const postmasterPid = await onServer(databaseUrl, async (c) => {
      const backendPid = Number((await c.query("SELECT pg_backend_pid() AS pid")).rows[0].pid);
      return Number(statFields(backendPid)[1]);
    });
    const token = await qenexToken(env, "operator");
    console.log(
      `database ${databaseName}, ${accountCount} accounts, ${seconds} s per row after ${warmupSeconds} s warm-up; ` +
        `${os.availableParallelism()} cores, load average ${os.loadavg()[0]?.toFixed(2)} before the run` +
        (meshArgs.length > 0 ? `; mesh: qenex start ${meshArgs.join(" ")}` : ""),
    );

    running = await startLedgerAlone(env);
    await createAccounts(running.urls.ledger as string, token);
    await seedBenchTables(databaseUrl);
    const alone = new Map([["ledger", running.pid]]);
    const ledgerAlone = running.urls.ledger as string;
    const targets: Target[] = [
      {
        path: "pgbench, SQL transfer",
        drive: (c, s) => pgbench(databaseUrl, script, c, s),
        transfersTable: "bench_transfers",
        pids: new Map(),
      },
      {
        path: "ledger alone, Connect JSON",
        drive: (c, s) => wrk(`${ledgerAlone}/qenex.ledger.v1.LedgerService/CreateTransfer`, token, c, s),
        transfersTable: "ledger.ledger_transfers",
        ledgerUrl: ledgerAlone,
        pids: alone,
      },
      {
        path: "ledger alone, gRPC",
        drive: (c, s) => h2load(ledgerAlone, token, c, s),
        transfersTable: "ledger.ledger_transfers",
        ledgerUrl: ledgerAlone,
        pids: alone,
      },
      {
        path: "ledger alone, gRPC, Node client",
        drive: (c, s) => nodeClient(ledgerAlone, token, "grpc", c, s),
        transfersTable: "ledger.ledger_transfers",
        ledgerUrl: ledgerAlone,
        pids: alone,
      },
      {
        path: "ledger alone, Connect proto, Node client",
        drive: (c, s) => nodeClient(ledgerAlone, token, "connect", c, s),
        transfersTable: "ledger.ledger_transfers",
        ledgerUrl: ledgerAlone,
        pids: alone,
      },
    ];
    for (const c of connectionCounts)
      for (const t of targets.filter((t) => wanted(t.path))) rows.push(await measure(t, c, databaseUrl, postmasterPid));
    await running.stop();
    running = undefined;
    const meshRowPaths = ["mesh: ledger, Connect JSON", "mesh: ledger, gRPC", "mesh: edge, REST"];
    if (meshRowPaths.some(wanted)) {
      // The mesh gets a database of its own: on the first one its risk monitor would start by
      // scoring every transfer the ledger alone committed, and each row would wait for that.
      await onServer(serverUrl, (c) => c.query(`CREATE DATABASE ${meshDatabaseName}`));
      running = await startWholeMesh({ ...env, DATABASE_URL: meshDatabaseUrl });
      await createAccounts(running.urls.ledger as string, token);
      const pids = serviceProcesses(running.pid);
      const { ledger, edge } = running.urls as { ledger: string; edge: string };
      const meshTargets: Target[] = [
        {
          path: meshRowPaths[0] as string,
          drive: (c, s) => wrk(`${ledger}/qenex.ledger.v1.LedgerService/CreateTransfer`, token, c, s),
          transfersTable: "ledger.ledger_transfers",
          ledgerUrl: ledger,
          pids,
          withRiskMonitor: true,
        },
        {
          path: meshRowPaths[1] as string,
          drive: (c, s) => h2load(ledger, token, c, s),
          transfersTable: "ledger.ledger_transfers",
          ledgerUrl: ledger,
          pids,
          withRiskMonitor: true,
        },
        {
          path: meshRowPaths[2] as string,
          drive: (c, s) => wrk(`${edge}/api/v1/transactions`, token, c, s),
          transfersTable: "ledger.ledger_transfers",
          ledgerUrl: ledger,
          pids,
          withRiskMonitor: true,
        },
      ];
      for (const c of connectionCounts)
        for (const t of meshTargets.filter((t) => wanted(t.path))) rows.push(await measure(t, c, meshDatabaseUrl, postmasterPid));
    }
  } catch (error) {
    // What the services printed says why one died or refused.
    console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
    if (running) console.error(`last output of the services:\n${running.output().slice(-4000)}`);
    process.exitCode = 1;
  } finally {
    await running?.stop();
    printTable(rows);
    if (!process.env.BENCH_KEEP_DATABASE) {
      for (const name of [databaseName, meshDatabaseName])
        await onServer(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  const failed = rows.filter((r) => r.load.errorCount > 0);
  for (const r of failed) {
    console.error(`FAILED ${r.path} at ${r.connections} connections: ${r.load.errorCount} errors ${r.load.errorKinds ?? ""}`);
  }
  if (failed.length > 0) process.exitCode = 1;
}

await main();
