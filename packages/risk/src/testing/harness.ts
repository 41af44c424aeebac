// Starts a real risk server for tests: PostgreSQL when DATABASE_URL is set (CI), embedded
// PGlite in a temporary folder otherwise; Redis when REDIS_URL is set. Clients are real
// network clients.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type Client, createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { RiskService } from "@qenex/gen/qenex/risk/v1/risk_pb.js";
// The ledger harness's secret: one test token works on both servers.
import { testJwtSecret } from "@qenex/ledger/testing";
import { createAuth, loadConfig, type Role, type ServiceProcess, startService } from "@qenex/platform";
import { bindRisk, riskMigrations, seedStandardRules } from "../index.js";

export type TestRisk = {
  process: ServiceProcess;
  url: string;
  /** Where the embedded database lives: a restarted server given it finds the same data. */
  dataDir: string;
  client(roles?: Role[], subject?: string): Client<typeof RiskService>;
  stop(): Promise<void>;
};

export async function startTestRisk(
  options: { ledgerUrl?: string; monitorAfterSequence?: bigint; dataDir?: string; databaseUrl?: string; redisUrl?: string } = {},
): Promise<TestRisk> {
  const databaseUrl = options.databaseUrl ?? process.env.DATABASE_URL;
  const redisUrl = options.redisUrl ?? process.env.REDIS_URL;
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "qenex-risk-"));
  const config = loadConfig(
    {
      QENEX_HOST: "127.0.0.1",
      QENEX_DATA_DIR: dataDir,
      QENEX_JWT_SECRET: testJwtSecret,
      QENEX_LOG_LEVEL: "silent",
      QENEX_SHUTDOWN_GRACE_MS: "1000",
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
      ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
    },
    { forServer: false },
  );
  const started = await startService({
    name: "risk",
    port: 0,
    config,
    migrations: riskMigrations,
    bind: (deps) => bindRisk(deps, { ledgerUrl: options.ledgerUrl, monitorStartAfter: options.monitorAfterSequence }),
  });
  await seedStandardRules(started.db);
  const auth = createAuth(testJwtSecret);
  return {
    process: started,
    url: started.server.url,
    dataDir,
    client(roles = ["admin"], subject = "test") {
      const bearer: Interceptor = (next) => async (req) => {
        req.header.set("authorization", `Bearer ${await auth.issue({ subject, roles }, 600)}`);
        return next(req);
      };
      return createClient(RiskService, createGrpcTransport({ baseUrl: started.server.url, interceptors: [bearer] }));
    },
    stop: () => started.stop(),
  };
}
