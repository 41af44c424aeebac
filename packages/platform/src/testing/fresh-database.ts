// A PostgreSQL database of a test's own beside DATABASE_URL's, for tests that must not share
// one: workers that claim any due job, monitors that follow every transfer, whole-book checks.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { createPostgresDb } from "../db.js";

/** PostgreSQL truncates longer identifiers (NAMEDATALEN - 1), so two names could meet. */
const databaseNameLengthMax = 63;

export type FreshDatabase = {
  /** The new database's URL; undefined without DATABASE_URL (the caller runs embedded). */
  url: string | undefined;
  /** Drops the database, ending any session still on it. Safe to call more than once. */
  drop(): Promise<void>;
};

/**
 * Creates an empty database named `<prefix>_<pid>_<random>` on DATABASE_URL's server. Without
 * DATABASE_URL there is nothing to create: `url` is undefined and `drop` does nothing.
 */
export async function freshDatabase(prefix: string): Promise<FreshDatabase> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) return { url: undefined, drop: async () => {} };
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString("hex")}`;
  if (!/^[a-z_][a-z0-9_]*$/.test(name) || name.length > databaseNameLengthMax) {
    throw new Error(`database name ${name} must be lower-case letters, digits and _ and at most ${databaseNameLengthMax} characters`);
  }
  const identifier = pg.escapeIdentifier(name);
  await onServer(serverUrl, `CREATE DATABASE ${identifier}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.toString(),
    async drop() {
      if (dropped) return;
      dropped = true;
      await onServer(serverUrl, `DROP DATABASE IF EXISTS ${identifier} WITH (FORCE)`);
    },
  };
}

async function onServer(serverUrl: string, sql: string): Promise<void> {
  const admin = createPostgresDb(serverUrl, 1);
  try {
    await admin.exec(sql);
  } finally {
    await admin.close();
  }
}
