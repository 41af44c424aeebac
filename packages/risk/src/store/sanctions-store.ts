// Sanctions lists in PostgreSQL: `qenex risk load-sanctions` replaces a list in one
// transaction and bumps its version; every risk replica rebuilds its in-memory index from
// here when the version changes.
import type { Db } from "@qenex/platform";
import type { SdnEntry } from "../screening/index.js";

/** Entries written per INSERT statement while loading a list. */
const insertBatchRows = 1000;

export function createSanctionsStore(db: Db) {
  return {
    /** Replaces the list's entries; returns its new version. */
    replaceList: (name: string, entries: readonly SdnEntry[]) =>
      db.transaction(async (tx) => {
        const { rows } = await tx.query<{ version: string }>(
          `INSERT INTO risk_sanctions_lists (name, version, entries) VALUES ($1, 1, $2)
           ON CONFLICT (name) DO UPDATE SET version = risk_sanctions_lists.version + 1, entries = excluded.entries, loaded_at = now()
           RETURNING version`,
          [name, entries.length],
        );
        await tx.query("DELETE FROM risk_sanctions_entries WHERE list_name = $1", [name]);
        for (let start = 0; start < entries.length; start += insertBatchRows) {
          const batch = entries.slice(start, start + insertBatchRows);
          await tx.query(
            "INSERT INTO risk_sanctions_entries (list_name, entry_id, entry) SELECT $1, * FROM unnest($2::text[], $3::text[])",
            [name, batch.map((e) => String(e.id)), batch.map((e) => JSON.stringify(e))],
          );
        }
        await tx.query("SELECT pg_notify('risk_changes', 'sanctions')");
        return Number(rows[0]?.version ?? 0);
      }),

    /** A fingerprint of every list's version: changes whenever a list is loaded. */
    async versions(): Promise<string> {
      const { rows } = await db.query<{ v: string | null }>(
        "SELECT string_agg(name || '@' || version, ',' ORDER BY name) AS v FROM risk_sanctions_lists",
      );
      return rows[0]?.v ?? "";
    },

    async allEntries(): Promise<{ list: string; entry: SdnEntry }[]> {
      const { rows } = await db.query<{ list_name: string; entry: string }>(
        "SELECT list_name, entry FROM risk_sanctions_entries ORDER BY list_name, entry_id",
      );
      return rows.map((r) => ({ list: r.list_name, entry: JSON.parse(r.entry) as SdnEntry }));
    },
  };
}

export type SanctionsStore = ReturnType<typeof createSanctionsStore>;
