// `qenex risk load-sanctions DIR`: parses an OFAC SDN list and replaces it in the database
// the risk service reads; running replicas reload it (NOTIFY), new ones load it at start.
import { readFile, stat } from "node:fs/promises";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { createDb, loadConfig, migrate, serviceStorage } from "@qenex/platform";
import { createSanctionsStore, parseSdnList, readSdnDirectory, riskMigrations } from "@qenex/risk";

/**
 * A directory holding sdn.csv (and alt.csv, add.csv), or the sdn.csv file itself, with its
 * alt.csv and add.csv read from beside it when they are there.
 */
async function readList(location: string) {
  if ((await stat(location)).isDirectory()) return readSdnDirectory(location);
  const directory = path.dirname(location);
  const beside = async (name: string) => {
    const candidate = path.join(directory, name);
    return (await stat(candidate).catch(() => undefined))?.isFile() ? readFile(candidate, "utf8") : undefined;
  };
  const [alt, add] = [await beside("alt.csv"), await beside("add.csv")];
  return parseSdnList({
    sdn: await readFile(location, "utf8"),
    ...(alt === undefined ? {} : { alt }),
    ...(add === undefined ? {} : { add }),
  });
}

export async function loadSanctions(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { list: { type: "string", default: "SDN" } } });
  const [directory] = positionals;
  if (!directory || positionals.length > 1) {
    process.stderr.write("usage: qenex risk load-sanctions DIR|SDN.CSV [--list NAME]\n");
    return 2;
  }
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(values.list)) {
    process.stderr.write("qenex: --list must be 1 to 64 letters, digits, '.', '_' or '-'\n");
    return 2;
  }
  const config = loadConfig(process.env, { forServer: false });
  let entries: Awaited<ReturnType<typeof readSdnDirectory>>;
  try {
    entries = await readList(path.resolve(directory));
  } catch (error) {
    process.stderr.write(`qenex: ${(error as Error).message}\n`);
    return 1;
  }
  const db = await createDb({ ...serviceStorage(config, "risk"), poolMax: 2 });
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
