// AuthService RPC handlers: thin translations between wire messages, the password hasher
// and the store.
import { create, type DescMessage } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import {
  type AuthService,
  ChangePasswordRequestSchema,
  CreateUserRequestSchema,
  ListUsersRequestSchema,
  SetUserRolesRequestSchema,
  type User as UserMessage,
  UserSchema,
} from "@qenex/gen/qenex/auth/v1/auth_pb.js";
import {
  type Auth,
  type ClientAddresses,
  type Db,
  DomainError,
  decodePageToken,
  encodePageToken,
  roles as everyRole,
  fieldViolationAt,
  type Role,
  requireRole,
} from "@qenex/platform";
import { canonicalRoles, roleSetProblem, tokenSubject, type User } from "./domain/users.js";
import { hasCurrentParams, type PasswordHasher } from "./passwords.js";
import { newRefreshToken, refreshTokenHash } from "./refresh-token.js";
import type { SignInMetrics } from "./sign-in-metrics.js";
import type { SignInThrottle } from "./sign-in-throttle.js";
import { type RotateOutcome, revokeSessionOfToken, rotateRefreshToken, type SessionUser, startSession } from "./store/session-store.js";
import {
  disableUser,
  findUser,
  insertUser,
  listUsers,
  setPassword,
  setUserRoles,
  type UserWithPassword,
  upgradePassword,
} from "./store/user-store.js";

const userAdmins: readonly Role[] = ["admin"];
const userReaders: readonly Role[] = ["admin", "auditor"];
const pageSizeDefault = 100;
export const pageSizeMax = 500;

export type AuthHandlerDeps = {
  db: Db;
  auth: Auth;
  hasher: PasswordHasher;
  throttle: SignInThrottle;
  clientAddresses: ClientAddresses;
  metrics: SignInMetrics;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
};

const refreshFailures: Record<Exclude<RotateOutcome["kind"], "rotated">, string> = {
  unknown: "invalid refresh token",
  revoked: "refresh token revoked; sign in again",
  expired: "refresh token expired; sign in again",
  reused: "refresh token reuse detected; the session is revoked",
  exhausted: "the session reached its refresh limit; sign in again",
  disabled: "the user is disabled",
};

function invalidCredentials(): DomainError {
  return new DomainError(Code.Unauthenticated, "invalid username or password");
}

/**
 * The same answer whether the account exists or not, and whether the account or the client
 * address is locked: the throttle tells a guesser nothing but when to come back.
 */
function throttled(retryAfterMs: number): ConnectError {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new ConnectError(`too many failed sign-ins; retry in ${seconds} s`, Code.ResourceExhausted, { "retry-after": String(seconds) });
}

function userMessage(user: User): UserMessage {
  return create(UserSchema, {
    username: user.username,
    roles: user.roles,
    ownerId: user.ownerId,
    disabled: user.disabled,
    createdAt: timestampFromDate(user.createdAt),
    updatedAt: timestampFromDate(user.updatedAt),
  });
}

function checkedRoles(schema: DescMessage, names: readonly string[]): Role[] {
  const roles = canonicalRoles(names);
  const problem = roleSetProblem(roles);
  if (problem) throw fieldViolationAt(schema, ["roles"], problem, "qenex.roles");
  return roles;
}

