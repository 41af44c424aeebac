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
  type ClientAddresses,
  clientAddressHeader,
  clientAddressSignatureHeader,
  createClientAddresses,
  peerAddressKey,
} from "./client-address.js";
export {
  anyFreePortsEnv,
  type Config,
  ConfigError,
  configVariables,
  loadConfig,
  type PaymentsConfig,
  type RateLimitRule,
  type ServiceName,
  type SignInFailureLimit,
  type SignInThrottleConfig,
  serviceNames,
  serviceStorage,
} from "./config.js";
export {
  createDb,
  createPgliteDb,
  createPostgresDb,
  type Db,
  type Migration,
  migrate,
  type Queryable,
  type Row,
  sqlState,
  statementTimeoutMsDefault,
} from "./db.js";
export {
  type CallScope,
  callEnded,
  currentCall,
  remainingMs,
  runInCall,
  runWithDeadline,
  runWithSignal,
  runWithTimeout,
} from "./deadline.js";
export { DomainError, fieldViolation, fieldViolationAt } from "./errors.js";
export { type DependencyProbe, type DependencyState, storageProbes } from "./health.js";
export { type IntegerKind, integerKindOf, integerWrapperKind, jsonDecoderFor, readInteger } from "./json-integers.js";
export { createKv, createMemoryKv, createRedisKv, type Kv, kvBatchKeysMax, kvCommandTimeoutMs } from "./kv.js";
export { createLogger, type Logger } from "./logger.js";
export { createMeshTransport, type MeshTransportOptions } from "./mesh-transport.js";
export { amountMinorMax, currencyDigits, formatMoney, parseMoney } from "./money.js";
export { decodePageToken, encodePageToken } from "./paging.js";
export { createMemoryRateLimiter, createRateLimiter, type RateLimitDecision, type RateLimiter } from "./rate-limit.js";
export { registerReflection } from "./reflection.js";
export { type RequestedMoney, requestedMoney } from "./request-money.js";
export { type CallerProtocol, callerProtocolOf, rpcServiceOf, sendRpcError } from "./rpc-error.js";
export {
  type BoundServices,
  type ServiceDeps,
  type ServiceProcess,
  startService,
} from "./runtime.js";
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
export { stopOnSignals, untilAborted } from "./signals.js";
export { JsonError, jsonDepthMax, type Parsed, parseStrictJson, RawNumber } from "./strict-json.js";
export { isUnavailable, UnavailableError, unavailableReason } from "./unavailable.js";
export { upstreamWentAway } from "./upstream-lost.js";
export { stopUnreadUpload } from "./wire.js";
