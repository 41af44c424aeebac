// The first admin: created at start when no user exists, so a fresh install can be managed
// without a fixed default password.
import { randomInt } from "node:crypto";
import type { Config, Db } from "@qenex/platform";
import { createPasswordHasher, type PasswordHasher } from "./passwords.js";
import { anyUserExists, insertFirstUser } from "./store/user-store.js";

export const firstAdminUsername = "admin";
const generatedPasswordLength = 24;
const passwordAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

/** 24 characters from 57 (no look-alikes 0/O, 1/l/I): about 140 bits. */
export function generatePassword(): string {
  let password = "";
  for (let i = 0; i < generatedPasswordLength; i++) password += passwordAlphabet[randomInt(passwordAlphabet.length)];
  return password;
}

/**
 * Creates user "admin" with role admin when no user exists, with `config.adminPassword`
 * or, when that is unset, a generated password written once to `write` (stderr) and
 * nowhere else. Safe when several replicas start at once: only the one whose insert
 * wins creates the user and prints. Returns whether this call created it.
 */
export async function ensureFirstAdmin(
  db: Db,
  config: Pick<Config, "adminPassword">,
  write: (text: string) => void = (text) => {
    process.stderr.write(text);
  },
  hasher: PasswordHasher = createPasswordHasher(),
): Promise<{ created: boolean }> {
  if (await anyUserExists(db)) return { created: false };
  const password = config.adminPassword ?? generatePassword();
  const created = await insertFirstUser(db, {
    username: firstAdminUsername,
    password: await hasher.hash(password),
    roles: ["admin"],
    ownerId: firstAdminUsername,
  });
  if (created && config.adminPassword === undefined) {
    write(
      `qenex auth: created the first admin user "${firstAdminUsername}" with the generated password: ${password}\n` +
        "qenex auth: it is shown only this once; sign in and change it (ChangePassword), or set QENEX_ADMIN_PASSWORD before the first start.\n",
    );
  }
  return { created };
}
