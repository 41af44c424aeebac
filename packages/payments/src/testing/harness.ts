// Starts a real payments server for tests, beside real ledger and risk servers. With
// DATABASE_URL (CI) it gets a fresh PostgreSQL database of its own: payments workers claim any
// due job in their database, so two test files sharing one would process each other's
// payments. Without it, embedded PGlite in a temporary folder.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type Client, createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { PaymentsService } from "@qenex/gen/qenex/payments/v1/payments_pb.js";
import { startTestLedger, type TestLedger, testAuditKey, testJwtSecret } from "@qenex/ledger/testing";
import { createAuth, loadConfig, type Role, type ServiceProcess, startService } from "@qenex/platform";
import { freshDatabase } from "@qenex/platform/testing";
import { startTestRisk, type TestRisk } from "@qenex/risk/testing";
import { bindPayments, paymentsMigrations } from "../index.js";

export type TestPayments = {
  process: ServiceProcess;
  url: string;
  /** The payments database: a PostgreSQL URL, or the PGlite folder. */
  databaseUrl: string | undefined;
  dataDir: string;
  client(roles?: Role[], subject?: string): Client<typeof PaymentsService>;
  /** Stops the server and drops the database it created, unless `keepDatabase` (a restart follows). */
  stop(options?: { keepDatabase?: boolean }): Promise<void>;
};

/**
 * A ledger and a risk server for payments tests, on a database of their own with DATABASE_URL:
 * another test file activating a fraud model in a shared database would otherwise hold these
 * payments for review.
 */
export async function startLedgerAndRisk(): Promise<{ ledger: TestLedger; risk: TestRisk; stop(): Promise<void> }> {
  const fresh = await freshDatabase("qenex_payments_upstreams");
  const databaseUrl = fresh.url ? { databaseUrl: fresh.url } : {};
  const ledger = await startTestLedger(databaseUrl);
  const risk = await startTestRisk({ ledgerUrl: ledger.url, ...databaseUrl });
  return {
    ledger,
    risk,
    async stop() {
      await risk.stop();
      await ledger.stop();
      await fresh.drop();
    },
  };
}

/** Parties with published, valid identifiers: EUR between IBANs, USD between ABA-routed accounts. */
export const eurParties = {
  debtor: { name: "Erika Mustermann", iban: "DE89370400440532013000", bic: "COBADEFFXXX" },
  creditor: { name: "Jean Dupont", iban: "FR1420041010050500013M02606", bic: "BNPAFRPP" },
};
export const usParties = {
  debtor: { name: "Corporation A", accountNumber: "5647772655", routingNumber: "121042882" },
  creditor: { name: "Jane Roe", accountNumber: "567876543", routingNumber: "231380104" },
};

/** Settings for a test mesh: fast simulated networks with a fixed seed. */
export function testPaymentsEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    QENEX_HOST: "127.0.0.1",
    QENEX_JWT_SECRET: testJwtSecret,
    QENEX_AUDIT_KEY: testAuditKey,
    // QENEX_TEST_LOG=warn shows the payments workers' retries and failures while debugging.
    QENEX_LOG_LEVEL: process.env.QENEX_TEST_LOG || "silent",
    QENEX_SHUTDOWN_GRACE_MS: "1000",
    QENEX_SIM_SEED: "7",
    QENEX_SIM_LATENCY_MS: "30",
    QENEX_SIM_REJECT_RATE: "0",
    QENEX_SIM_RETURN_RATE: "0",
    QENEX_ACH_CUTOFF_MS: "200",
    QENEX_PAYMENTS_JOB_LEASE_MS: "3000",
    ...overrides,
  };
}

export async function startTestPayments(options: {
  ledgerUrl: string;
  riskUrl: string;
  env?: Record<string, string>;
  /** Reuse a database (a restarted server); default: a fresh one. */
  databaseUrl?: string;
  dataDir?: string;
}): Promise<TestPayments> {
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "qenex-payments-"));
  let databaseUrl = options.databaseUrl;
  let drop: (() => Promise<void>) | undefined;
  if (databaseUrl === undefined) {
    const fresh = await freshDatabase("qenex_payments_test");
    databaseUrl = fresh.url;
    drop = fresh.drop;
  }
  const config = loadConfig(
    {
      ...testPaymentsEnv(options.env),
      QENEX_DATA_DIR: dataDir,
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
      ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}),
    },
    { forServer: false },
  );
  const started = await startService({
    name: "payments",
    port: 0,
    config,
    migrations: paymentsMigrations,
    bind: (deps) => bindPayments(deps, { ledgerUrl: options.ledgerUrl, riskUrl: options.riskUrl }),
  });
  const auth = createAuth(testJwtSecret);
  return {
    process: started,
    url: started.server.url,
    databaseUrl,
    dataDir,
    client(roles = ["admin"], subject = "test") {
      const bearer: Interceptor = (next) => async (req) => {
        req.header.set("authorization", `Bearer ${await auth.issue({ subject, roles }, 600)}`);
        return next(req);
      };
      return createClient(PaymentsService, createGrpcTransport({ baseUrl: started.server.url, interceptors: [bearer] }));
    },
    async stop(stopOptions = {}) {
      await started.stop();
      if (!stopOptions.keepDatabase) await drop?.();
    },
  };
}
