// Refresh tokens are 32 random bytes (base64url, 43 characters); only their SHA-256 is
// stored, so a copy of the database cannot sign anyone in.
import { createHash, randomBytes } from "node:crypto";

export function newRefreshToken(): string {
  return randomBytes(32).toString("base64url");
}

/** A fast hash suffices: the token has 256 bits of entropy, nothing to brute-force. */
export function refreshTokenHash(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}
