import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { createDb, createPgliteDb, type Migration, migrate } from "./db.js";

const databaseUrl = process.env.DATABASE_URL;

describe(`Db (${databaseUrl ? "PostgreSQL" : "PGlite"})`, () => {
  const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), "qenex-db-"));

  it("applies each migration once, also after a restart of the embedded engine", async () => {
    const dir = tempDir();
    const table = `t_${Date.now()}_${process.pid}`;
    const migrations: Migration[] = [
      { version: 1, name: "first", sql: `CREATE TABLE ${table} (a int); INSERT INTO ${table} VALUES (1);` },
      { version: 2, name: "second", sql: `INSERT INTO ${table} VALUES (2);` },
    ];
    const service = `test-${table}`;
    const first = await createDb({ databaseUrl, dataDir: dir, poolMax: 2 });
    expect(await migrate(first, service, migrations.slice(0, 1))).toEqual([1]);
    await first.close();
    const second = await createDb({ databaseUrl, dataDir: dir, poolMax: 2 });
    expect(await migrate(second, service, migrations)).toEqual([2]);
    expect(await migrate(second, service, migrations)).toEqual([]);
    const { rows } = await second.query<{ a: number }>(`SELECT a FROM ${table} ORDER BY a`);
    expect(rows.map((r) => r.a)).toEqual([1, 2]);
    await second.close();
  });

  it("counts rows returned and rows changed", async () => {
    const db = await createDb({ databaseUrl, dataDir: tempDir(), poolMax: 2 });
    expect((await db.query("SELECT 1 AS x UNION ALL SELECT 2")).rowCount).toBe(2);
    const table = `c_${Date.now()}_${process.pid}`;
    await db.exec(`CREATE TABLE ${table} (a int)`);
    expect((await db.query(`INSERT INTO ${table} SELECT generate_series(1, 3)`)).rowCount).toBe(3);
    expect((await db.query(`SELECT * FROM ${table} WHERE a > 5`)).rowCount).toBe(0);
    await db.close();
  });

  it("returns BIGINT as an exact string", async () => {
    const db = await createDb({ databaseUrl, dataDir: tempDir(), poolMax: 2 });
    const { rows } = await db.query<{ big: unknown }>("SELECT 9223372036854775807::bigint AS big");
    expect(rows[0]?.big).toBe("9223372036854775807");
    await db.close();
  });

  it("rolls a failed transaction back", async () => {
    const db = await createPgliteDb(tempDir());
    await db.exec("CREATE TABLE r (a int)");
    await expect(
      db.transaction(async (tx) => {
        await tx.query("INSERT INTO r VALUES (1)");
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect((await db.query("SELECT * FROM r")).rowCount).toBe(0);
    await db.close();
  });
});