export function createAuthHandlers(deps: AuthHandlerDeps): Partial<ServiceImpl<typeof AuthService>> {
  const { db, auth, hasher } = deps;

  const tokens = async (user: SessionUser, refreshToken: string, refreshExpiresAt: Date) => ({
    accessToken: await auth.issue({ subject: tokenSubject(user), roles: user.roles }, deps.accessTokenTtlSeconds),
    tokenType: "Bearer",
    expiresIn: deps.accessTokenTtlSeconds,
    refreshToken,
    refreshExpiresIn: Math.max(0, Math.floor((refreshExpiresAt.getTime() - Date.now()) / 1000)),
    roles: user.roles,
  });

  /** Same content → the original; else ALREADY_EXISTS naming the first differing field. */
  const sameUser = async (existing: UserWithPassword, roles: readonly Role[], ownerId: string, password: string) => {
    if (existing.roles.join() !== roles.join()) {
      throw new DomainError(Code.AlreadyExists, `user ${existing.username} exists with different roles`, "roles");
    }
    if (existing.ownerId !== ownerId) {
      throw new DomainError(Code.AlreadyExists, `user ${existing.username} exists with a different owner_id`, "owner_id");
    }
    if (!(await hasher.verify(password, existing.password))) {
      throw new DomainError(Code.AlreadyExists, `user ${existing.username} exists with a different password`, "password");
    }
    return { user: userMessage(existing), existed: true };
  };

  return {
    async issueToken(req, ctx) {
      const address = deps.clientAddresses.of(ctx);
      // Before the user is read or a hash spent: a locked guess costs next to nothing.
      const retryAfterMs = await deps.throttle.retryAfterMs(req.username, address);
      if (retryAfterMs > 0) {
        deps.metrics.signIn("throttled");
        throw throttled(retryAfterMs);
      }
      const user = await findUser(db, req.username);
      // An unknown user costs a hash too, so the answer's timing does not tell which it was.
      const matches = user ? await hasher.verify(req.password, user.password) : await hasher.verifyNothing(req.password);
      if (!user || !matches || user.disabled) {
        await deps.throttle.failed(req.username, address);
        deps.metrics.signIn("failed");
        throw invalidCredentials();
      }
      await deps.throttle.succeeded(user.username);
      deps.metrics.signIn("ok");
      if (!hasCurrentParams(user.password.params)) {
        await upgradePassword(db, user.username, user.password, await hasher.hash(req.password));
      }
      const refreshToken = newRefreshToken();
      const session = await startSession(db, user.username, refreshTokenHash(refreshToken), deps.refreshTokenTtlSeconds);
      if (!session) throw invalidCredentials();
      return tokens(session.user, refreshToken, session.expiresAt);
    },

    async refreshToken(req) {
      const next = newRefreshToken();
      const outcome = await rotateRefreshToken(db, refreshTokenHash(req.refreshToken), refreshTokenHash(next));
      if (outcome.kind !== "rotated") throw new DomainError(Code.Unauthenticated, refreshFailures[outcome.kind], "refresh_token");
      return tokens(outcome.user, next, outcome.expiresAt);
    },

    async revokeToken(req) {
      await revokeSessionOfToken(db, refreshTokenHash(req.refreshToken));
      return {};
    },

    async createUser(req, ctx) {
      requireRole(ctx, userAdmins);
      const roles = checkedRoles(CreateUserRequestSchema, req.roles);
      const ownerId = req.ownerId || req.username;
      const existing = await findUser(db, req.username);
      if (existing) return sameUser(existing, roles, ownerId, req.password);
      const created = await insertUser(db, { username: req.username, password: await hasher.hash(req.password), roles, ownerId });
      if (created) return { user: userMessage(created), existed: false };
      // Created by a concurrent call between the read and the insert.
      const winner = await findUser(db, req.username);
      if (!winner) throw new Error(`user ${req.username} neither inserted nor found`);
      return sameUser(winner, roles, ownerId, req.password);
    },

    async listUsers(req, ctx) {
      requireRole(ctx, userReaders);
      const limit = req.page?.pageSize || pageSizeDefault;
      if (limit > pageSizeMax)
        throw fieldViolationAt(ListUsersRequestSchema, ["page", "pageSize"], `must be at most ${pageSizeMax}`, "qenex.page_size");
      const after = decodePageToken(req.page?.pageToken ?? "", (username) => /^[A-Za-z0-9._@-]{1,64}$/.test(username));
      if (after === undefined) {
        throw fieldViolationAt(ListUsersRequestSchema, ["page", "pageToken"], "is not a token this server issued", "qenex.page_token");
      }
      const users = await listUsers(db, after, limit);
      const last = users.length === limit ? users.at(-1) : undefined;
      return { users: users.map(userMessage), page: { nextPageToken: last ? encodePageToken(last.username) : "" } };
    },

    async setUserRoles(req, ctx) {
      requireRole(ctx, userAdmins);
      const roles = checkedRoles(SetUserRolesRequestSchema, req.roles);
      return { user: userMessage(await setUserRoles(db, req.username, roles)) };
    },

    async disableUser(req, ctx) {
      requireRole(ctx, userAdmins);
      return { user: userMessage(await disableUser(db, req.username)) };
    },

    async changePassword(req, ctx) {
      const caller = requireRole(ctx, everyRole);
      if (!caller.roles.includes("admin")) {
        const user = await findUser(db, req.username);
        // Unknown and someone else's look alike, so the call cannot probe for usernames.
        if (!user || tokenSubject(user) !== caller.subject) {
          throw new DomainError(Code.PermissionDenied, "you may change only your own password", "username");
        }
        if (req.oldPassword === "") {
          throw fieldViolationAt(
            ChangePasswordRequestSchema,
            ["oldPassword"],
            "is required unless the caller is an admin",
            "qenex.old_password",
          );
        }
        if (user.disabled) throw new DomainError(Code.FailedPrecondition, `user ${user.username} is disabled`, "username");
        if (!(await hasher.verify(req.oldPassword, user.password))) {
          throw new DomainError(Code.PermissionDenied, "old_password does not match", "old_password");
        }
      }
      await setPassword(db, req.username, await hasher.hash(req.newPassword));
      return {};
    },
  };
}
