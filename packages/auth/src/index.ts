import { AuthService } from "@qenex/gen/qenex/auth/v1/auth_pb.js";
import { type BoundServices, binding, createAuth, createClientAddresses, resolveJwtSecret, type ServiceDeps } from "@qenex/platform";
import { createPasswordHasher } from "./passwords.js";
import { createAuthHandlers } from "./service.js";
import { createSignInMetrics } from "./sign-in-metrics.js";
import { createSignInThrottle, type SignInThrottleOptions } from "./sign-in-throttle.js";

export { ensureFirstAdmin, firstAdminUsername } from "./first-admin.js";
export { scryptParams } from "./passwords.js";
export { addressKeyOf, lockMsAfter, type SignInThrottleOptions, signInThrottleKeyPrefix } from "./sign-in-throttle.js";
export { authMigrations } from "./store/migrations.js";

/** Signing in, refreshing and signing out need no access token: they are how a caller gets or drops one. */
export const authPublicMethods = ["issueToken", "refreshToken", "revokeToken"] as const;

/**
 * The auth service's RPC binding for platform's startService(); signing in and refreshing need
 * no token. `throttle` lets a test drive the sign-in throttle's clock.
 */
export function bindAuth(deps: ServiceDeps, options: { throttle?: SignInThrottleOptions } = {}): BoundServices {
  const { config, db } = deps;
  const secret = resolveJwtSecret(config.jwtSecret, config.dataDir);
  const impl = createAuthHandlers({
    db,
    auth: createAuth(secret),
    hasher: createPasswordHasher(),
    throttle: createSignInThrottle(deps.kv, config.signInThrottle, options.throttle),
    clientAddresses: createClientAddresses(secret),
    metrics: createSignInMetrics(deps.metrics),
    accessTokenTtlSeconds: config.accessTokenTtlSeconds,
    refreshTokenTtlSeconds: config.refreshTokenTtlSeconds,
  });
  return { services: [binding(AuthService, impl, { publicMethods: authPublicMethods })] };
}
