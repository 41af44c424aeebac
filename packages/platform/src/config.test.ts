import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.js";

describe("loadConfig", () => {
  it("uses the embedded defaults when nothing is set", () => {
    const config = loadConfig({});
    expect(config.ledgerPort).toBe(50051);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.redisUrl).toBeUndefined();
  });

  it("takes a Redis key prefix of safe characters only", () => {
    expect(loadConfig({ QENEX_REDIS_KEY_PREFIX: "staging:" }).redisKeyPrefix).toBe("staging:");
    expect(() => loadConfig({ QENEX_REDIS_KEY_PREFIX: "has space" })).toThrow(/QENEX_REDIS_KEY_PREFIX must be 1 to 64/);
  });

  it("lists every problem at once", () => {
    const env = { QENEX_LEDGER_PORT: "70000", DATABASE_URL: "mysql://x", QENEX_JWT_SECRET: "short" };
    try {
      loadConfig(env);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems;
      expect(problems).toHaveLength(4);
      expect(problems.join("\n")).toContain("QENEX_LEDGER_PORT");
      expect(problems.join("\n")).toContain("DATABASE_URL");
      expect((error as Error).message).toContain("QENEX_JWT_SECRET must be at least 32 characters");
    }
  });

  it("requires an audit key shared by replicas when the database is shared", () => {
    expect(() => loadConfig({ DATABASE_URL: "postgres://localhost/x" })).toThrow(/QENEX_AUDIT_KEY is required/);
    expect(loadConfig({ DATABASE_URL: "postgres://localhost/x", QENEX_AUDIT_KEY: "k".repeat(32) }).auditKeyId).toBe("k1");
  });

  it("requires TLS certificate and key together", () => {
    expect(() => loadConfig({ QENEX_TLS_CERT: "cert.pem" })).toThrow(/set together/);
  });
});
