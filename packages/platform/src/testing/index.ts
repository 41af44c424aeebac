// Helpers for tests across the packages: servers of a test's own, databases of its own, polling.
export { type FreshDatabase, freshDatabase } from "./fresh-database.js";
export {
  freePort,
  type PrivatePostgres,
  type PrivateRedis,
  startPrivatePostgres,
  startPrivateRedis,
  timedFailure,
} from "./private-servers.js";
export { until } from "./until.js";
