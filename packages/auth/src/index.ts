import { AuthService } from "@qenex/gen/qenex/auth/v1/auth_pb.js";
import { type BoundServices, binding, createAuth, resolveJwtSecret, type ServiceDeps } from "@qenex/platform";
import { createPasswordHasher } from "./passwords.js";
import { createAuthHandlers } from "./service.js";

export { ensureFirstAdmin, firstAdminUsername } from "./first-admin.js";
export { scryptParams } from "./passwords.js";
export { authMigrations } from "./store/migrations.js";

/** Signing in, refreshing and signing out need no access token: they are how a caller gets or drops one. */
export const authPublicMethods = ["issueToken", "refreshToken", "revokeToken"] as const;

/** The auth service's RPC binding for platform's startService(); signing in and refreshing need no token. */
export function bindAuth(deps: ServiceDeps): BoundServices {
  const { config, db } = deps;
  const impl = createAuthHandlers({
    db,
    auth: createAuth(resolveJwtSecret(config.jwtSecret, config.dataDir)),
    hasher: createPasswordHasher(),
    accessTokenTtlSeconds: config.accessTokenTtlSeconds,
    refreshTokenTtlSeconds: config.refreshTokenTtlSeconds,
  });
  return { services: [binding(AuthService, impl, { publicMethods: authPublicMethods })] };
}
