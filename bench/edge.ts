// The same ledger calls made directly over gRPC and through the edge over REST/JSON, in one
// run against one mesh (`qenex start` in its own process), so the edge's cost shows as a
// latency ratio (target at p50: ≤ 1.3×) and a throughput ratio.
import { spawn } from "node:child_process";
import { once } from "node:events";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import * as readline from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { AccountType, LedgerService } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { anyFreePortsEnv, createAuth } from "@qenex/platform";

const repoRoot = fileURLToPath(new URL("../", import.meta.url));
const cliMainPath = path.join(repoRoot, "packages/cli/src/main.ts");
// Fixed, so the bench can mint tokens for the throwaway mesh it starts on 127.0.0.1.
const jwtSecret = "bench-secret-bench-secret-bench-secret-0";
const auditKey = "bench-audit-key-bench-audit-key-bench-0";
const startTimeoutMs = 120_000;

type Settings = { durationMs: number; warmupMs: number; concurrencies: number[] };
type Call = () => Promise<void>;
type Row = {
  call: string;
  via: string;
  concurrency: number;
  count: number;
  failures: number;
  seconds: number;
  p50Ms: number;
  p99Ms: number;
};

function settings(): Settings {
  const { values } = parseArgs({
    options: {
      seconds: { type: "string", default: process.env.BENCH_SECONDS ?? "6" },
      "warmup-seconds": { type: "string", default: process.env.BENCH_WARMUP_SECONDS ?? "1" },
      concurrencies: { type: "string", default: process.env.BENCH_CONCURRENCIES ?? "1,16" },
    },
  });
  const concurrencies = values.concurrencies.split(",").map(Number);
  const seconds = Number(values.seconds);
  const warmup = Number(values["warmup-seconds"]);
  if (
    !(seconds > 0 && seconds <= 600) ||
    !(warmup >= 0 && warmup <= 60) ||
    concurrencies.some((c) => !Number.isInteger(c) || c < 1 || c > 256)
  ) {
    throw new Error("--seconds 1..600, --warmup-seconds 0..60, --concurrencies a list of 1..256");
  }
  return { durationMs: seconds * 1000, warmupMs: warmup * 1000, concurrencies };
}

