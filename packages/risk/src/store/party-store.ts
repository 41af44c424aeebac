// Parties (KYC) and the ledger accounts they own.
import type { Db } from "@qenex/platform";

export type StoredParty = {
  id: string;
  name: string;
  type: number;
  country: string;
  dateOfBirth: string;
  level: number;
  status: number;
  screening: string;
  accountIds: string[];
  createdAt: Date;
  updatedAt: Date;
};

type PartyRow = {
  id: string;
  name: string;
  party_type: number;
  country: string;
  date_of_birth: string;
  level: number;
  status: number;
  screening: string;
  created_at: Date;
  updated_at: Date;
  account_ids: string[] | null;
};

const partySelect = `SELECT p.id, p.name, p.party_type, p.country, p.date_of_birth, p.level, p.status, p.screening, p.created_at, p.updated_at,
    (SELECT array_agg(a.account_id ORDER BY a.account_id) FROM risk_party_accounts a WHERE a.party_id = p.id) AS account_ids
  FROM risk_parties p`;

const toParty = (r: PartyRow): StoredParty => ({
  id: r.id,
  name: r.name,
  type: r.party_type,
  country: r.country,
  dateOfBirth: r.date_of_birth,
  level: r.level,
  status: r.status,
  screening: r.screening,
  accountIds: r.account_ids ?? [],
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export type PartyStore = ReturnType<typeof createPartyStore>;

export function createPartyStore(db: Db) {
  const get = async (id: string) => {
    const { rows } = await db.query<PartyRow>(`${partySelect} WHERE p.id = $1`, [id]);
    return rows[0] && toParty(rows[0]);
  };
  return {
    get,

    /**
     * Creates a party with its accounts. `exists` when the id is taken; `account taken` when one
     * of the accounts already belongs to another party (nothing is written then).
     */
    create: (p: Omit<StoredParty, "createdAt" | "updatedAt">) =>
      db.transaction(async (tx) => {
        const inserted = await tx.query(
          `INSERT INTO risk_parties (id, name, party_type, country, date_of_birth, level, status, screening)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING`,
          [p.id, p.name, p.type, p.country, p.dateOfBirth, p.level, p.status, p.screening],
        );
        if (inserted.rowCount === 0) return { kind: "exists" as const };
        const taken = await tx.query<{ account_id: string }>(
          "SELECT account_id FROM risk_party_accounts WHERE account_id = ANY($1::text[])",
          [p.accountIds],
        );
        if (taken.rows.length > 0) throw new AccountTaken(taken.rows.map((r) => r.account_id));
        await tx.query("INSERT INTO risk_party_accounts (account_id, party_id) SELECT unnest($1::text[]), $2", [p.accountIds, p.id]);
        return { kind: "created" as const };
      }),

    async setLevel(id: string, level: number): Promise<boolean> {
      const updated = await db.query("UPDATE risk_parties SET level = $2, updated_at = now() WHERE id = $1", [id, level]);
      return updated.rowCount > 0;
    },

    /** The party that owns an account, as scoring needs it. */
    /** The party of each of these accounts that has one, in one statement. */
    async ofAccounts(accountIds: readonly string[]): Promise<Map<string, { id: string; level: number; status: number }>> {
      const { rows } = await db.query<{ account_id: string; id: string; level: number; status: number }>(
        `SELECT a.account_id, p.id, p.level, p.status FROM risk_party_accounts a JOIN risk_parties p ON p.id = a.party_id
          WHERE a.account_id = ANY($1::text[])`,
        [accountIds],
      );
      return new Map(rows.map((r) => [r.account_id, { id: r.id, level: r.level, status: r.status }]));
    },

    async ofAccount(accountId: string): Promise<{ id: string; level: number; status: number } | undefined> {
      const { rows } = await db.query<{ id: string; level: number; status: number }>(
        "SELECT p.id, p.level, p.status FROM risk_party_accounts a JOIN risk_parties p ON p.id = a.party_id WHERE a.account_id = $1",
        [accountId],
      );
      return rows[0];
    },
  };
}

export class AccountTaken extends Error {
  constructor(readonly accountIds: string[]) {
    super(`accounts already belong to another party: ${accountIds.join(", ")}`);
  }
}
