// `qenex risk load-sanctions DIR`: parses an OFAC SDN list and replaces it in the database
// the risk service reads; running replicas reload it (NOTIFY), new ones load it at start.
import * as path from "node:path";
import { parseArgs } from "node:util";
import { createDb, loadConfig, migrate } from "@qenex/platform";
import { createSanctionsStore, readSdnDirectory, riskMigrations } from "@qenex/risk";

export async function loadSanctions(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { list: { type: "string", default: "SDN" } } });
  const [directory] = positionals;
  if (!directory || positionals.length > 1) {
    process.stderr.write("usage: qenex risk load-sanctions DIR [--list NAME]\n");
    return 2;
  }
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(values.list)) {
    process.stderr.write("qenex: --list must be 1 to 64 letters, digits, '.', '_' or '-'\n");
    return 2;
  }
  const config = loadConfig(process.env, { forServer: false });
  let entries: Awaited<ReturnType<typeof readSdnDirectory>>;
  try {
    entries = await readSdnDirectory(path.resolve(directory));
  } catch (error) {
    process.stderr.write(`qenex: ${(error as Error).message}\n`);
    return 1;
  }
  const db = await createDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolMax: 2 });
  try {
    await migrate(db, "risk", riskMigrations);
    const version = await createSanctionsStore(db).replaceList(values.list, entries);
    const aliases = entries.reduce((sum, e) => sum + e.aliases.length, 0);
    process.stdout.write(`loaded ${entries.length} entries (${aliases} aliases) as list ${values.list}, version ${version}\n`);
    return 0;
  } finally {
    await db.close();
  }
}
