// SQL for refresh-token sessions: a family per sign-in, a token row per rotation. A token
// is valid while it is unused and its family is neither revoked nor expired.
import { randomUUID } from "node:crypto";
import type { Db, Queryable, Role } from "@qenex/platform";
import { canonicalRoles } from "../domain/users.js";

/** Live sessions per user; signing in beyond it revokes the oldest. */
export const sessionsPerUserMax = 100;
/** Refreshes per session: at the default 15-minute access token, ~100 days of use. */
export const rotationsPerSessionMax = 10_000;
/** How long a revoked session stays to answer "revoked" rather than "invalid". */
const revokedKeptSeconds = 86_400;

export type SessionUser = { username: string; roles: Role[]; ownerId: string };

type SessionUserRow = { username: string; roles: string[]; owner_id: string; disabled: boolean };

function toSessionUser(row: SessionUserRow): SessionUser {
  return { username: row.username, roles: canonicalRoles(row.roles), ownerId: row.owner_id };
}

/**
 * Starts a session for a user who just proved their password: the user is locked and read
 * again, so a concurrent disable wins. Prunes the user's dead sessions and keeps at most
 * `sessionsPerUserMax` live ones. Undefined when the user is gone or disabled.
 */
export async function startSession(
  db: Db,
  username: string,
  tokenHash: string,
  ttlSeconds: number,
): Promise<{ user: SessionUser; expiresAt: Date } | undefined> {
  return db.transaction(async (tx) => {
    const { rows: users } = await tx.query<SessionUserRow>(
      "SELECT username, roles, owner_id, disabled FROM auth_users WHERE username = $1 FOR UPDATE",
      [username],
    );
    const user = users[0];
    if (!user || user.disabled) return undefined;
    await tx.query(
      `DELETE FROM auth_refresh_families
       WHERE username = $1 AND (expires_at < now() OR revoked_at < now() - make_interval(secs => $2))`,
      [username, revokedKeptSeconds],
    );
    await tx.query(
      `UPDATE auth_refresh_families SET revoked_at = now(), revoked_reason = 'too many sessions'
       WHERE id IN (
         SELECT id FROM auth_refresh_families
         WHERE username = $1 AND revoked_at IS NULL AND expires_at > now()
         ORDER BY created_at DESC, id OFFSET $2)`,
      [username, sessionsPerUserMax - 1],
    );
    const familyId = randomUUID();
    const { rows } = await tx.query<{ expires_at: Date }>(
      `INSERT INTO auth_refresh_families (id, username, expires_at) VALUES ($1, $2, now() + make_interval(secs => $3))
       RETURNING expires_at`,
      [familyId, username, ttlSeconds],
    );
    await tx.query("INSERT INTO auth_refresh_tokens (id, family_id, token_hash) VALUES ($1, $2, $3)", [randomUUID(), familyId, tokenHash]);
    return { user: toSessionUser(user), expiresAt: (rows[0] as { expires_at: Date }).expires_at };
  });
}

export type RotateOutcome =
  | { kind: "rotated"; user: SessionUser; expiresAt: Date }
  | { kind: "unknown" | "revoked" | "expired" | "reused" | "exhausted" | "disabled" };

type TokenRow = { id: string; family_id: string; used_at: Date | null };
type FamilyRow = { username: string; expires_at: Date; live: boolean; revoked_at: Date | null; rotations: number };

/**
 * Exchanges the token with `presentedHash` for one with `nextHash` in the same family.
 * The token row is locked, so of two concurrent exchanges of one token the second sees it
 * used: that is reuse, and the family is revoked (committed, so the caller's error follows
 * a durable revocation).
 */
export async function rotateRefreshToken(db: Db, presentedHash: string, nextHash: string): Promise<RotateOutcome> {
  return db.transaction(async (tx): Promise<RotateOutcome> => {
    const { rows: tokens } = await tx.query<TokenRow>(
      "SELECT id, family_id, used_at FROM auth_refresh_tokens WHERE token_hash = $1 FOR UPDATE",
      [presentedHash],
    );
    const token = tokens[0];
    if (!token) return { kind: "unknown" };
    const { rows: families } = await tx.query<FamilyRow>(
      `SELECT username, expires_at, expires_at > now() AS live, revoked_at, rotations
       FROM auth_refresh_families WHERE id = $1 FOR UPDATE`,
      [token.family_id],
    );
    const family = families[0] as FamilyRow;
    if (family.revoked_at !== null) return { kind: "revoked" };
    if (token.used_at !== null) {
      await revokeFamily(tx, token.family_id, "refresh token reused");
      return { kind: "reused" };
    }
    if (!family.live) return { kind: "expired" };
    if (family.rotations >= rotationsPerSessionMax) {
      await revokeFamily(tx, token.family_id, "rotation limit");
      return { kind: "exhausted" };
    }
    const { rows: users } = await tx.query<SessionUserRow>(
      "SELECT username, roles, owner_id, disabled FROM auth_users WHERE username = $1",
      [family.username],
    );
    const user = users[0];
    if (!user || user.disabled) return { kind: "disabled" };
    await tx.query("UPDATE auth_refresh_tokens SET used_at = now() WHERE id = $1", [token.id]);
    await tx.query("INSERT INTO auth_refresh_tokens (id, family_id, token_hash, parent_id) VALUES ($1, $2, $3, $4)", [
      randomUUID(),
      token.family_id,
      nextHash,
      token.id,
    ]);
    await tx.query("UPDATE auth_refresh_families SET rotations = rotations + 1 WHERE id = $1", [token.family_id]);
    return { kind: "rotated", user: toSessionUser(user), expiresAt: family.expires_at };
  });
}

async function revokeFamily(tx: Queryable, familyId: string, reason: string): Promise<void> {
  await tx.query("UPDATE auth_refresh_families SET revoked_at = now(), revoked_reason = $2 WHERE id = $1 AND revoked_at IS NULL", [
    familyId,
    reason,
  ]);
}

/** Revokes the session the token belongs to; nothing happens for an unknown token. */
export async function revokeSessionOfToken(db: Db, tokenHash: string): Promise<void> {
  await db.query(
    `UPDATE auth_refresh_families SET revoked_at = now(), revoked_reason = 'revoked by client'
     WHERE id = (SELECT family_id FROM auth_refresh_tokens WHERE token_hash = $1) AND revoked_at IS NULL`,
    [tokenHash],
  );
}

export async function revokeUserSessions(tx: Queryable, username: string, reason: string): Promise<void> {
  await tx.query("UPDATE auth_refresh_families SET revoked_at = now(), revoked_reason = $2 WHERE username = $1 AND revoked_at IS NULL", [
    username,
    reason,
  ]);
}
