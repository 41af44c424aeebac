// The JWT secret: from QENEX_JWT_SECRET, else generated once into the data folder so
// tokens survive restarts of the embedded default.
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

export function resolveJwtSecret(configured: string | undefined, dataDir: string): string {
  if (configured) return configured;
  const file = path.join(dataDir, "jwt-secret");
  fs.mkdirSync(dataDir, { recursive: true });
  try {
    fs.writeFileSync(file, randomBytes(32).toString("base64url"), { flag: "wx", mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  return fs.readFileSync(file, "utf8").trim();
}
