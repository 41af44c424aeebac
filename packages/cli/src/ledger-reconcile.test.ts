// `qenex ledger reconcile` as an operator runs it: a real process against a real ledger.
// The ledger gets a database of its own, because a shared one may hold another test's
// deliberate tamper at any moment, and this test asserts on the whole book.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { AccountType } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { type FreshDatabase, freshDatabase } from "@qenex/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// The ledger's own test harness: the same server configuration as the ledger's tests.
import { startTestLedger, type TestLedger, testJwtSecret } from "../../ledger/src/testing/harness.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const main = path.join(root, "packages/cli/src/main.ts");

type CliResult = { code: number; stdout: string; stderr: string };

function qenex(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const childEnv = { ...process.env, QENEX_TOKEN: "", QENEX_LOG_LEVEL: "warn", ...env };
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "--conditions=source", main, ...args],
      { cwd: root, env: childEnv },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

let database: FreshDatabase;
let ledger: TestLedger;
let token: string;

const reconcile = (...extra: string[]) => qenex(["ledger", "reconcile", "--url", ledger.url, "--token", token, ...extra]);

beforeAll(async () => {
  database = await freshDatabase("qenex_recon");
  // Embedded without DATABASE_URL: the harness's PGlite in a new temp folder.
  ledger = await startTestLedger(database.url ? { databaseUrl: database.url } : {});
  token = await ledger.token(["auditor"]);
  await ledger.client().createAccounts({
    accounts: [
      { accountId: "CLI-A", accountType: AccountType.CHECKING, currency: "USD", initialBalance: "250.00" },
      { accountId: "CLI-B", accountType: AccountType.CHECKING, currency: "USD" },
    ],
  });
  await ledger.client().createTransfer({ sourceAccount: "CLI-A", destinationAccount: "CLI-B", amount: "42.50", currency: "USD" });
});

afterAll(async () => {
  await ledger?.stop();
  await database?.drop();
});

describe("qenex ledger reconcile", () => {
  it("exits 0 on a clean book, with progress on stderr and the report on stdout", async () => {
    const result = await reconcile();
    expect(result.code, result.stderr).toBe(0);
    // The two accounts and the equity account behind the opening balance: nothing else, so
    // this book is truly its own.
    expect(result.stderr).toMatch(/reconcile: 3 of 3 accounts checked\n$/);
    expect(result.stdout).toContain("accounts checked: 3");
    expect(result.stdout).toMatch(/USD\s+292\.50\s+292\.50\s+0\.00\s+0\.00\s+yes/);
    expect(result.stdout).toContain("reconciled");
  });

  it("mints an auditor token from the mesh's secret when given none", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "qenex-reconcile-cli-"));
    const result = await qenex(["ledger", "reconcile", "--url", ledger.url], {
      QENEX_JWT_SECRET: testJwtSecret,
      QENEX_DATA_DIR: dataDir,
      // Only the secret matters to a client; a database URL would also demand the audit key.
      DATABASE_URL: "",
    });
    expect(result.code, result.stderr).toBe(0);
  });

  it("exits 1 and names the account and field after a balance is altered behind the ledger's back", async () => {
    await ledger.process.db.query("UPDATE ledger_accounts SET credits_posted = credits_posted + 100 WHERE id = $1", ["CLI-B"]);
    try {
      const result = await reconcile("--json");
      expect(result.code, result.stderr).toBe(1);
      const report = JSON.parse(result.stdout) as {
        differencesTotal: string;
        differences: { accountId: string; field: string; stored: { amount: string }; recomputed: { amount: string } }[];
        currencies: { currency: string; balanced: boolean }[];
      };
      expect(report.differencesTotal).toBe("1");
      expect(report.differences).toMatchObject([
        { accountId: "CLI-B", field: "credits_posted", stored: { amount: "43.50" }, recomputed: { amount: "42.50" } },
      ]);
      expect(report.currencies).toMatchObject([{ currency: "USD", balanced: false }]);
      const table = await reconcile();
      expect(table.code).toBe(1);
      expect(table.stdout).toMatch(/CLI-B\s+USD\s+credits_posted\s+43\.50\s+42\.50/);
      expect(table.stdout).toContain("NOT RECONCILED");
    } finally {
      await ledger.process.db.query("UPDATE ledger_accounts SET credits_posted = credits_posted - 100 WHERE id = $1", ["CLI-B"]);
    }
  });

  it("exits 2 when it cannot check the book", async () => {
    const badUrl = await qenex(["ledger", "reconcile", "--url", "ftp://127.0.0.1"]);
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toContain("--url");
    const unknownOption = await qenex(["ledger", "reconcile", "--verbose"]);
    expect(unknownOption.code).toBe(2);
    const unreachable = await qenex(["ledger", "reconcile", "--url", "http://127.0.0.1:1", "--token", token]);
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toContain("http://127.0.0.1:1");
    const badToken = await qenex(["ledger", "reconcile", "--url", ledger.url, "--token", "not-a-token"]);
    expect(badToken.code).toBe(2);
  });
});
