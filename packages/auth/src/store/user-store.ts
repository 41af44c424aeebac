// SQL for auth_users: reads, creates, role and password changes, and the guard that keeps
// at least one enabled admin.
import { Code } from "@connectrpc/connect";
import { type Db, DomainError, type Queryable, type Role } from "@qenex/platform";
import { canonicalRoles, type User } from "../domain/users.js";
import type { StoredPassword } from "../passwords.js";
import { revokeUserSessions } from "./session-store.js";

export type UserWithPassword = User & { password: StoredPassword };

type UserRow = {
  username: string;
  password_hash: string;
  password_salt: string;
  scrypt_n: number;
  scrypt_r: number;
  scrypt_p: number;
  scrypt_key_length: number;
  roles: string[];
  owner_id: string;
  disabled: boolean;
  created_at: Date;
  updated_at: Date;
};

const userColumns = `username, password_hash, password_salt, scrypt_n, scrypt_r, scrypt_p, scrypt_key_length,
  roles, owner_id, disabled, created_at, updated_at`;

/** Serialises the changes that could remove the last enabled admin. */
const adminsLockKey = "qenex:auth:admins";

function toUser(row: UserRow): UserWithPassword {
  return {
    username: row.username,
    roles: canonicalRoles(row.roles),
    ownerId: row.owner_id,
    disabled: row.disabled,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    password: {
      hash: Buffer.from(row.password_hash, "base64"),
      salt: Buffer.from(row.password_salt, "base64"),
      params: { n: row.scrypt_n, r: row.scrypt_r, p: row.scrypt_p, keyLength: row.scrypt_key_length },
    },
  };
}

function passwordParams(password: StoredPassword): unknown[] {
  const { hash, salt, params } = password;
  return [hash.toString("base64"), salt.toString("base64"), params.n, params.r, params.p, params.keyLength];
}

export async function findUser(q: Queryable, username: string, options: { lock?: boolean } = {}): Promise<UserWithPassword | undefined> {
  const lock = options.lock ? " FOR UPDATE" : "";
  const { rows } = await q.query<UserRow>(`SELECT ${userColumns} FROM auth_users WHERE username = $1${lock}`, [username]);
  return rows[0] ? toUser(rows[0]) : undefined;
}

export type NewUser = { username: string; password: StoredPassword; roles: readonly Role[]; ownerId: string };

/** Inserts the user; undefined when the username is taken. */
export async function insertUser(q: Queryable, user: NewUser): Promise<UserWithPassword | undefined> {
  const { rows } = await q.query<UserRow>(
    `INSERT INTO auth_users (username, password_hash, password_salt, scrypt_n, scrypt_r, scrypt_p, scrypt_key_length, roles, owner_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text[], $9)
     ON CONFLICT (username) DO NOTHING
     RETURNING ${userColumns}`,
    [user.username, ...passwordParams(user.password), canonicalRoles(user.roles), user.ownerId],
  );
  return rows[0] ? toUser(rows[0]) : undefined;
}

/**
 * Inserts the user only while no user exists. Replicas starting together may all try:
 * the primary key lets one insert win, and only that one gets the row back.
 */
export async function insertFirstUser(q: Queryable, user: NewUser): Promise<boolean> {
  const { rowCount } = await q.query(
    `INSERT INTO auth_users (username, password_hash, password_salt, scrypt_n, scrypt_r, scrypt_p, scrypt_key_length, roles, owner_id)
     SELECT $1, $2, $3, $4, $5, $6, $7, $8::text[], $9
     WHERE NOT EXISTS (SELECT 1 FROM auth_users)
     ON CONFLICT (username) DO NOTHING
     RETURNING username`,
    [user.username, ...passwordParams(user.password), canonicalRoles(user.roles), user.ownerId],
  );
  return rowCount > 0;
}

export async function anyUserExists(q: Queryable): Promise<boolean> {
  const { rowCount } = await q.query("SELECT 1 FROM auth_users LIMIT 1");
  return rowCount > 0;
}

export async function listUsers(q: Queryable, afterUsername: string, limit: number): Promise<User[]> {
  const { rows } = await q.query<UserRow>(`SELECT ${userColumns} FROM auth_users WHERE username > $1 ORDER BY username LIMIT $2`, [
    afterUsername,
    limit,
  ]);
  return rows.map(toUser);
}

/** Stores a rehash under current parameters, unless the password changed meanwhile. */
export async function upgradePassword(q: Queryable, username: string, previous: StoredPassword, next: StoredPassword): Promise<void> {
  await q.query(
    `UPDATE auth_users SET password_hash = $2, password_salt = $3, scrypt_n = $4, scrypt_r = $5, scrypt_p = $6, scrypt_key_length = $7
     WHERE username = $1 AND password_hash = $8`,
    [username, ...passwordParams(next), previous.hash.toString("base64")],
  );
}

/** Locks the user for a change, or NotFound. */
async function lockUser(tx: Queryable, username: string): Promise<UserWithPassword> {
  const user = await findUser(tx, username, { lock: true });
  if (!user) throw new DomainError(Code.NotFound, `user ${username} not found`, "username");
  return user;
}

/**
 * Refuses a change that would leave no enabled admin: nobody could manage users again.
 * The caller holds the admins lock, so two admins demoting each other queue.
 */
async function keepAnAdmin(tx: Queryable, user: User, remainsAdmin: boolean): Promise<void> {
  if (remainsAdmin || user.disabled || !user.roles.includes("admin")) return;
  const { rowCount } = await tx.query("SELECT 1 FROM auth_users WHERE 'admin' = ANY (roles) AND NOT disabled AND username <> $1 LIMIT 1", [
    user.username,
  ]);
  if (rowCount === 0) {
    throw new DomainError(Code.FailedPrecondition, `${user.username} is the last enabled admin; make another admin first`, "username");
  }
}

export async function setUserRoles(db: Db, username: string, roles: readonly Role[]): Promise<User> {
  return db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock(hashtext($1))", [adminsLockKey]);
    const user = await lockUser(tx, username);
    await keepAnAdmin(tx, user, roles.includes("admin"));
    const { rows } = await tx.query<UserRow>(
      `UPDATE auth_users SET roles = $2::text[], updated_at = now() WHERE username = $1 RETURNING ${userColumns}`,
      [username, canonicalRoles(roles)],
    );
    return toUser(rows[0] as UserRow);
  });
}

export async function disableUser(db: Db, username: string): Promise<User> {
  return db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock(hashtext($1))", [adminsLockKey]);
    const user = await lockUser(tx, username);
    await keepAnAdmin(tx, user, false);
    const { rows } = await tx.query<UserRow>(
      `UPDATE auth_users SET disabled = true, updated_at = CASE WHEN disabled THEN updated_at ELSE now() END
       WHERE username = $1 RETURNING ${userColumns}`,
      [username],
    );
    await revokeUserSessions(tx, username, "user disabled");
    return toUser(rows[0] as UserRow);
  });
}

/** Sets a new password and revokes every session of the user. */
export async function setPassword(db: Db, username: string, password: StoredPassword): Promise<void> {
  await db.transaction(async (tx) => {
    await lockUser(tx, username);
    await tx.query(
      `UPDATE auth_users SET password_hash = $2, password_salt = $3, scrypt_n = $4, scrypt_r = $5, scrypt_p = $6,
         scrypt_key_length = $7, updated_at = now()
       WHERE username = $1`,
      [username, ...passwordParams(password)],
    );
    await revokeUserSessions(tx, username, "password changed");
  });
}
