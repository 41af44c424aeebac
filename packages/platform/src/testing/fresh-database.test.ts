import { describe, expect, it } from "vitest";
import { createPostgresDb } from "../db.js";
import { freshDatabase } from "./fresh-database.js";
import { until } from "./until.js";

const serverUrl = process.env.DATABASE_URL;

async function databaseExists(name: string): Promise<boolean> {
  const admin = createPostgresDb(serverUrl as string, 1);
  try {
    const { rows } = await admin.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname = $1", [name]);
    return rows.length === 1;
  } finally {
    await admin.close();
  }
}

describe.runIf(Boolean(serverUrl))("freshDatabase on PostgreSQL", () => {
  it("creates an empty database beside DATABASE_URL's and drops it, sessions still on it included", async () => {
    const database = await freshDatabase("qenex_fresh_test");
    const name = new URL(database.url as string).pathname.slice(1);
    expect(name).toMatch(/^qenex_fresh_test_\d+_[0-9a-f]{8}$/);
    const db = createPostgresDb(database.url as string, 1);
    try {
      const { rows } = await db.query<{ tables: string }>(
        "SELECT count(*)::text AS tables FROM information_schema.tables WHERE table_schema = 'public'",
      );
      expect(rows[0]?.tables).toBe("0");
      await database.drop();
      expect(await databaseExists(name)).toBe(false);
    } finally {
      await db.close().catch(() => undefined);
    }
  });

  it("refuses a name PostgreSQL would truncate or fold", async () => {
    await expect(freshDatabase("x".repeat(60))).rejects.toThrow(/at most 63 characters/);
    await expect(freshDatabase("Upper")).rejects.toThrow(/lower-case letters/);
  });
});

describe.runIf(!serverUrl)("freshDatabase without DATABASE_URL", () => {
  it("creates nothing: the caller runs embedded", async () => {
    const database = await freshDatabase("qenex_fresh_test");
    expect(database.url).toBeUndefined();
    await database.drop();
  });
});

describe("until", () => {
  it("returns the first value the probe gives", async () => {
    let calls = 0;
    expect(await until("the third call", async () => (++calls === 3 ? "third" : undefined), 5, 1)).toBe("third");
    expect(calls).toBe(3);
  });

  it("gives up after its attempts, naming what it waited for", async () => {
    let calls = 0;
    await expect(until("nothing", async () => void calls++, 4, 1)).rejects.toThrow(
      "gave up waiting for nothing after 4 attempts 1 ms apart",
    );
    expect(calls).toBe(4);
  });
});
