// Data from the single-process layout is moved into a folder per service, never ignored.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createPgliteDb, loadConfig } from "@qenex/platform";
import { describe, expect, it } from "vitest";
import { refuseLegacyDataDir, splitLegacyDataDir } from "./legacy-layout.js";

function embeddedConfig(dataDir: string) {
  return loadConfig({ QENEX_DATA_DIR: dataDir }, { forServer: false });
}

describe("the single-process data folder", () => {
  it("is split into one copy per service, the old folder kept aside and no longer used", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "qenex-legacy-"));
    // The single-process layout kept one PGlite in dataDir/pglite.
    const legacy = await createPgliteDb(dataDir);
    await legacy.exec("CREATE TABLE ledger_accounts (id text PRIMARY KEY); INSERT INTO ledger_accounts VALUES ('ACC001')");
    await legacy.close();

    const config = embeddedConfig(dataDir);
    expect(() => refuseLegacyDataDir(config)).toThrow(/qenex start/);
    expect(splitLegacyDataDir(config)).toMatch(/ledger, payments, risk, auth/);
    expect(fs.existsSync(path.join(dataDir, "pglite"))).toBe(false);
    expect(fs.readdirSync(dataDir).some((name) => name.startsWith("pglite.single-process-"))).toBe(true);
    const ledger = await createPgliteDb(path.join(dataDir, "ledger"));
    try {
      expect((await ledger.query("SELECT id FROM ledger_accounts")).rows).toEqual([{ id: "ACC001" }]);
    } finally {
      await ledger.close();
    }
    expect(splitLegacyDataDir(config)).toBeUndefined();
    expect(() => refuseLegacyDataDir(config)).not.toThrow();
  });

  it("is refused when a service already has a folder of its own: which one is current cannot be known", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "qenex-legacy-"));
    await (await createPgliteDb(dataDir)).close();
    await (await createPgliteDb(path.join(dataDir, "risk"))).close();
    expect(() => splitLegacyDataDir(embeddedConfig(dataDir))).toThrow(/both the single-process database/);
    expect(fs.existsSync(path.join(dataDir, "pglite", "PG_VERSION"))).toBe(true);
  });
});
