// The risk service's schema, as numbered migrations applied at start-up. Never edit an
// applied migration: add the next number.
import type { Migration } from "@qenex/platform";

export const riskMigrations: readonly Migration[] = [
  {
    version: 1,
    name: "models, rules, scores, alerts, sanctions lists",
    sql: `
      CREATE TABLE risk_models (
        id text PRIMARY KEY,
        name text NOT NULL,
        features text NOT NULL,
        trees integer NOT NULL,
        sample_size integer NOT NULL,
        contamination double precision NOT NULL,
        threshold double precision NOT NULL,
        seed bigint NOT NULL,
        training_rows bigint NOT NULL,
        model text NOT NULL,
        active boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        activated_at timestamptz
      );
      -- One active model: every replica scores with the same one.
      CREATE UNIQUE INDEX risk_models_one_active ON risk_models (active) WHERE active;

      CREATE TABLE risk_rules (
        id text PRIMARY KEY,
        name text NOT NULL,
        expression text NOT NULL,
        severity integer NOT NULL,
        reason_code text NOT NULL,
        enabled boolean NOT NULL,
        version bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      );

      -- One result per transaction: scoring an id again returns the first result.
      CREATE TABLE risk_scores (
        transaction_id text PRIMARY KEY,
        account_id text NOT NULL,
        result text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE risk_alerts (
        id text PRIMARY KEY,
        transaction_id text NOT NULL UNIQUE REFERENCES risk_scores (transaction_id),
        account_id text NOT NULL,
        decision integer NOT NULL,
        score double precision NOT NULL,
        reasons text NOT NULL,
        status integer NOT NULL,
        disposition integer NOT NULL DEFAULT 0,
        note text NOT NULL DEFAULT '',
        resolved_by text NOT NULL DEFAULT '',
        created_at timestamptz NOT NULL DEFAULT now(),
        resolved_at timestamptz
      );
      CREATE INDEX risk_alerts_by_status ON risk_alerts (status, id);
      CREATE INDEX risk_alerts_by_account ON risk_alerts (account_id, id);

      CREATE TABLE risk_sanctions_lists (
        name text PRIMARY KEY,
        version bigint NOT NULL,
        entries bigint NOT NULL,
        loaded_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE risk_sanctions_entries (
        list_name text NOT NULL REFERENCES risk_sanctions_lists (name) ON DELETE CASCADE,
        entry_id text NOT NULL,
        entry text NOT NULL,
        PRIMARY KEY (list_name, entry_id)
      );

      -- Where the transfer monitor is in the ledger's commit order.
      CREATE TABLE risk_monitor_cursor (
        name text PRIMARY KEY,
        after_sequence bigint NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: "parties (KYC) and the accounts they own",
    sql: `
      CREATE TABLE risk_parties (
        id text PRIMARY KEY,
        name text NOT NULL,
        party_type integer NOT NULL,
        country text NOT NULL,
        date_of_birth text NOT NULL,
        level integer NOT NULL,
        status integer NOT NULL,
        screening text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      -- An account belongs to one party at most.
      CREATE TABLE risk_party_accounts (
        account_id text PRIMARY KEY,
        party_id text NOT NULL REFERENCES risk_parties (id)
      );
      CREATE INDEX risk_party_accounts_by_party ON risk_party_accounts (party_id);
    `,
  },
];
