#!/usr/bin/env node
// The `qenex` command: start the mesh, mint a token, operate the ledger.
import { parseArgs } from "node:util";
import { authMigrations, authPublicMethods, bindAuth, ensureFirstAdmin } from "@qenex/auth";
import { startEdge } from "@qenex/edge";
import { AuthService } from "@qenex/gen/qenex/auth/v1/auth_pb.js";
import { LedgerService } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { PaymentsService } from "@qenex/gen/qenex/payments/v1/payments_pb.js";
import { RiskService } from "@qenex/gen/qenex/risk/v1/risk_pb.js";
import { bindLedger, ledgerMigrations } from "@qenex/ledger";
import { bindPayments, paymentsMigrations } from "@qenex/payments";
import {
  ConfigError,
  createAuth,
  createLogger,
  loadConfig,
  type Role,
  resolveJwtSecret,
  roles,
  startService,
  stopOnSignals,
} from "@qenex/platform";
import { bindRisk, riskMigrations, seedStandardRules } from "@qenex/risk";

const usage = `usage:
  qenex start                      run the mesh: the edge (REST, /health, RPC routing) on
                                   QENEX_EDGE_PORT (default 8080), the ledger on
                                   QENEX_LEDGER_PORT (default 50051)
  qenex serve payments             run only the payments service on QENEX_PAYMENTS_PORT
                                   (default 50052), calling the ledger at QENEX_LEDGER_URL
                                   and the risk service at QENEX_RISK_URL
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
                                   reloads it
  qenex help`;

async function start(): Promise<void> {
  const config = loadConfig();
  const ledger = await startService({
    name: "ledger",
    port: config.ledgerPort,
    config,
    migrations: ledgerMigrations,
    bind: bindLedger,
  });
  // The auth service shares the ledger's database pool and kv: one process, one pool.
  const auth = await startService({
    name: "auth",
    port: config.authPort,
    config,
    migrations: authMigrations,
    bind: bindAuth,
    shared: { db: ledger.db, kv: ledger.kv },
  });
  await ensureFirstAdmin(ledger.db, config);
  const risk = await startService({
    name: "risk",
    port: config.riskPort,
    config,
    migrations: riskMigrations,
    bind: (deps) => bindRisk(deps, { ledgerUrl: ledger.server.url }),
    shared: { db: ledger.db, kv: ledger.kv },
  });
  await seedStandardRules(ledger.db);
  const payments = await startService({
    name: "payments",
    port: config.paymentsPort,
    config,
    migrations: paymentsMigrations,
    bind: (deps) => bindPayments(deps, { ledgerUrl: ledger.server.url, riskUrl: risk.server.url }),
    shared: { db: ledger.db, kv: ledger.kv },
  });
  const edge = await startEdge(config, {
    upstreams: [
      { service: LedgerService, url: ledger.server.url },
      { service: AuthService, url: auth.server.url, publicMethods: authPublicMethods },
      { service: RiskService, url: risk.server.url },
      { service: PaymentsService, url: payments.server.url },
    ],
    probes: [
      { name: config.databaseUrl ? "postgresql" : "pglite", check: () => ledger.db.ping() },
      { name: config.redisUrl ? "redis" : "kv (in-process)", check: () => ledger.kv.ping() },
    ],
    kv: ledger.kv,
  });
  // The edge stops first, then the services; the ledger owns the shared pool, so it goes last.
  stopOnSignals(
    [
      {
        stop: async () => {
          await edge.stop();
          await payments.stop();
          await risk.stop();
          await auth.stop();
          await ledger.stop();
        },
      },
    ],
    ledger.logger,
  );
  const storage = config.databaseUrl ? "PostgreSQL (DATABASE_URL)" : `embedded PGlite in ${config.dataDir}`;
  process.stderr.write(
    [
      "",
      `QENEX edge listening on ${edge.server.url} (REST /api/v1/..., /health, RPC routing for browsers)`,
      `QENEX ledger listening on ${ledger.server.url} (gRPC, gRPC-Web, Connect; health, reflection, /metrics)`,
      `QENEX risk listening on ${risk.server.url} (fraud scoring, AML rules, sanctions screening, alerts)`,
      `QENEX payments listening on ${payments.server.url} (SWIFT, SEPA, ACH, Fedwire over simulated clearing networks)`,
      `QENEX auth listening on ${auth.server.url} (token at POST ${edge.server.url}/api/v1/auth/token)`,
      `  storage: ${storage}; kv: ${config.redisUrl ? "Redis (REDIS_URL)" : "in-process"}`,
      "  get a token:  ./nodew pnpm -s qenex token --role admin",
      `  try it:       buf curl --protocol grpc --http2-prior-knowledge --list-services ${ledger.server.url}`,
      "",
    ].join("\n"),
  );
}

/** One service alone, for a mesh of separate processes (docker-compose, Kubernetes, tests). */
async function serve(args: string[]): Promise<void> {
  const [service] = args;
  if (service !== "payments") throw new UsageError(`qenex serve runs "payments"; not "${service ?? ""}"`);
  const config = loadConfig();
  const payments = await startService({
    name: "payments",
    port: config.paymentsPort,
    config,
    migrations: paymentsMigrations,
    bind: (deps) => bindPayments(deps),
  });
  stopOnSignals([payments], payments.logger);
  process.stderr.write(`QENEX payments listening on ${payments.server.url}\n`);
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
  const unknown = values.role.filter((role) => !roles.includes(role as Role));
  if (unknown.length > 0) throw new UsageError(`unknown role ${unknown.join(", ")}; roles are ${roles.join(", ")}`);
  const config = loadConfig(process.env, { forServer: false });
  const auth = createAuth(resolveJwtSecret(config.jwtSecret, config.dataDir));
  const ttlSeconds = Number(values["ttl-seconds"]);
  process.stdout.write(`${await auth.issue({ subject: values.subject, roles: values.role as Role[] }, ttlSeconds)}\n`);
}

class UsageError extends Error {}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === "start") return start();
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
