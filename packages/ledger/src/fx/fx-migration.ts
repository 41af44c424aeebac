// Exchange rates: appended, never updated, so every FX transfer's rate stays traceable to
// the row it was taken from.
import type { Migration } from "@qenex/platform";

export const fxMigration: Migration = {
  version: 3,
  name: "exchange rates",
  sql: `
    CREATE TABLE ledger_exchange_rates (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      base_currency text NOT NULL CHECK (base_currency ~ '^[A-Z]{3}$'),
      quote_currency text NOT NULL CHECK (quote_currency ~ '^[A-Z]{3}$'),
      -- Units of quote per unit of base: the canonical decimal text recorded on transfers,
      -- and the same rate × 10^12 as an integer, which conversions compute with.
      rate text NOT NULL,
      rate_units bigint NOT NULL CHECK (rate_units > 0),
      valid_from timestamptz NOT NULL,
      valid_until timestamptz NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      CHECK (base_currency <> quote_currency),
      CHECK (valid_until > valid_from)
    );
    CREATE INDEX ledger_exchange_rates_by_pair ON ledger_exchange_rates (base_currency, quote_currency, valid_from DESC);

    CREATE FUNCTION ledger_exchange_rates_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'exchange rates are append-only: set a new rate instead' USING ERRCODE = 'P0001';
    END $$;
    CREATE TRIGGER ledger_exchange_rates_append_only BEFORE UPDATE OR DELETE ON ledger_exchange_rates
      FOR EACH ROW EXECUTE FUNCTION ledger_exchange_rates_append_only();
  `,
};
