// Configuration from the environment, checked once at start-up with every problem listed.
import * as path from "node:path";

export type Config = {
  host: string;
  ledgerPort: number;
  dataDir: string;
  databaseUrl: string | undefined;
  /** A service's own PostgreSQL URL (QENEX_<SERVICE>_DATABASE_URL), overriding DATABASE_URL for it. */
  serviceDatabaseUrls: Partial<Record<ServiceName, string>>;
  redisUrl: string | undefined;
  /** Put before every Redis key, so that several meshes (or test runs) can share one Redis. */
  redisKeyPrefix: string | undefined;
  /** HS256 secret for bearer tokens; undefined means "generate one in dataDir". */
  jwtSecret: string | undefined;
  /** HMAC key for transfer signatures and the audit chain; undefined means "generate one". */
  auditKey: string | undefined;
  auditKeyId: string;
  tls: { certFile: string; keyFile: string } | undefined;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  shutdownGraceMs: number;
  dbPoolMax: number;
  edgePort: number;
  authPort: number;
  riskPort: number;
  /** The ledger the risk service follows; undefined: none (qenex start passes its own). */
  ledgerUrl: string | undefined;
  /** Lowest sanctions screening score reported as a match, 0 to 1. */
  screeningThreshold: number;
  /** The first admin's password; undefined means "generate one and print it once". */
  adminPassword: string | undefined;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  signInThrottle: SignInThrottleConfig;
  /** Origins allowed to call the edge from a browser (CORS); empty allows none. */
  corsOrigins: string[];
  rateLimits: { perPrincipal: RateLimitRule; perIp: RateLimitRule; whenStoreDown: "open" | "closed" };
  paymentsPort: number;
  /** The risk service a separately run payments service calls; qenex start passes its own. */
  riskUrl: string | undefined;
  /** The auth and payments services, for the edge run on its own; qenex start passes its own. */
  authUrl: string | undefined;
  paymentsUrl: string | undefined;
  payments: PaymentsConfig;
};

/** The payments service's own settings, including its simulated clearing networks. */
export type PaymentsConfig = {
  /** Our bank's BIC: the instructing agent of every message sent. */
  bic: string;
  /** Our bank's ABA routing number: the ACH originator and Fedwire sender. */
  abaRouting: string;
  /** AUTO sends USD above this (in cents) over Fedwire rather than ACH. */
  fedwireThresholdMinor: bigint;
  /** How often ACH payments are gathered into one NACHA file. */
  achCutoffMs: number;
  /** The simulated networks: seed, answer delay, and the share of payments rejected or returned. */
  simulation: { seed: number; latencyMs: number; rejectRate: number; returnRate: number };
  /** A claimed job not finished within this is claimed again (its worker is presumed dead). */
  jobLeaseMs: number;
  /** Jobs one process runs at once. */
  workerConcurrency: number;
  /**
   * How often an idle worker loop looks for work nothing woke it for (another replica's, one whose
   * wake was lost): a fallback, never on the path of a ready job in this process.
   */
  pollIntervalMs: number;
};

/** The services that own a database: each has its own schema (PostgreSQL) or folder (PGlite). */
export const serviceNames = ["ledger", "payments", "risk", "auth"] as const;
export type ServiceName = (typeof serviceNames)[number];

/**
 * Sign-in throttling in the auth service: after `failuresMax` failed sign-ins (counted for
 * `windowSeconds` from the first), an account or a client address is locked for `backoffMs`,
 * doubling with each further failure up to `backoffMaxMs`.
 */
export type SignInThrottleConfig = {
  account: SignInFailureLimit;
  address: SignInFailureLimit;
  backoffMs: number;
  backoffMaxMs: number;
};
export type SignInFailureLimit = { failuresMax: number; windowSeconds: number };

/** A token bucket: `capacity` requests at once, refilled at `refillPerSecond`. */
export type RateLimitRule = { capacity: number; refillPerSecond: number };

