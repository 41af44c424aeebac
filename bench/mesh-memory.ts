// Resident memory (VmRSS) of every process of `qenex start`: the supervisor and one child per
// service (cluster workers and any other descendants included), idle, at its peak under REST
// load through the edge, and after the load, once per storage mode in one run:
// - embedded: no DATABASE_URL, a PGlite per service in a fresh QENEX_DATA_DIR, no Redis;
// - PostgreSQL: DATABASE_URL when set, else postgres://postgres@127.0.0.1:5432/postgres when it
//   answers within 2 s (skipped with a note when it does not). The bench creates a fresh database
//   qenex_bench_mem_<pid> beside that URL's, runs the mesh on it (a schema per service) and drops
//   it at the end. REDIS_URL, when set, is given to this run only (rate limits, idempotency,
//   risk history), as a deployment on PostgreSQL would run.
// Each mode starts the mesh twice on the same data: the first start (fresh data: PGlite's initdb,
// migrations) is measured idle only; the restart, the state a deployment lives in, is measured
// idle (median of 5 samples after --idle-seconds), at its peak (samples every 200 ms while the
// load runs) and after it (again after --idle-seconds).
// Goal: ≤ 150 MB idle per service on PostgreSQL, ≤ 225 MB on embedded (PGlite's WASM heap).
// Run: ./nodew pnpm bench:memory [--transfers 3000 --concurrency 32 --scores 600 --payments 100
//      --idle-seconds 5 --modes embedded,postgres]; about 3 minutes on 2 cores.
// The exit code is 1 when a mesh did not start or a request failed, not when a goal is missed.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import * as readline from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { anyFreePortsEnv } from "@qenex/platform";
import pg from "pg";

const repoRoot = fileURLToPath(new URL("../", import.meta.url));
// As `pnpm start` runs it: the bundle, built once at the start of the bench (no tsx loader).
const cliMainPath = path.join(repoRoot, "packages/cli/dist/qenex.mjs");
const defaultPostgresUrl = "postgres://postgres@127.0.0.1:5432/postgres";
const adminPassword = "password";
const jwtSecret = "bench-secret-bench-secret-bench-secret-0";
const auditKey = "bench-audit-key-bench-audit-key-bench-0";
// The bench is one client address and one principal: the edge's limits would measure the limiter.
const rateLimitUnbounded = "1000000/1000000";
const meshStartTimeoutMs = 180_000;
// QENEX_SHUTDOWN_GRACE_MS (default 10 s) per stop wave, four waves, plus margin.
const meshStopTimeoutMs = 60_000;
const postgresProbeTimeoutMs = 2_000;
const requestTimeoutMs = 30_000;
const loadTimeoutMs = 300_000;
const samplePeriodMs = 200;
const idleSamples = 5;
const idleGoalMb = { embedded: 225, postgres: 150 } as const;
const serviceNames = ["edge", "ledger", "risk", "payments", "auth"] as const;

type Mode = keyof typeof idleGoalMb;
type Settings = { transfers: number; concurrency: number; scores: number; payments: number; idleMs: number; modes: Mode[] };

function settings(): Settings {
  const { values } = parseArgs({
    options: {
      transfers: { type: "string", default: process.env.BENCH_TRANSFERS ?? "3000" },
      concurrency: { type: "string", default: process.env.BENCH_CONCURRENCY ?? "32" },
      scores: { type: "string", default: process.env.BENCH_SCORES ?? "600" },
      payments: { type: "string", default: process.env.BENCH_PAYMENTS ?? "100" },
      "idle-seconds": { type: "string", default: process.env.BENCH_IDLE_SECONDS ?? "5" },
      modes: { type: "string", default: process.env.BENCH_MODES ?? "embedded,postgres" },
    },
    // `pnpm bench:memory -- --transfers 100` forwards the "--" itself.
    allowPositionals: true,
  });
  const s: Settings = {
    transfers: Number(values.transfers),
    concurrency: Number(values.concurrency),
    scores: Number(values.scores),
    payments: Number(values.payments),
    idleMs: Number(values["idle-seconds"]) * 1000,
    modes: values.modes.split(",").map((m) => m.trim()) as Mode[],
  };
  const whole = (v: number, min: number, max: number) => Number.isInteger(v) && v >= min && v <= max;
  if (
    !whole(s.transfers, 1, 100_000) ||
    !whole(s.concurrency, 1, 256) ||
    !whole(s.scores, 0, 100_000) ||
    !whole(s.payments, 0, 10_000) ||
    !(s.idleMs >= 0 && s.idleMs <= 120_000) ||
    s.modes.length === 0 ||
    s.modes.some((m) => !(m in idleGoalMb))
  ) {
    throw new Error(
      "--transfers 1..100000, --concurrency 1..256, --scores 0..100000, --payments 0..10000, --idle-seconds 0..120, --modes a list of embedded,postgres",
    );
  }
  return s;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- processes ----------------------------------------------------------------------------

type Proc = { pid: number; ppid: number; argv: string[] };

function readProc(pid: number): Proc | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: fields resume after the last ")".
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
    return { pid, ppid, argv };
  } catch {
    return undefined; // It exited between the directory listing and the reads.
  }
}