/** `qenex start` with every port chosen by the OS; resolves with the ledger's and the edge's URLs. */
async function startMesh(): Promise<{ ledgerUrl: string; edgeUrl: string; stop(): Promise<void> }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "qenex-bench-edge-"));
  const child = spawn(process.execPath, ["--import", "tsx", "--conditions=source", cliMainPath, "start"], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      QENEX_DATA_DIR: dataDir,
      ...anyFreePortsEnv,
      QENEX_HOST: "127.0.0.1",
      QENEX_JWT_SECRET: jwtSecret,
      QENEX_AUDIT_KEY: auditKey,
      QENEX_ADMIN_PASSWORD: "bench-admin-password",
      QENEX_LOG_LEVEL: "warn",
      // The bench is one client address and one principal: limits would measure the limiter.
      QENEX_RATE_LIMIT_IP: "9999999/9999999",
      QENEX_RATE_LIMIT_PRINCIPAL: "9999999/9999999",
    },
  });
  const lines: string[] = [];
  const urls = new Promise<{ ledgerUrl: string; edgeUrl: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the mesh did not listen within ${startTimeoutMs} ms`)), startTimeoutMs);
    const onLine = (line: string) => {
      lines.push(line);
      const text = lines.join("\n");
      const ledgerUrl = /ledger listening on (\S+)/.exec(text)?.[1];
      const edgeUrl = /edge listening on (\S+)/.exec(text)?.[1];
      if (ledgerUrl && edgeUrl) {
        clearTimeout(timer);
        resolve({ ledgerUrl, edgeUrl });
      }
    };
    readline.createInterface({ input: child.stderr }).on("line", onLine);
    readline.createInterface({ input: child.stdout }).on("line", onLine);
    child.once("exit", (code) => reject(new Error(`qenex start exited (${code}):\n${lines.slice(-30).join("\n")}`)));
  });
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    await exited;
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    return { ...(await urls), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function measure(name: string, via: string, concurrency: number, s: Settings, call: Call): Promise<Row> {
  const run = async (durationMs: number, record: boolean) => {
    const latencies: number[] = [];
    let failures = 0;
    const endAt = performance.now() + durationMs;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < endAt) {
          const t0 = performance.now();
          try {
            await call();
            if (record) latencies.push(performance.now() - t0);
          } catch {
            failures++;
          }
        }
      }),
    );
    return { latencies: latencies.sort((a, b) => a - b), failures, seconds: (performance.now() - started) / 1000 };
  };
  await run(s.warmupMs, false);
  const { latencies, failures, seconds } = await run(s.durationMs, true);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  return { call: name, via, concurrency, count: latencies.length, failures, seconds, p50Ms: at(0.5), p99Ms: at(0.99) };
}

async function main(): Promise<void> {
  const s = settings();
  const mesh = await startMesh();
  try {
    const token = await createAuth(jwtSecret).issue({ subject: "bench", roles: ["admin"] }, 3600);
    const bearer: Interceptor = (next) => (req) => {
      req.header.set("authorization", `Bearer ${token}`);
      return next(req);
    };
    const ledger = createClient(LedgerService, createGrpcTransport({ baseUrl: mesh.ledgerUrl, interceptors: [bearer] }));
    const prefix = `bench-edge-${Date.now().toString(36)}`;
    const [a, b] = [`${prefix}-a`, `${prefix}-b`];
    await ledger.createAccount({ accountId: a, accountType: AccountType.CHECKING, currency: "USD", initialBalance: "100000000.00" });
    await ledger.createAccount({ accountId: b, accountType: AccountType.CHECKING, currency: "USD" });
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    // node:http with keep-alive, as a REST client in a backend would talk to the edge: one
    // connection per concurrent caller, reused.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
    const rest = (method: string, url: string, body?: string) =>
      new Promise<void>((resolve, reject) => {
        const request = http.request(url, { method, headers, agent }, (response) => {
          response.resume();
          response.once("end", () => (response.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${response.statusCode}`))));
        });
        request.once("error", reject);
        request.end(body);
      });
    const calls: Record<string, { grpc: Call; rest: Call }> = {
      GetBalance: {
        grpc: async () => {
          await ledger.getBalance({ accountId: a });
        },
        rest: () => rest("GET", `${mesh.edgeUrl}/api/v1/accounts/${a}/balance`),
      },
      CreateTransfer: {
        grpc: async () => {
          await ledger.createTransfer({ sourceAccount: a, destinationAccount: b, amount: "0.01", currency: "USD" });
        },
        rest: () =>
          rest(
            "POST",
            `${mesh.edgeUrl}/api/v1/transactions`,
            `{"source_account":"${a}","destination_account":"${b}","amount":0.01,"currency":"USD"}`,
          ),
      },
    };
    console.log(
      `node ${process.version}, ${os.cpus().length} CPUs, load average ${os.loadavg()[0]?.toFixed(2)}; ${s.durationMs / 1000} s per scenario`,
    );
    console.log(
      `storage: ${process.env.DATABASE_URL ? "PostgreSQL (DATABASE_URL)" : "embedded PGlite"}; edge ${mesh.edgeUrl}, ledger ${mesh.ledgerUrl}\n`,
    );
    const rows: Row[] = [];
    for (const [name, pair] of Object.entries(calls)) {
      for (const concurrency of s.concurrencies) {
        rows.push(await measure(name, "gRPC direct", concurrency, s, pair.grpc));
        rows.push(await measure(name, "REST via edge", concurrency, s, pair.rest));
      }
    }
    const pad = (v: string | number, n: number) => String(v).padStart(n);
    console.log(
      `${"call".padEnd(16)}${"via".padEnd(15)}${pad("conc", 5)}${pad("calls/s", 10)}${pad("p50 ms", 9)}${pad("p99 ms", 9)}${pad("failed", 8)}`,
    );
    for (const r of rows) {
      console.log(
        `${r.call.padEnd(16)}${r.via.padEnd(15)}${pad(r.concurrency, 5)}${pad(Math.round(r.count / r.seconds), 10)}${pad(r.p50Ms.toFixed(2), 9)}${pad(r.p99Ms.toFixed(2), 9)}${pad(r.failures, 8)}`,
      );
    }
    console.log("\nREST via edge / gRPC direct (latency target at p50: ≤ 1.3×):");
    for (let i = 0; i < rows.length; i += 2) {
      const [direct, edge] = [rows[i] as Row, rows[i + 1] as Row];
      console.log(
        `  ${direct.call} at concurrency ${direct.concurrency}: p50 latency ×${(edge.p50Ms / direct.p50Ms).toFixed(2)}, throughput ×${(edge.count / edge.seconds / (direct.count / direct.seconds)).toFixed(2)}`,
      );
    }
    if (rows.some((r) => r.failures > 0 || r.count === 0)) process.exitCode = 1;
  } finally {
    await mesh.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