/** The variables QENEX reads; the README's table is this list. */
export const configVariables = {
  QENEX_HOST: "address to listen on (default 0.0.0.0)",
  QENEX_LEDGER_PORT: "ledger port (default 50051)",
  QENEX_DATA_DIR: "folder for the embedded database and generated secrets (default ./.data)",
  DATABASE_URL:
    "PostgreSQL URL; each service keeps its tables in a schema of its own name there; unset means embedded PGlite, a folder per service in QENEX_DATA_DIR",
  QENEX_LEDGER_DATABASE_URL: "PostgreSQL URL for the ledger alone, instead of DATABASE_URL (its tables in schema ledger)",
  QENEX_PAYMENTS_DATABASE_URL: "PostgreSQL URL for the payments service alone (schema payments)",
  QENEX_RISK_DATABASE_URL: "PostgreSQL URL for the risk service alone (schema risk)",
  QENEX_AUTH_DATABASE_URL: "PostgreSQL URL for the auth service alone (schema auth)",
  REDIS_URL: "Redis URL; unset means an in-process store",
  QENEX_JWT_SECRET: "HS256 secret for bearer tokens, at least 32 characters (default: generated)",
  QENEX_AUDIT_KEY:
    "HMAC-SHA256 key for transfer signatures and the audit chain, at least 32 characters; required with DATABASE_URL (embedded default: generated)",
  QENEX_AUDIT_KEY_ID: "name of that key, recorded with every signature (default k1)",
  QENEX_TLS_CERT: "PEM certificate file; with QENEX_TLS_KEY serves TLS",
  QENEX_TLS_KEY: "PEM private key file",
  QENEX_LOG_LEVEL: "fatal|error|warn|info|debug|trace|silent (default info)",
  QENEX_SHUTDOWN_GRACE_MS: "how long SIGTERM waits for in-flight calls (default 10000)",
  QENEX_DB_POOL_MAX: "PostgreSQL pool size per process (default 10)",
  QENEX_EDGE_PORT: "edge port: REST, /health, /openapi.json, RPC routing for browsers (default 8080)",
  QENEX_AUTH_PORT: "auth service port (default 50054)",
  QENEX_RISK_PORT: "risk service port (default 50053)",
  QENEX_LEDGER_URL: "where a separately run risk service finds the ledger, e.g. http://ledger:50051 (qenex start sets it itself)",
  QENEX_SCREENING_THRESHOLD: "lowest sanctions screening score (0 to 1) that counts as a match (default 0.88)",
  QENEX_ADMIN_PASSWORD:
    "password of the first admin user, created at first start when no user exists (default: generated and printed once)",
  QENEX_ACCESS_TOKEN_TTL_SECONDS: "lifetime of access tokens from /api/v1/auth/token (default 900)",
  QENEX_REFRESH_TOKEN_TTL_SECONDS: "lifetime of refresh tokens (default 2592000, 30 days)",
  QENEX_SIGNIN_ACCOUNT_LIMIT:
    "failed sign-ins that lock an account, FAILURES/WINDOW_SECONDS: counted from the first failure, reset by a success (default 5/86400)",
  QENEX_SIGNIN_IP_LIMIT:
    "failed sign-ins, to any accounts, that lock a client address (an IPv6 /64), FAILURES/WINDOW_SECONDS (default 100/3600)",
  QENEX_SIGNIN_BACKOFF_MS:
    "how long a sign-in lock lasts, FIRST_MS/MAX_MS: doubling with each further failure up to the maximum (default 1000/900000)",
  QENEX_CORS_ORIGINS: "comma-separated origins allowed to call the edge from browsers, e.g. https://app.example.com (default none)",
  QENEX_RATE_LIMIT_PRINCIPAL: "token bucket per principal at the edge, CAPACITY/REFILL_PER_SECOND (default 200/100)",
  QENEX_RATE_LIMIT_IP: "token bucket per client IP at the edge, CAPACITY/REFILL_PER_SECOND (default 400/200)",
  QENEX_RATE_LIMIT_WHEN_STORE_DOWN: "open|closed: what the edge does when Redis cannot be reached (default closed)",
  QENEX_PAYMENTS_PORT: "payments service port (default 50052)",
  QENEX_RISK_URL: "where a separately run payments service finds the risk service, e.g. http://risk:50053 (qenex start sets it itself)",
  QENEX_AUTH_URL: "where a separately run edge finds the auth service, e.g. http://auth:50054 (qenex start sets it itself)",
  QENEX_PAYMENTS_URL: "where a separately run edge finds the payments service, e.g. http://payments:50052 (qenex start sets it itself)",
  QENEX_BIC: "our bank's BIC, the instructing agent of every payment message (default QENXUS33)",
  QENEX_ABA_ROUTING: "our bank's ABA routing number, the ACH originator and Fedwire sender (default 021000021)",
  QENEX_FEDWIRE_THRESHOLD: "AUTO routes USD above this amount over Fedwire instead of ACH (default 1000000.00)",
  QENEX_ACH_CUTOFF_MS: "how often ACH payments are gathered into one NACHA file (default 5000)",
  QENEX_SIM_SEED: "seed of the simulated clearing networks' outcomes (default 1)",
  QENEX_SIM_LATENCY_MS: "how long a simulated network takes to answer (default 200)",
  QENEX_SIM_REJECT_RATE: "share of payments a simulated network rejects, 0 to 1 (default 0.02)",
  QENEX_SIM_RETURN_RATE: "share of settled payments a simulated network returns later, 0 to 1 (default 0.01)",
  QENEX_PAYMENTS_JOB_LEASE_MS: "a payments job not finished within this is taken over by another worker (default 15000)",
  QENEX_PAYMENTS_WORKERS: "payments job batches one process runs at once, each up to 100 jobs of one kind (default 16)",
  QENEX_PAYMENTS_POLL_MS: "how often an idle payments worker looks for work no wake-up announced (default 250)",
} as const;