/** Every descendant of `rootPid`, labelled: the service it serves, its cluster workers, other helpers. */
function meshProcesses(rootPid: number): Map<string, number> {
  const all = fs
    .readdirSync("/proc")
    .filter((name) => /^[0-9]+$/.test(name))
    .map((name) => readProc(Number(name)))
    .filter((p): p is Proc => p !== undefined);
  const childrenOf = new Map<number, Proc[]>();
  for (const p of all) childrenOf.set(p.ppid, [...(childrenOf.get(p.ppid) ?? []), p]);
  const labels = new Map<string, number>([["supervisor", rootPid]]);
  const visit = (parent: Proc, parentLabel: string, depth: number) => {
    const kids = (childrenOf.get(parent.pid) ?? []).sort((a, b) => a.pid - b.pid);
    kids.forEach((kid, index) => {
      const at = kid.argv.indexOf("serve");
      const service = at >= 0 ? kid.argv[at + 1] : undefined;
      const label =
        depth === 0 && service
          ? service
          : service === parentLabel
            ? `${parentLabel} worker ${index + 1}`
            : `${parentLabel} ${path.basename(kid.argv[0] ?? "?")} ${index + 1}`;
      labels.set(label, kid.pid);
      visit(kid, service ?? parentLabel, depth + 1);
    });
  };
  visit({ pid: rootPid, ppid: 0, argv: [] }, "supervisor", 0);
  return labels;
}

