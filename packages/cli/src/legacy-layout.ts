// Data left by the single-process layout, where every service shared one database: moved
// into the per-service layout (embedded) or refused with what to do (PostgreSQL), never
// silently ignored — a service starting empty beside its old data would look like data loss.
import * as fs from "node:fs";
import * as path from "node:path";
import { type Config, ConfigError, type ServiceName, serviceNames, serviceStorage } from "@qenex/platform/config";

/** The embedded database of the single-process layout, shared by every service. */
export function legacyPgliteDir(dataDir: string): string {
  return path.join(dataDir, "pglite");
}

/**
 * Splits a single-process PGlite folder into one per service: each service gets a copy of
 * the whole database (its own tables, already migrated, among the others' which it never
 * reads), and the old folder is renamed so it is kept but no longer used. Returns what it
 * did, for the supervisor to print; undefined when there was nothing to do.
 */
export function splitLegacyDataDir(config: Pick<Config, "dataDir" | "databaseUrl" | "serviceDatabaseUrls">): string | undefined {
  const legacy = legacyPgliteDir(config.dataDir);
  if (!fs.existsSync(path.join(legacy, "PG_VERSION"))) return undefined;
  const embedded = serviceNames.filter((name) => serviceStorage(config, name).databaseUrl === undefined);
  const copied: ServiceName[] = [];
  for (const name of embedded) {
    const target = path.join(serviceStorage(config, name).dataDir, "pglite");
    if (fs.existsSync(target)) {
      throw new ConfigError([
        `${config.dataDir} holds both the single-process database (pglite/) and ${name}'s own (${name}/pglite/); ` +
          `move one of them away: which is current cannot be known`,
      ]);
    }
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.cpSync(legacy, target, { recursive: true });
    copied.push(name);
  }
  const kept = `${legacy}.single-process-${new Date().toISOString().replace(/[:.]/g, "-")}`;
  fs.renameSync(legacy, kept);
  return `moved the single-process database into a folder per service (${copied.join(", ")}); the old folder is kept as ${kept}`;
}

/** `qenex serve` alone does not split (replicas could race); it says what to do instead. */
export function refuseLegacyDataDir(config: Pick<Config, "dataDir">): void {
  if (fs.existsSync(path.join(legacyPgliteDir(config.dataDir), "PG_VERSION"))) {
    throw new ConfigError([
      `${config.dataDir}/pglite is the single-process layout's database; run \`qenex start\` once to split it into a folder per service`,
    ]);
  }
}

/**
 * On PostgreSQL, a service whose schema is empty while `public` holds its tables from the
 * single-process layout is refused: the tables must be moved (or the service pointed at them).
 */
export async function checkLegacyPostgresLayout(config: Config, name: ServiceName): Promise<void> {
  const { databaseUrl, schema } = serviceStorage(config, name);
  if (databaseUrl === undefined) return refuseLegacyDataDir(config);
  const { createPostgresDb } = await import("@qenex/platform");
  const db = createPostgresDb(databaseUrl, 1);
  try {
    const { rows } = await db.query<{ own: string | null; legacy: string | null }>(
      "SELECT to_regclass($1) AS own, to_regclass('public.schema_migrations') AS legacy",
      [`${schema}.schema_migrations`],
    );
    if (rows[0]?.own !== null || rows[0]?.legacy === null) return;
    const legacy = await db.query("SELECT 1 FROM public.schema_migrations WHERE service = $1 LIMIT 1", [name]);
    if (legacy.rowCount === 0) return;
    throw new ConfigError([
      `the ${name} tables of the single-process layout are in schema public of its database, and schema ${schema} is empty: ` +
        `move them (ALTER TABLE public.<table> SET SCHEMA ${schema}, for each, with public.schema_migrations' ${name} rows ` +
        `into ${schema}.schema_migrations), or give ${name} a new database with QENEX_${name.toUpperCase()}_DATABASE_URL`,
    ]);
  } finally {
    await db.close();
  }
}
