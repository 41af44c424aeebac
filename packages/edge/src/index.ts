export type { EdgeOptions, Probe, RateLimiter } from "./edge.js";
export { createIdempotencyStore } from "./idempotency.js";
export { type EdgeServer, serveEdge } from "./server.js";
export { type EdgeProcess, startEdge } from "./start.js";
export type { Upstream } from "./upstream.js";