function rssMb(pid: number): number | undefined {
  try {
    const kb = /^VmRSS:\s+([0-9]+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

function sampleRss(rootPid: number): Map<string, number> {
  const sample = new Map<string, number>();
  for (const [label, pid] of meshProcesses(rootPid)) {
    const mb = rssMb(pid);
    if (mb !== undefined) sample.set(label, mb);
  }
  return sample;
}

/** Per label, the median of `count` samples `samplePeriodMs` apart. */
async function settledRss(rootPid: number, count: number): Promise<Map<string, number>> {
  const samples: Map<string, number>[] = [];
  for (let i = 0; i < count; i++) {
    if (i > 0) await sleep(samplePeriodMs);
    samples.push(sampleRss(rootPid));
  }
  const median = new Map<string, number>();
  for (const label of new Set(samples.flatMap((s) => [...s.keys()]))) {
    const values = samples.map((s) => s.get(label)).filter((v): v is number => v !== undefined);
    values.sort((a, b) => a - b);
    median.set(label, values[Math.floor(values.length / 2)] as number);
  }
  return median;
}

/** Samples every `samplePeriodMs` until stopped; each label's highest value, and the highest total. */
function peakSampler(rootPid: number): { stop(): Map<string, number> } {
  const peak = new Map<string, number>();
  const take = () => {
    const sample = sampleRss(rootPid);
    let total = 0;
    for (const [label, mb] of sample) {
      total += mb;
      peak.set(label, Math.max(peak.get(label) ?? 0, mb));
    }
    peak.set(totalLabel, Math.max(peak.get(totalLabel) ?? 0, total));
  };
  take();
  const timer = setInterval(take, samplePeriodMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return peak;
    },
  };
}

const totalLabel = "all processes";

// ---- storage ------------------------------------------------------------------------------

/** DATABASE_URL, or the local default when it answers; undefined when there is none to use. */
async function postgresServerUrl(): Promise<string | undefined> {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  const client = new pg.Client({ connectionString: defaultPostgresUrl, connectionTimeoutMillis: postgresProbeTimeoutMs });
  try {
    await client.connect();
    return defaultPostgresUrl;
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function adminQuery(serverUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A fresh database beside `serverUrl`'s; returns its URL and how to drop it. */
async function freshDatabase(serverUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `qenex_bench_mem_${process.pid}`;
  // The name is built from digits only; identifiers cannot be parameters.
  await adminQuery(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await adminQuery(serverUrl, `CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => adminQuery(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

// ---- mesh ---------------------------------------------------------------------------------

type Mesh = { pid: number; edgeUrl: string; stop(): Promise<void> };

function meshEnv(mode: Mode, dataDir: string, databaseUrl: string | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...anyFreePortsEnv,
    QENEX_HOST: "127.0.0.1",
    QENEX_LOG_LEVEL: "warn",
    QENEX_DATA_DIR: dataDir,
    QENEX_ADMIN_PASSWORD: adminPassword,
    QENEX_JWT_SECRET: jwtSecret,
    QENEX_AUDIT_KEY: auditKey,
    QENEX_RATE_LIMIT_PRINCIPAL: rateLimitUnbounded,
    QENEX_RATE_LIMIT_IP: rateLimitUnbounded,
  };
  for (const name of [
    "DATABASE_URL",
    "QENEX_LEDGER_DATABASE_URL",
    "QENEX_PAYMENTS_DATABASE_URL",
    "QENEX_RISK_DATABASE_URL",
    "QENEX_AUTH_DATABASE_URL",
  ]) {
    delete env[name];
  }
  if (mode === "embedded") delete env.REDIS_URL;
  else env.DATABASE_URL = databaseUrl;
  return env;
}

/** `qenex start`; resolves once every service printed where it listens. */
async function startMesh(env: NodeJS.ProcessEnv): Promise<Mesh> {
  const child = spawn(process.execPath, ["--enable-source-maps", cliMainPath, "start"], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
    env,
  });
  const pid = child.pid as number;
  const seen = new Set<number>();
  const lines: string[] = [];
  const stop = async () => {
    // Everything it ever started, remembered so leftovers can be killed if it does not stop them.
    for (const p of meshProcesses(pid).values()) seen.add(p);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      if (!(await exited(child, meshStopTimeoutMs))) console.error(`qenex start did not stop within ${meshStopTimeoutMs} ms; killing it`);
    }
    for (const p of seen) {
      const argv = readProc(p)?.argv ?? [];
      if (argv.includes(cliMainPath)) process.kill(p, "SIGKILL");
    }
  };
  const edgeUrl = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the mesh did not listen within ${meshStartTimeoutMs} ms`)), meshStartTimeoutMs);
    const onLine = (line: string) => {
      lines.push(line);
      const text = lines.join("\n");
      const listening = serviceNames.every((name) => text.includes(`QENEX ${name} listening on`));
      const url = /QENEX edge listening on (\S+)/.exec(text)?.[1];
      if (listening && url) {
        clearTimeout(timer);
        resolve(url);
      }
    };
    readline.createInterface({ input: child.stderr }).on("line", onLine);
    readline.createInterface({ input: child.stdout }).on("line", onLine);
    child.once("exit", (code) => reject(new Error(`qenex start exited (${code}):\n${lines.slice(-30).join("\n")}`)));
  });
  try {
    return { pid, edgeUrl: await edgeUrl, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function exited(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

// ---- load ---------------------------------------------------------------------------------

type Rest = (method: string, route: string, body?: unknown) => Promise<unknown>;

/** node:http with keep-alive, one connection per concurrent caller; rejects on a non-2xx answer. */
function restClient(edgeUrl: string, token?: string): Rest {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  return (method, route, body) =>
    new Promise((resolve, reject) => {
      const request = http.request(`${edgeUrl}${route}`, { method, headers, agent, timeout: requestTimeoutMs }, (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.once("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          const status = response.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve(text ? JSON.parse(text) : undefined);
          else reject(new Error(`${method} ${route}: HTTP ${status} ${text.slice(0, 200)}`));
        });
      });
      request.once("timeout", () => request.destroy(new Error(`${method} ${route}: no answer within ${requestTimeoutMs} ms`)));
      request.once("error", reject);
      request.end(body === undefined ? undefined : JSON.stringify(body));
    });
}

/** Runs `work(index)` for 0..count-1 on `concurrency` callers; failures counted by message. */
async function runConcurrently(
  count: number,
  concurrency: number,
  work: (index: number) => Promise<unknown>,
  failures: Map<string, number>,
) {
  let next = 0;
  const caller = async () => {
    for (let index = next++; index < count; index = next++) {
      try {
        await work(index);
      } catch (error) {
        const reason = String((error as Error).message).replace(/[0-9a-f-]{16,}/g, "…");
        failures.set(reason, (failures.get(reason) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, caller));
}

type Load = { transfersPerSecond: number; requests: number; failures: Map<string, number> };

/** Transfers at `concurrency`, and beside them a trickle of risk scores and SWIFT payments. */
async function drive(edgeUrl: string, s: Settings): Promise<Load> {
  const anonymous = restClient(edgeUrl);
  const { accessToken } = (await anonymous("POST", "/api/v1/auth/token", { username: "admin", password: adminPassword })) as {
    accessToken: string;
  };
  const rest = restClient(edgeUrl, accessToken);
  const prefix = `mem-${process.pid}-${Date.now().toString(36)}`;
  const [a, b] = [`${prefix}-a`, `${prefix}-b`];
  for (const account_id of [a, b]) {
    await rest("POST", "/api/v1/accounts", { account_id, account_type: "CHECKING", initial_balance: 1000000.0, currency: "USD" });
  }
  // The SWIFT route pays from the sending bank's account with us.
  await rest("POST", "/api/v1/accounts", {
    account_id: "bank-CHASUS33-EUR",
    account_type: "BUSINESS",
    initial_balance: 1000000.0,
    currency: "EUR",
  });
  const failures = new Map<string, number>();
  const sideConcurrency = 4;
  const startedMs = performance.now();
  const transfers = runConcurrently(
    s.transfers,
    s.concurrency,
    (i) => {
      const [from, to] = i % 2 === 0 ? [a, b] : [b, a];
      return rest("POST", "/api/v1/transactions", {
        source_account: from,
        destination_account: to,
        amount: 1.0,
        currency: "USD",
        reference: "bench",
      });
    },
    failures,
  ).then(() => performance.now() - startedMs);
  const side = Promise.all([
    runConcurrently(
      s.scores,
      sideConcurrency,
      (i) =>
        rest("POST", "/api/v1/risk/score", {
          transaction_id: `${prefix}-score-${i}`,
          account_id: `${prefix}-acct-${i % 50}`,
          counterparty_id: `${prefix}-cp-${i % 7}`,
          amount: { currency: "USD", amount: (10 + (i % 90)).toFixed(2) },
          counterparty_country: "DE",
          counterparty_name: "Globex Ltd",
        }),
      failures,
    ),
    runConcurrently(
      s.payments,
      sideConcurrency,
      (i) =>
        rest("POST", "/api/v1/payments/swift", {
          source_bic: "CHASUS33",
          destination_bic: "DEUTDEFF",
          amount: 10 + (i % 90),
          currency: "EUR",
          reference: `BENCH-${i}`,
        }),
      failures,
    ),
  ]);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the load did not finish within ${loadTimeoutMs} ms`)), loadTimeoutMs);
  });
  try {
    const [transfersMs] = await Promise.race([Promise.all([transfers, side]), timeout]);
    return { transfersPerSecond: s.transfers / (transfersMs / 1000), requests: s.transfers + s.scores + s.payments, failures };
  } finally {
    clearTimeout(timer);
  }
}

// ---- one mode -----------------------------------------------------------------------------

type Start = "first" | "restart";
type Row = { mode: Mode; start: Start; label: string; idleMb: number | undefined; peakMb: number | undefined; afterMb: number | undefined };
type Result = { mode: Mode; rows: Row[]; load: Load; note: string };

const sum = (m: Map<string, number>) => [...m.values()].reduce((t, v) => t + v, 0);

/** Per process, the median RSS after `idleMs` without requests. */
async function idleRss(mesh: Mesh, mode: Mode, start: Start, s: Settings, startedMs: number): Promise<Map<string, number>> {
  console.log(
    `${mode}, ${start === "first" ? "first start" : "restart"}: serving after ${((performance.now() - startedMs) / 1000).toFixed(1)} s; idle ${s.idleMs / 1000} s`,
  );
  await sleep(s.idleMs);
  const idle = await settledRss(mesh.pid, idleSamples);
  idle.set(totalLabel, sum(idle));
  return idle;
}

/**
 * A first start on fresh data pays for creating it (PGlite runs initdb in WebAssembly, every
 * service migrates), so it is measured idle only; then the mesh is started again on the same
 * data, as it runs from then on, and measured idle, under load and after.
 */
async function measureMode(mode: Mode, s: Settings, databaseUrl: string | undefined, note: string): Promise<Result> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "qenex-bench-mem-"));
  const env = meshEnv(mode, dataDir, databaseUrl);
  try {
    let startedMs = performance.now();
    const first = await startMesh(env);
    const firstIdle = await idleRss(first, mode, "first", s, startedMs).finally(() => first.stop());
    startedMs = performance.now();
    const mesh = await startMesh(env);
    try {
      const idle = await idleRss(mesh, mode, "restart", s, startedMs);
      const sampler = peakSampler(mesh.pid);
      const load = await drive(mesh.edgeUrl, s).finally(() => sampler.stop());
      const peak = sampler.stop();
      // Payments settle after their create answered; the same idle wait lets that and GC run.
      await sleep(s.idleMs);
      const after = await settledRss(mesh.pid, idleSamples);
      after.set(totalLabel, sum(after));
      const rowsOf = (start: Start, maps: Map<string, number>[]) =>
        [...new Set(maps.flatMap((m) => [...m.keys()]))].sort(byLabel).map((label) => {
          const [i, p, a] = maps.map((m) => m.get(label));
          return { mode, start, label, idleMb: i, peakMb: p, afterMb: a };
        });
      return { mode, rows: [...rowsOf("first", [firstIdle]), ...rowsOf("restart", [idle, peak, after])], load, note };
    } finally {
      await mesh.stop();
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Supervisor, the services in a fixed order (each followed by its workers), the total last. */
function byLabel(x: string, y: string): number {
  const rank = (label: string) => {
    if (label === "supervisor") return -1;
    if (label === totalLabel) return 99;
    return serviceNames.indexOf(label.split(" ")[0] as (typeof serviceNames)[number]);
  };
  return rank(x) - rank(y) || x.localeCompare(y);
}

// ---- output -------------------------------------------------------------------------------

function printTable(results: Result[]): void {
  const pad = (v: string, n: number) => v.padStart(n);
  const mb = (v: number | undefined) => (v === undefined ? "-" : v.toFixed(1));
  console.log(
    `\n${"mode".padEnd(10)}${"start".padEnd(9)}${"process".padEnd(20)}${pad("idle RSS MB", 12)}${pad("peak MB", 10)}${pad("after MB", 10)}  idle goal`,
  );
  for (const { rows } of results) {
    for (const r of rows) {
      const isService = (serviceNames as readonly string[]).includes(r.label);
      const goalMb = idleGoalMb[r.mode];
      const verdict = !isService ? "" : r.idleMb !== undefined && r.idleMb <= goalMb ? `pass (≤ ${goalMb})` : `FAIL (> ${goalMb})`;
      console.log(
        `${r.mode.padEnd(10)}${r.start.padEnd(9)}${r.label.padEnd(20)}${pad(mb(r.idleMb), 12)}${pad(mb(r.peakMb), 10)}${pad(mb(r.afterMb), 10)}  ${verdict}`,
      );
    }
  }
  console.log("\ngoal: ≤ 150 MB idle per service on PostgreSQL; embedded ≤ 225 MB");
  console.log("(peak: highest of samples every 200 ms during the load; total's peak is the highest sum of one sample)");
  for (const { mode, load, note } of results) {
    const failed = [...load.failures.values()].reduce((t, n) => t + n, 0);
    console.log(`${mode} (${note}): ${load.transfersPerSecond.toFixed(0)} transfers/s; ${load.requests} requests, ${failed} failed`);
    for (const [reason, n] of load.failures) console.log(`  ${n} × ${reason}`);
  }
}

async function main(): Promise<void> {
  const s = settings();
  execFileSync(process.execPath, [path.join(repoRoot, "packages/cli/bundle.mjs")], { stdio: "inherit" });
  console.log(
    `node ${process.version}, ${os.cpus().length} CPUs, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, load average ${os.loadavg()[0]?.toFixed(2)}`,
  );
  console.log(
    `load: ${s.transfers} transfers at concurrency ${s.concurrency}, ${s.scores} risk scores and ${s.payments} SWIFT payments at 4 each`,
  );
  const results: Result[] = [];
  for (const mode of s.modes) {
    if (mode === "embedded") {
      results.push(await measureMode(mode, s, undefined, "PGlite per service, no Redis"));
      continue;
    }
    const serverUrl = await postgresServerUrl();
    if (!serverUrl) {
      console.log(`postgres: skipped, no DATABASE_URL and nothing answers at ${defaultPostgresUrl}`);
      continue;
    }
    const database = await freshDatabase(serverUrl);
    try {
      const redis = process.env.REDIS_URL ? "Redis" : "no Redis";
      results.push(await measureMode(mode, s, database.url, `${new URL(database.url).pathname.slice(1)}, ${redis}`));
    } finally {
      await database.drop();
    }
  }
  printTable(results);
  if (results.some((r) => r.load.failures.size > 0)) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
