// Rules about users that need no storage: which role sets are allowed, and which subject a
// user's access tokens carry.
import { roles as knownRoles, type Role } from "@qenex/platform";

export type User = {
  username: string;
  roles: Role[];
  ownerId: string;
  disabled: boolean;
  createdAt: Date;
  updatedAt: Date;
};

/** Known roles in one canonical order, so equal sets compare equal; unknown names drop out. */
export function canonicalRoles(names: readonly string[]): Role[] {
  return knownRoles.filter((role) => names.includes(role));
}

/**
 * A customer's token subject is an account owner id, which the services compare with the
 * accounts it touches; a customer holding another role too would mix that with staff
 * powers under one subject, so a customer holds no other role.
 */
export function roleSetProblem(roles: readonly Role[]): string | undefined {
  if (roles.length === 0) return "a user needs at least one role";
  if (roles.includes("customer") && roles.length > 1) return "a customer holds no other role";
  return undefined;
}

/**
 * The subject of a user's access tokens: a customer acts for their ledger owner id (by
 * default their username), everyone else as their username.
 */
export function tokenSubject(user: Pick<User, "username" | "roles" | "ownerId">): string {
  return user.roles.includes("customer") ? user.ownerId : user.username;
}
