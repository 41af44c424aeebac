export {
  type Auth,
  bearerInterceptor,
  createAuth,
  type Principal,
  principalKey,
  type Role,
  requireRole,
  roles,
  serviceTokens,
} from "./auth.js";
export {
  anyFreePortsEnv,
  type Config,
  ConfigError,
  configVariables,
  loadConfig,
  type PaymentsConfig,
  type RateLimitRule,
} from "./config.js";
export { createDb, createPgliteDb, createPostgresDb, type Db, type Migration, migrate, type Queryable, type Row, sqlState } from "./db.js";
export { DomainError, fieldViolation } from "./errors.js";
export { createKv, createMemoryKv, createRedisKv, type Kv } from "./kv.js";
export { createLogger, type Logger } from "./logger.js";
export { amountMinorMax, currencyDigits, formatMoney, parseMoney } from "./money.js";
export { decodePageToken, encodePageToken } from "./paging.js";
export { createMemoryRateLimiter, createRateLimiter, type RateLimitDecision, type RateLimiter } from "./rate-limit.js";
export { type BoundServices, type ServiceDeps, type ServiceProcess, startService, stopOnSignals } from "./runtime.js";
export { resolveJwtSecret, resolveSecret } from "./secrets.js";
export {
  binding,
  messageBytesMax,
  procedurePaths,
  type Server,
  type ServiceBinding,
  serve,
  sniffingServer,
  timeoutMsMax,
} from "./server.js";
