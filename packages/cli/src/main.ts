#!/usr/bin/env node
// The `qenex` command: start the mesh, mint a token, operate the ledger.
import cluster from "node:cluster";
import { parseArgs } from "node:util";
import type { Role } from "@qenex/platform";
// Only light modules load here: the supervisor stays small, and each command (and each
// service, in `serve`) loads its own code when it runs.
import { ConfigError, loadConfig } from "@qenex/platform/config";
import { createLogger } from "@qenex/platform/logger";
import { stopOnSignals } from "@qenex/platform/signals";
import { isMeshService, type MeshService, meshServices, type ReadyMessage } from "./mesh-services.js";

/** Most processes one service may run with --workers. */
const workersMax = 64;

const usage = `usage:
  qenex start [--workers N | --workers SERVICE=N,...]
                                   run the mesh, each service in a process of its own: the edge
                                   (REST, /health, RPC routing) on QENEX_EDGE_PORT (default 8080),
                                   the ledger on QENEX_LEDGER_PORT (50051), payments (50052), risk
                                   (50053), auth (50054); restarts one that dies. --workers N runs
                                   N edge processes; SERVICE=N others (PostgreSQL only)
  qenex serve ledger|auth|risk|payments|edge [--workers N]
                                   run one service alone on its port; payments needs
                                   QENEX_LEDGER_URL and QENEX_RISK_URL, risk QENEX_LEDGER_URL, the
                                   edge every service's QENEX_<SERVICE>_URL
  qenex token [--subject S] [--role R ...] [--ttl-seconds N]
                                   print a bearer token signed with the mesh's secret
  qenex ledger reconcile [--url URL] [--token T] [--json]
                                   recompute every balance from the transfers (default URL
                                   http://127.0.0.1:50051); exit 0 when the book reconciles
                                   and balances, 1 when not
  qenex risk load-sanctions DIR|SDN.CSV [--list NAME]
                                   load an OFAC SDN list (sdn.csv, and alt.csv / add.csv
                                   when present beside it) into the risk service's database,
                                   replacing the list NAME (default SDN); every risk replica
                                   reloads it (embedded default: run it while the mesh is stopped)
  qenex help`;

/** `--workers 2` (the edge) or `--workers edge=2,ledger=2`. */
function parseWorkers(text: string | undefined): Partial<Record<MeshService, number>> {
  if (text === undefined) return {};
  const count = (value: string) => {
    const n = Number(value);
    if (!/^[0-9]{1,3}$/.test(value) || n < 1 || n > workersMax) throw new UsageError(`--workers: "${value}" must be 1 to ${workersMax}`);
    return n;
  };
  if (/^[0-9]+$/.test(text)) return { edge: count(text) };
  const workers: Partial<Record<MeshService, number>> = {};
  for (const part of text.split(",")) {
    const [name = "", value = ""] = part.split("=");
    if (!isMeshService(name)) throw new UsageError(`--workers: "${name}" is not one of ${meshServices.join(", ")}`);
    workers[name] = count(value);
  }
  return workers;
}

/** A service on the embedded database is one process: PGlite is a single-process engine. */
function checkWorkers(workers: Partial<Record<MeshService, number>>, config: ReturnType<typeof loadConfig>): void {
  const problems = Object.entries(workers)
    .filter(([name, n]) => name !== "edge" && (n ?? 1) > 1)
    .filter(([name]) => !(config.serviceDatabaseUrls[name as keyof typeof config.serviceDatabaseUrls] ?? config.databaseUrl))
    .map(([name]) => `--workers ${name}=N needs PostgreSQL (DATABASE_URL): the embedded database serves one process`);
  if (problems.length > 0) throw new ConfigError(problems);
}

async function start(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { workers: { type: "string" } } });
  const config = loadConfig();
  const workers = parseWorkers(values.workers);
  checkWorkers(workers, config);
  const logger = createLogger("qenex", config.logLevel);
  const { supervise } = await import("./supervisor.js");
  const mesh = await supervise({
    config,
    logger,
    workers,
    command: { execPath: process.execPath, execArgv: process.execArgv, main: process.argv[1] as string },
  });
  // SIGHUP too: a closed terminal stops the services in order rather than leave each child
  // to notice on its own.
  const stop = stopOnSignals([mesh], logger, ["SIGTERM", "SIGINT", "SIGHUP"]);
  stopWithPackageManager(() => stop("SIGHUP"));
  const { urls } = mesh;
  const storage = config.databaseUrl
    ? "PostgreSQL (DATABASE_URL), a schema per service"
    : `embedded PGlite, a folder per service in ${config.dataDir}`;
  const processes = (name: MeshService) => ((workers[name] ?? 1) > 1 ? ` ×${workers[name]} processes` : "");
  process.stderr.write(
    [
      "",
      `QENEX edge listening on ${urls.edge} (REST /api/v1/..., /health, RPC routing for browsers)${processes("edge")}`,
      `QENEX ledger listening on ${urls.ledger} (gRPC, gRPC-Web, Connect; health, reflection, /metrics)${processes("ledger")}`,
      `QENEX risk listening on ${urls.risk} (fraud scoring, AML rules, sanctions screening, alerts)${processes("risk")}`,
      `QENEX payments listening on ${urls.payments} (SWIFT, SEPA, ACH, Fedwire over simulated clearing networks)${processes("payments")}`,
      `QENEX auth listening on ${urls.auth} (token at POST ${urls.edge}/api/v1/auth/token)${processes("auth")}`,
      `  each service is a process of its own, restarted if it dies; Ctrl-C stops them all`,
      `  storage: ${storage}; kv: ${config.redisUrl ? "Redis (REDIS_URL)" : "in-process, per service"}`,
      "  get a token:  ./nodew pnpm -s qenex token --role admin",
      `  try it:       buf curl --protocol grpc --http2-prior-knowledge --list-services ${urls.ledger}`,
      "",
    ].join("\n"),
  );
}

