// The ledger's schema, as numbered migrations applied at start-up. Never edit an applied
// migration: add the next number.
import type { Migration } from "@qenex/platform";
import { fxMigration } from "../fx/fx-migration.js";

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
  {
    version: 2,
    name: "two-phase transfers, reversals, commit order, audit chain",
    sql: `
      ALTER TABLE ledger_transfers
        ADD COLUMN pending_id text,
        ADD COLUMN expires_at timestamptz,
        ADD COLUMN linked boolean NOT NULL DEFAULT false,
        ADD COLUMN reversal_of text,
        ADD COLUMN exchange_rate text NOT NULL DEFAULT '',
        -- Commit order: assigned under the ledger_head lock, so a larger number always
        -- commits later. WatchTransfers and its cursors follow it.
        ADD COLUMN commit_seq bigint UNIQUE,
        ADD COLUMN signature text NOT NULL DEFAULT '',
        ADD COLUMN key_id text NOT NULL DEFAULT '';
      ALTER TABLE ledger_transfers DISABLE TRIGGER ledger_transfers_immutable;
      UPDATE ledger_transfers SET commit_seq = seq;
      ALTER TABLE ledger_transfers ENABLE TRIGGER ledger_transfers_immutable;
      ALTER TABLE ledger_transfers ALTER COLUMN commit_seq SET NOT NULL;
      CREATE INDEX ledger_transfers_by_pending ON ledger_transfers (pending_id) WHERE pending_id IS NOT NULL;
      CREATE INDEX ledger_transfers_by_reversal ON ledger_transfers (reversal_of) WHERE reversal_of IS NOT NULL;

      ALTER TABLE ledger_transfer_failures
        ADD COLUMN pending_id text,
        ADD COLUMN reversal_of text,
        ADD COLUMN linked boolean NOT NULL DEFAULT false;

      -- The one mutable fact about a pending transfer: whether it still reserves funds.
      CREATE TABLE ledger_pending (
        transfer_id text PRIMARY KEY REFERENCES ledger_transfers (id),
        state text NOT NULL CHECK (state IN ('PENDING', 'POSTED', 'VOIDED', 'EXPIRED')),
        expires_at timestamptz,
        resolved_by text
      );
      CREATE INDEX ledger_pending_expiring ON ledger_pending (expires_at)
        WHERE state = 'PENDING' AND expires_at IS NOT NULL;

      -- One row: the last commit sequence and the audit chain's head. Every write takes
      -- its lock last (after the accounts), which orders commits.
      CREATE TABLE ledger_head (
        id boolean PRIMARY KEY DEFAULT true CHECK (id),
        commit_seq bigint NOT NULL,
        audit_seq bigint NOT NULL,
        audit_hash text NOT NULL
      );
      INSERT INTO ledger_head (commit_seq, audit_seq, audit_hash)
        SELECT COALESCE(MAX(commit_seq), 0), 0, '' FROM ledger_transfers;

      -- Append-only, HMAC-SHA256 hash-chained: hash = HMAC(key, prev_hash || payload).
      CREATE TABLE ledger_audit (
        seq bigint PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        kind text NOT NULL,
        subject text NOT NULL,
        payload text NOT NULL,
        prev_hash text NOT NULL,
        hash text NOT NULL,
        key_id text NOT NULL
      );
      CREATE FUNCTION ledger_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'the audit log is append-only' USING ERRCODE = 'P0001';
      END $$;
      CREATE TRIGGER ledger_audit_append_only BEFORE UPDATE OR DELETE ON ledger_audit
        FOR EACH ROW EXECUTE FUNCTION ledger_audit_append_only();
    `,
  },
  fxMigration,
  {
    version: 4,
    name: "transfers ordered by commit sequence only",
    sql: `
      -- commit_seq replaced seq as the order of transfers (ListTransfers, WatchTransfers),
      -- so seq and the per-account indexes on it were upkeep on every insert for no reader.
      CREATE INDEX ledger_transfers_by_debit_commit ON ledger_transfers (debit_account_id, commit_seq);
      CREATE INDEX ledger_transfers_by_credit_commit ON ledger_transfers (credit_account_id, commit_seq);
      DROP INDEX ledger_transfers_by_debit;
      DROP INDEX ledger_transfers_by_credit;
      ALTER TABLE ledger_transfers DROP COLUMN seq;
    `,
  },
];
