// The ledger's schema, as numbered migrations applied at start-up. Never edit an applied
// migration: add the next number.
import type { Migration } from "@qenex/platform";

export const ledgerMigrations: readonly Migration[] = [
  {
    version: 1,
    name: "accounts and transfers",
    sql: `
      CREATE TABLE ledger_accounts (
        id text PRIMARY KEY,
        account_type integer NOT NULL,
        currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
        owner_id text NOT NULL DEFAULT '',
        debits_must_not_exceed_credits boolean NOT NULL,
        debits_posted bigint NOT NULL DEFAULT 0 CHECK (debits_posted >= 0),
        credits_posted bigint NOT NULL DEFAULT 0 CHECK (credits_posted >= 0),
        debits_pending bigint NOT NULL DEFAULT 0 CHECK (debits_pending >= 0),
        credits_pending bigint NOT NULL DEFAULT 0 CHECK (credits_pending >= 0),
        status text NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'CLOSED')),
        created_at timestamptz NOT NULL DEFAULT now(),
        closed_at timestamptz,
        -- The last line of defence: the database itself refuses an overdraft.
        CONSTRAINT ledger_accounts_no_overdraft CHECK (
          NOT debits_must_not_exceed_credits OR debits_posted + debits_pending <= credits_posted)
      );
      CREATE INDEX ledger_accounts_by_owner ON ledger_accounts (owner_id, id);
      CREATE INDEX ledger_accounts_by_currency ON ledger_accounts (currency, id);

      CREATE TABLE ledger_transfers (
        id text PRIMARY KEY,
        seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
        debit_account_id text NOT NULL REFERENCES ledger_accounts (id),
        credit_account_id text NOT NULL REFERENCES ledger_accounts (id),
        amount bigint NOT NULL CHECK (amount > 0),
        currency text NOT NULL,
        reference text NOT NULL DEFAULT '',
        kind integer NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CHECK (debit_account_id <> credit_account_id)
      );
      CREATE INDEX ledger_transfers_by_debit ON ledger_transfers (debit_account_id, seq);
      CREATE INDEX ledger_transfers_by_credit ON ledger_transfers (credit_account_id, seq);

      -- Transfers are facts: corrections are new transfers, never edits.
      CREATE FUNCTION ledger_transfers_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'ledger transfers are immutable' USING ERRCODE = 'P0001';
      END $$;
      CREATE TRIGGER ledger_transfers_immutable BEFORE UPDATE OR DELETE ON ledger_transfers
        FOR EACH ROW EXECUTE FUNCTION ledger_transfers_immutable();

      -- Ids whose create failed for a state-dependent reason: a retry returns the same failure.
      CREATE TABLE ledger_transfer_failures (
        id text PRIMARY KEY,
        debit_account_id text NOT NULL,
        credit_account_id text NOT NULL,
        amount bigint NOT NULL,
        currency text NOT NULL,
        reference text NOT NULL,
        kind integer NOT NULL,
        status integer NOT NULL,
        message text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
];
