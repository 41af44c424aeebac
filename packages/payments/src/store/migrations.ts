// The payments service's schema, as numbered migrations applied at start-up. Never edit an
// applied migration: add the next number.
import type { Migration } from "@qenex/platform";

export const paymentsMigrations: readonly Migration[] = [
  {
    version: 1,
    name: "payments, transitions, jobs, dead letters, messages, ingested messages",
    sql: `
      CREATE TABLE payments (
        payment_id text PRIMARY KEY,
        rail text NOT NULL,
        rail_reason text NOT NULL,
        state text NOT NULL,
        state_reason text NOT NULL,
        debtor_account text NOT NULL,
        amount_minor bigint NOT NULL CHECK (amount_minor > 0),
        currency text NOT NULL,
        reference text NOT NULL,
        debtor text NOT NULL,
        creditor text NOT NULL,
        urgent boolean NOT NULL,
        charges text NOT NULL,
        message_format text NOT NULL,
        uetr text NOT NULL UNIQUE,
        -- A retry with the same payment_id must carry the same content.
        request_hash text NOT NULL,
        risk_score double precision NOT NULL DEFAULT 0,
        risk_decision text NOT NULL DEFAULT '',
        alert_id text NOT NULL DEFAULT '',
        reason_code text NOT NULL DEFAULT '',
        hold_transfer_id text NOT NULL DEFAULT '',
        settle_transfer_id text NOT NULL DEFAULT '',
        return_transfer_id text NOT NULL DEFAULT '',
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX payments_newest ON payments (created_at DESC, payment_id DESC);
      CREATE INDEX payments_by_debtor ON payments (debtor_account, created_at DESC);
      -- The ACH cut-off gathers reserved ACH payments.
      CREATE INDEX payments_by_state ON payments (rail, state);

      -- Every state change, with its time and reason: the payment's history.
      CREATE TABLE payment_transitions (
        sequence bigserial PRIMARY KEY,
        payment_id text NOT NULL REFERENCES payments (payment_id),
        from_state text NOT NULL,
        to_state text NOT NULL,
        reason text NOT NULL,
        actor text NOT NULL,
        at timestamptz NOT NULL DEFAULT clock_timestamp()
      );
      CREATE INDEX payment_transitions_by_payment ON payment_transitions (payment_id, sequence);

      -- The outbox: work scheduled in the same transaction as the state change that needs it.
      -- A worker leases a job (leased_until) before doing it, so a crashed worker's job is
      -- taken over once the lease passes.
      CREATE TABLE payment_jobs (
        job_id bigserial PRIMARY KEY,
        kind text NOT NULL,
        payment_id text REFERENCES payments (payment_id),
        payload text NOT NULL,
        -- At most one job of a kind per payment (or per message) waits at a time.
        dedupe_key text NOT NULL UNIQUE,
        run_at timestamptz NOT NULL DEFAULT now(),
        leased_until timestamptz,
        attempts integer NOT NULL DEFAULT 0,
        last_error text NOT NULL DEFAULT '',
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX payment_jobs_due ON payment_jobs (run_at);

      -- Poison work parked after too many attempts, for an operator to look at.
      CREATE TABLE payment_dead_letters (
        job_id bigint PRIMARY KEY,
        kind text NOT NULL,
        payment_id text,
        payload text NOT NULL,
        attempts integer NOT NULL,
        last_error text NOT NULL,
        created_at timestamptz NOT NULL,
        dead_at timestamptz NOT NULL DEFAULT now()
      );

      -- Exactly the bytes sent to or received from a network.
      CREATE TABLE payment_messages (
        message_id text NOT NULL,
        direction text NOT NULL,
        rail text NOT NULL,
        format text NOT NULL,
        message_type text NOT NULL,
        content text NOT NULL,
        at timestamptz NOT NULL DEFAULT clock_timestamp(),
        PRIMARY KEY (message_id, direction)
      );
      -- A NACHA file carries many payments.
      CREATE TABLE payment_message_links (
        message_id text NOT NULL,
        direction text NOT NULL,
        payment_id text NOT NULL REFERENCES payments (payment_id),
        PRIMARY KEY (payment_id, message_id, direction),
        FOREIGN KEY (message_id, direction) REFERENCES payment_messages (message_id, direction)
      );

      -- Inbound messages, once each: ingesting one again returns this outcome.
      CREATE TABLE payment_ingests (
        message_id text PRIMARY KEY,
        format text NOT NULL,
        content_hash text NOT NULL,
        result text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
  {
    version: 2,
    name: "dead letters keep their job's dedupe key, so they can be requeued",
    sql: `ALTER TABLE payment_dead_letters ADD COLUMN dedupe_key text NOT NULL DEFAULT '';`,
  },
];
