// Runs once around a whole vitest run (vitest.config.ts globalSetup): with DATABASE_URL, makes
// the database of each worker (vitest-setup.ts points each file at its worker's) and drops
// them at the end.
import pg from "pg";
import type { TestProject } from "vitest/node";
import { createPostgresDb } from "../db.js";
import { workerDatabaseUrl } from "./test-run.js";

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) return undefined;
  const names = Array.from({ length: project.config.maxWorkers }, (_, i) =>
    decodeURIComponent(new URL(workerDatabaseUrl(databaseUrl, i + 1)).pathname.slice(1)),
  );
  const server = createPostgresDb(databaseUrl, 1);
  const dropAll = async () => {
    for (const name of names) await server.exec(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
  };
  try {
    await dropAll();
    for (const name of names) await server.exec(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  } catch (error) {
    await server.close();
    throw error;
  }
  return async () => {
    try {
      await dropAll();
    } finally {
      await server.close();
    }
  };
}
