// The auth service's schema, as numbered migrations applied at start-up. Never edit an
// applied migration: add the next number.
import type { Migration } from "@qenex/platform";

export const authMigrations: readonly Migration[] = [
  {
    version: 1,
    name: "users and refresh-token sessions",
    sql: `
      CREATE TABLE auth_users (
        username text PRIMARY KEY CHECK (username ~ '^[A-Za-z0-9._@-]{1,64}$'),
        -- scrypt: base64 key and salt, and the parameters they were made with, so the
        -- parameters can be raised later without invalidating existing hashes.
        password_hash text NOT NULL,
        password_salt text NOT NULL,
        scrypt_n integer NOT NULL CHECK (scrypt_n BETWEEN 1024 AND 1048576),
        scrypt_r integer NOT NULL CHECK (scrypt_r BETWEEN 1 AND 32),
        scrypt_p integer NOT NULL CHECK (scrypt_p BETWEEN 1 AND 16),
        scrypt_key_length integer NOT NULL CHECK (scrypt_key_length BETWEEN 16 AND 64),
        roles text[] NOT NULL CHECK (
          cardinality(roles) BETWEEN 1 AND 5
          AND roles <@ ARRAY['admin', 'operator', 'auditor', 'customer', 'service']),
        owner_id text NOT NULL CHECK (length(owner_id) BETWEEN 1 AND 128),
        disabled boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );

      -- One sign-in and every refresh token rotated from it. Revoking the family (the
      -- one row every rotation locks) revokes all of its tokens at once.
      CREATE TABLE auth_refresh_families (
        id text PRIMARY KEY,
        username text NOT NULL REFERENCES auth_users (username),
        created_at timestamptz NOT NULL DEFAULT now(),
        -- Rotation does not extend a session: after this, sign in again.
        expires_at timestamptz NOT NULL,
        rotations integer NOT NULL DEFAULT 0,
        revoked_at timestamptz,
        revoked_reason text
      );
      CREATE INDEX auth_refresh_families_by_user ON auth_refresh_families (username, created_at);

      CREATE TABLE auth_refresh_tokens (
        id text PRIMARY KEY,
        family_id text NOT NULL REFERENCES auth_refresh_families (id) ON DELETE CASCADE,
        -- SHA-256 of the token (hex); the token itself is never stored.
        token_hash text NOT NULL UNIQUE,
        parent_id text REFERENCES auth_refresh_tokens (id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        -- Set when it was exchanged for its successor; presenting it again is reuse.
        used_at timestamptz
      );
      CREATE INDEX auth_refresh_tokens_by_family ON auth_refresh_tokens (family_id);
      CREATE INDEX auth_refresh_tokens_by_parent ON auth_refresh_tokens (parent_id);
    `,
  },
];