/** How often the supervisor checks that the package manager that ran it is still there. */
const parentCheckMs = 1_000;

/**
 * Run by a package manager (npm_config_user_agent is set), the supervisor stops when that
 * parent goes away: pnpm without a terminal runs a script in a process group of its own, so
 * a signal that ends pnpm may never reach the supervisor. Run any other way (a shell, nohup,
 * systemd), it outlives its parent as usual.
 */
function stopWithPackageManager(stop: () => void): void {
  if (!process.env.npm_config_user_agent) return;
  const parentPid = process.ppid;
  setInterval(() => {
    if (process.ppid !== parentPid) stop();
  }, parentCheckMs).unref();
}

/** One service alone: for the supervisor, docker-compose, Kubernetes and tests. */
async function serve(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, options: { workers: { type: "string" } }, allowPositionals: true });
  const [service] = positionals;
  if (service === undefined || !isMeshService(service) || positionals.length > 1) {
    throw new UsageError(`qenex serve runs one of ${meshServices.join(", ")}; not "${positionals.join(" ")}"`);
  }
  const config = loadConfig();
  const workers = values.workers === undefined ? 1 : (parseWorkers(`${service}=${values.workers}`)[service] ?? 1);
  checkWorkers({ [service]: workers }, config);
  const [{ startMeshService }, { runWorkers }] = await Promise.all([import("./serve.js"), import("./workers.js")]);
  const logger = createLogger(service, config.logLevel);
  const running =
    workers > 1 && cluster.isPrimary
      ? { ...(await runWorkers({ service, count: workers, logger, shareKv: !config.redisUrl })), logger }
      : await startMeshService(service, config);
  // Start-up garbage (initdb, migrations) collected before the process settles, where the
  // supervisor allowed it (--expose-gc, embedded services); otherwise V8 decides.
  (globalThis as { gc?: () => void }).gc?.();
  stopOnSignals([running], running.logger);
  // Started by a supervisor (or a cluster primary): stop when it goes away, and tell it we serve.
  if (process.send) {
    process.once("disconnect", () => process.kill(process.pid, "SIGTERM"));
    // A supervisor gone before this arrives is handled by "disconnect": the error is not ours.
    process.send({ qenexReady: { service, url: running.url } } satisfies ReadyMessage, undefined, {}, () => {});
  }
  if (!cluster.isWorker) process.stderr.write(`QENEX ${service} listening on ${running.url}\n`);
}

async function token(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      subject: { type: "string", default: "dev" },
      role: { type: "string", multiple: true, default: ["admin"] },
      "ttl-seconds": { type: "string", default: "3600" },
    },
  });
  const { createAuth, resolveJwtSecret, roles } = await import("@qenex/platform");
  const unknown = values.role.filter((role) => !(roles as readonly string[]).includes(role));
  if (unknown.length > 0) throw new UsageError(`unknown role ${unknown.join(", ")}; roles are ${roles.join(", ")}`);
  const config = loadConfig(process.env, { forServer: false });
  const auth = createAuth(resolveJwtSecret(config.jwtSecret, config.dataDir));
  const ttlSeconds = Number(values["ttl-seconds"]);
  process.stdout.write(`${await auth.issue({ subject: values.subject, roles: values.role as Role[] }, ttlSeconds)}\n`);
}

class UsageError extends Error {}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === "start") return start(rest);
  if (command === "token") return token(rest);
  if (command === "serve") return serve(rest);
  if (command === "risk") {
    const [subcommand, ...args] = rest;
    if (subcommand !== "load-sanctions") throw new UsageError(`unknown command "risk ${subcommand ?? ""}"`);
    const { loadSanctions } = await import("./risk-load-sanctions.js");
    process.exitCode = await loadSanctions(args);
    return;
  }
  if (command === "ledger") {
    const [subcommand, ...args] = rest;
    if (subcommand !== "reconcile") throw new UsageError(`unknown command "ledger ${subcommand ?? ""}"`);
    // Loaded on demand: only this command needs the gRPC client.
    const { ledgerReconcile } = await import("./ledger-reconcile.js");
    process.exitCode = await ledgerReconcile(args);
    return;
  }
  if (command === "help" || command === undefined) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  throw new UsageError(`unknown command "${command}"`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof UsageError || error instanceof RangeError) {
    process.stderr.write(`qenex: ${error.message}\n${error instanceof UsageError ? `${usage}\n` : ""}`);
  } else {
    createLogger("qenex", "error").error({ err: error }, "failed");
  }
  process.exit(2);
});