/**
 * Every server port set to 0 (the OS picks a free one), for tests and benches that run
 * `qenex start`: a service added later is covered without editing each of them.
 */
export const anyFreePortsEnv: Readonly<Record<string, string>> = Object.fromEntries(
  Object.keys(configVariables)
    .filter((name) => name.endsWith("_PORT"))
    .map((name) => [name, "0"]),
);

export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/**
 * `forServer: false` is for commands that only talk to a server (token minting, reports):
 * they skip the checks that matter to a process serving the ledger.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, options: { forServer: boolean } = { forServer: true }): Config {
  const problems: string[] = [];
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const text = env[name];
    if (text === undefined || text === "") return fallback;
    const value = Number(text);
    if (!/^[0-9]+$/.test(text) || value < min || value > max) {
      problems.push(`${name}="${text}" must be a whole number from ${min} to ${max}`);
      return fallback;
    }
    return value;
  };
  const keyPrefix = (name: string): string | undefined => {
    const text = env[name];
    if (text === undefined || text === "") return undefined;
    if (!/^[A-Za-z0-9:._-]{1,64}$/.test(text)) problems.push(`${name} must be 1 to 64 letters, digits, ":", ".", "_" or "-"`);
    return text;
  };
  const url = (name: string, protocols: string[]): string | undefined => {
    const text = env[name];
    if (text === undefined || text === "") return undefined;
    try {
      const parsed = new URL(text);
      if (!protocols.includes(parsed.protocol)) {
        problems.push(`${name} must start with ${protocols.map((p) => `${p}//`).join(" or ")}`);
      }
    } catch {
      problems.push(`${name} is not a valid URL`);
    }
    return text;
  };

  const jwtSecret = env.QENEX_JWT_SECRET || undefined;
  if (jwtSecret !== undefined && jwtSecret.length < 32) {
    problems.push("QENEX_JWT_SECRET must be at least 32 characters");
  }
  const auditKey = env.QENEX_AUDIT_KEY || undefined;
  if (auditKey !== undefined && auditKey.length < 32) problems.push("QENEX_AUDIT_KEY must be at least 32 characters");
  if (options.forServer && auditKey === undefined && (env.DATABASE_URL || env.QENEX_LEDGER_DATABASE_URL)) {
    // Replicas sharing a database must sign with one key, or the audit chain breaks.
    problems.push("QENEX_AUDIT_KEY is required with DATABASE_URL: every replica must sign with the same key");
  }
  const auditKeyId = env.QENEX_AUDIT_KEY_ID || "k1";
  if (!/^[A-Za-z0-9._-]{1,32}$/.test(auditKeyId)) problems.push("QENEX_AUDIT_KEY_ID must be 1 to 32 letters, digits, '.', '_' or '-'");
  const certFile = env.QENEX_TLS_CERT || undefined;
  const keyFile = env.QENEX_TLS_KEY || undefined;
  if ((certFile === undefined) !== (keyFile === undefined)) {
    problems.push("QENEX_TLS_CERT and QENEX_TLS_KEY must be set together");
  }
  const logLevel = (env.QENEX_LOG_LEVEL || "info") as Config["logLevel"];
  if (!logLevels.includes(logLevel)) {
    problems.push(`QENEX_LOG_LEVEL must be one of ${logLevels.join(", ")}`);
  }
  const rateRule = (name: string, fallback: RateLimitRule): RateLimitRule => {
    const text = env[name];
    if (text === undefined || text === "") return fallback;
    const match = /^([0-9]{1,7})\/([0-9]{1,7})$/.exec(text);
    const capacity = Number(match?.[1]);
    const refillPerSecond = Number(match?.[2]);
    if (!match || capacity < 1 || refillPerSecond < 1) {
      problems.push(`${name}="${text}" must be CAPACITY/REFILL_PER_SECOND, two whole numbers from 1 to 9999999`);
      return fallback;
    }
    return { capacity, refillPerSecond };
  };
  const pair = (name: string, fallback: [number, number], max: [number, number], meaning: string): [number, number] => {
    const text = env[name];
    if (text === undefined || text === "") return fallback;
    const match = /^([0-9]{1,9})\/([0-9]{1,9})$/.exec(text);
    const first = Number(match?.[1]);
    const second = Number(match?.[2]);
    if (!match || first < 1 || second < 1 || first > max[0] || second > max[1]) {
      problems.push(`${name}="${text}" must be ${meaning}, whole numbers from 1 to ${max[0]} and from 1 to ${max[1]}`);
      return fallback;
    }
    return [first, second];
  };
  const failureLimit = (name: string, fallback: [number, number]): SignInFailureLimit => {
    const [failuresMax, windowSeconds] = pair(name, fallback, [1_000_000, 31_536_000], "FAILURES/WINDOW_SECONDS");
    return { failuresMax, windowSeconds };
  };
  const [backoffMs, backoffMaxMs] = pair("QENEX_SIGNIN_BACKOFF_MS", [1_000, 900_000], [86_400_000, 86_400_000], "FIRST_MS/MAX_MS");
  if (backoffMaxMs < backoffMs) problems.push(`QENEX_SIGNIN_BACKOFF_MS: the maximum ${backoffMaxMs} is below the first ${backoffMs}`);
  const signInThrottle: SignInThrottleConfig = {
    account: failureLimit("QENEX_SIGNIN_ACCOUNT_LIMIT", [5, 86_400]),
    address: failureLimit("QENEX_SIGNIN_IP_LIMIT", [100, 3_600]),
    backoffMs,
    backoffMaxMs,
  };
  const whenStoreDownText = env.QENEX_RATE_LIMIT_WHEN_STORE_DOWN || "closed";
  if (whenStoreDownText !== "open" && whenStoreDownText !== "closed") {
    problems.push("QENEX_RATE_LIMIT_WHEN_STORE_DOWN must be open or closed");
  }
  const whenStoreDown = whenStoreDownText === "open" ? "open" : "closed";
  const adminPassword = env.QENEX_ADMIN_PASSWORD || undefined;
  if (adminPassword !== undefined && (adminPassword.length < 8 || adminPassword.length > 256)) {
    problems.push("QENEX_ADMIN_PASSWORD must be 8 to 256 characters");
  }
  const corsOrigins = (env.QENEX_CORS_ORIGINS ?? "")
    .split(",")
    .map((origin) => origin.trim())
    .filter((origin) => origin !== "");
  for (const origin of corsOrigins) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin)) problems.push(`QENEX_CORS_ORIGINS: "${origin}" must be scheme://host[:port]`);
  }
  const rate = (name: string, fallback: number): number => {
    const text = env[name];
    if (text === undefined || text === "") return fallback;
    if (!/^(0(\.[0-9]{1,6})?|1(\.0{1,6})?)$/.test(text)) {
      problems.push(`${name}="${text}" must be a decimal from 0 to 1`);
      return fallback;
    }
    return Number(text);
  };
  const screeningThreshold = rate("QENEX_SCREENING_THRESHOLD", 0.88);
  const bic = env.QENEX_BIC || "QENXUS33";
  if (!/^[A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$/.test(bic)) problems.push(`QENEX_BIC="${bic}" is not a BIC (8 or 11 characters)`);
  const abaRouting = env.QENEX_ABA_ROUTING || "021000021";
  if (!/^[0-9]{9}$/.test(abaRouting)) problems.push(`QENEX_ABA_ROUTING="${abaRouting}" must be 9 digits`);
  const fedwireThresholdText = env.QENEX_FEDWIRE_THRESHOLD || "1000000.00";
  const fedwireThreshold = /^([0-9]{1,13})(?:\.([0-9]{1,2}))?$/.exec(fedwireThresholdText);
  if (!fedwireThreshold) problems.push(`QENEX_FEDWIRE_THRESHOLD="${fedwireThresholdText}" must be a USD amount like 1000000.00`);
  const fedwireThresholdMinor = fedwireThreshold
    ? BigInt(fedwireThreshold[1] ?? "0") * 100n + BigInt((fedwireThreshold[2] ?? "").padEnd(2, "0"))
    : 100_000_000n;
  const config: Config = {
    host: env.QENEX_HOST || "0.0.0.0",
    ledgerPort: int("QENEX_LEDGER_PORT", 50051, 0, 65535),
    dataDir: path.resolve(env.QENEX_DATA_DIR || ".data"),
    databaseUrl: url("DATABASE_URL", ["postgres:", "postgresql:"]),
    serviceDatabaseUrls: Object.fromEntries(
      serviceNames.flatMap((name) => {
        const value = url(`QENEX_${name.toUpperCase()}_DATABASE_URL`, ["postgres:", "postgresql:"]);
        return value === undefined ? [] : [[name, value]];
      }),
    ),
    redisUrl: url("REDIS_URL", ["redis:", "rediss:"]),
    redisKeyPrefix: keyPrefix("QENEX_REDIS_KEY_PREFIX"),
    jwtSecret,
    auditKey,
    auditKeyId,
    tls: certFile && keyFile ? { certFile, keyFile } : undefined,
    logLevel,
    shutdownGraceMs: int("QENEX_SHUTDOWN_GRACE_MS", 10_000, 0, 600_000),
    dbPoolMax: int("QENEX_DB_POOL_MAX", 10, 1, 500),
    edgePort: int("QENEX_EDGE_PORT", 8080, 0, 65535),
    authPort: int("QENEX_AUTH_PORT", 50054, 0, 65535),
    riskPort: int("QENEX_RISK_PORT", 50053, 0, 65535),
    ledgerUrl: url("QENEX_LEDGER_URL", ["http:", "https:"]),
    screeningThreshold,
    adminPassword,
    accessTokenTtlSeconds: int("QENEX_ACCESS_TOKEN_TTL_SECONDS", 900, 10, 86_400),
    refreshTokenTtlSeconds: int("QENEX_REFRESH_TOKEN_TTL_SECONDS", 2_592_000, 60, 31_536_000),
    signInThrottle,
    corsOrigins,
    rateLimits: {
      perPrincipal: rateRule("QENEX_RATE_LIMIT_PRINCIPAL", { capacity: 200, refillPerSecond: 100 }),
      perIp: rateRule("QENEX_RATE_LIMIT_IP", { capacity: 400, refillPerSecond: 200 }),
      whenStoreDown,
    },
    paymentsPort: int("QENEX_PAYMENTS_PORT", 50052, 0, 65535),
    riskUrl: url("QENEX_RISK_URL", ["http:", "https:"]),
    authUrl: url("QENEX_AUTH_URL", ["http:", "https:"]),
    paymentsUrl: url("QENEX_PAYMENTS_URL", ["http:", "https:"]),
    payments: {
      bic,
      abaRouting,
      fedwireThresholdMinor,
      achCutoffMs: int("QENEX_ACH_CUTOFF_MS", 5_000, 10, 86_400_000),
      simulation: {
        seed: int("QENEX_SIM_SEED", 1, 0, 2_147_483_647),
        latencyMs: int("QENEX_SIM_LATENCY_MS", 200, 0, 600_000),
        rejectRate: rate("QENEX_SIM_REJECT_RATE", 0.02),
        returnRate: rate("QENEX_SIM_RETURN_RATE", 0.01),
      },
      jobLeaseMs: int("QENEX_PAYMENTS_JOB_LEASE_MS", 15_000, 100, 3_600_000),
      workerConcurrency: int("QENEX_PAYMENTS_WORKERS", 16, 1, 256),
      pollIntervalMs: int("QENEX_PAYMENTS_POLL_MS", 250, 10, 3_600_000),
    },
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/**
 * Where a service keeps its data, so no service can read another's tables: on PostgreSQL a
 * schema named for it (in its own QENEX_<SERVICE>_DATABASE_URL, else DATABASE_URL), embedded
 * a PGlite folder of its own under QENEX_DATA_DIR.
 */
export function serviceStorage(
  config: Pick<Config, "databaseUrl" | "serviceDatabaseUrls" | "dataDir">,
  name: ServiceName,
): { databaseUrl: string | undefined; schema: string; dataDir: string } {
  return {
    databaseUrl: config.serviceDatabaseUrls[name] ?? config.databaseUrl,
    schema: name,
    dataDir: path.join(config.dataDir, name),
  };
}
