// Secrets (the JWT secret, the audit key): from the environment, else generated once into
// the data folder so tokens and signatures survive restarts of the embedded default.
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

export function resolveJwtSecret(configured: string | undefined, dataDir: string): string {
  return resolveSecret(configured, dataDir, "jwt-secret");
}

/** A configured secret, or one generated once into `dataDir/fileName` (mode 0600). */
export function resolveSecret(configured: string | undefined, dataDir: string, fileName: string): string {
  if (configured) return configured;
  const file = path.join(dataDir, fileName);
  fs.mkdirSync(dataDir, { recursive: true });
  try {
    fs.writeFileSync(file, randomBytes(32).toString("base64url"), { flag: "wx", mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  return fs.readFileSync(file, "utf8").trim();
}
