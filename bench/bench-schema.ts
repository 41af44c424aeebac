// The raw SQL baseline's tables (bench_accounts, bench_transfers), shaped like the ledger's
// schema version 1: what transfers.ts's baseline and throughput.ts's pgbench script write.
export const benchSchemaSql = `
  CREATE TABLE bench_accounts (
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
    CONSTRAINT bench_accounts_no_overdraft CHECK (
      NOT debits_must_not_exceed_credits OR debits_posted + debits_pending <= credits_posted)
  );
  CREATE INDEX bench_accounts_by_owner ON bench_accounts (owner_id, id);
  CREATE INDEX bench_accounts_by_currency ON bench_accounts (currency, id);
  CREATE TABLE bench_transfers (
    id text PRIMARY KEY,
    seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    debit_account_id text NOT NULL REFERENCES bench_accounts (id),
    credit_account_id text NOT NULL REFERENCES bench_accounts (id),
    amount bigint NOT NULL CHECK (amount > 0),
    currency text NOT NULL,
    reference text NOT NULL DEFAULT '',
    kind integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (debit_account_id <> credit_account_id)
  );
  CREATE INDEX bench_transfers_by_debit ON bench_transfers (debit_account_id, seq);
  CREATE INDEX bench_transfers_by_credit ON bench_transfers (credit_account_id, seq);
`;
