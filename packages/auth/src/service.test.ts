import { createHash, scrypt } from "node:crypto";
import { promisify } from "node:util";
import { Code } from "@connectrpc/connect";
import { createAuth } from "@qenex/platform";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scryptParams } from "./passwords.js";
import { rpcError, startTestAuth, type TestAuth, testJwtSecret, uniqueName } from "./testing/harness.js";

let server: TestAuth;
beforeAll(async () => {
  server = await startTestAuth();
});
afterAll(() => server.stop());

const password = "correct horse battery";

async function createUser(roles: string[], ownerId = "") {
  const username = uniqueName("user");
  await server.client().createUser({ username, password, roles, ownerId });
  return username;
}

function signIn(username: string, pass = password) {
  return server.clientWithToken().issueToken({ username, password: pass });
}

describe("signing in", () => {
  it("issues a bearer token that a protected method accepts", async () => {
    const username = await createUser(["auditor"]);
    const res = await signIn(username);
    expect(res.tokenType).toBe("Bearer");
    expect(res.expiresIn).toBe(900);
    expect(res.roles).toEqual(["auditor"]);
    expect(res.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(res.refreshExpiresIn).toBeGreaterThan(2_592_000 - 60);
    const principal = await createAuth(testJwtSecret).verify(res.accessToken);
    expect(principal).toEqual({ subject: username, roles: ["auditor"] });
    const listed = await server.clientWithToken(res.accessToken).listUsers({ page: { pageSize: 1 } });
    expect(listed.users).toHaveLength(1);
  });

  it("fails a wrong password and an unknown user with the same error", async () => {
    const username = await createUser(["operator"]);
    const wrong = await rpcError(signIn(username, "not the password"));
    const unknown = await rpcError(signIn(uniqueName("nobody"), password));
    expect(wrong.code).toBe(Code.Unauthenticated);
    expect(unknown.code).toBe(Code.Unauthenticated);
    expect(wrong.rawMessage).toBe("invalid username or password");
    expect(unknown.rawMessage).toBe(wrong.rawMessage);
  });

  it("refuses a disabled user, and the user's refresh token stops working", async () => {
    const username = await createUser(["operator"]);
    const before = await signIn(username);
    const disabled = await server.client().disableUser({ username });
    expect(disabled.user?.disabled).toBe(true);
    const error = await rpcError(signIn(username));
    expect(error.code).toBe(Code.Unauthenticated);
    expect(error.rawMessage).toBe("invalid username or password");
    const refresh = await rpcError(server.clientWithToken().refreshToken({ refreshToken: before.refreshToken }));
    expect(refresh.code).toBe(Code.Unauthenticated);
  });

  it("gives a customer's token the owner id as subject, by default the username", async () => {
    const owner = uniqueName("owner");
    const named = await createUser(["customer"], owner);
    const plain = await createUser(["customer"]);
    const auth = createAuth(testJwtSecret);
    expect((await auth.verify((await signIn(named)).accessToken)).subject).toBe(owner);
    expect((await auth.verify((await signIn(plain)).accessToken)).subject).toBe(plain);
  });

  it("rehashes a password stored under older scrypt parameters at sign-in", async () => {
    const username = await createUser(["operator"]);
    const salt = Buffer.from("0123456789abcdef");
    const oldHash = (await promisify(scrypt)(password, salt, 32)) as Buffer;
    await server.process.db.query(
      `UPDATE auth_users SET password_hash = $2, password_salt = $3, scrypt_n = 16384, scrypt_r = 8, scrypt_p = 1,
         scrypt_key_length = 32 WHERE username = $1`,
      [username, oldHash.toString("base64"), salt.toString("base64")],
    );
    await signIn(username);
    const { rows } = await server.process.db.query<{ scrypt_n: number }>("SELECT scrypt_n FROM auth_users WHERE username = $1", [username]);
    expect(rows[0]?.scrypt_n).toBe(scryptParams.n);
    expect((await signIn(username)).tokenType).toBe("Bearer");
  });
});

describe("storage", () => {
  it("stores a salted scrypt hash, never the password", async () => {
    const username = await createUser(["operator"]);
    const { rows } = await server.process.db.query<Record<string, unknown>>("SELECT * FROM auth_users WHERE username = $1", [username]);
    const row = rows[0] ?? {};
    expect(JSON.stringify(row)).not.toContain(password);
    expect(Buffer.from(String(row.password_hash), "base64")).toHaveLength(32);
    expect(Buffer.from(String(row.password_salt), "base64")).toHaveLength(16);
    expect([row.scrypt_n, row.scrypt_r, row.scrypt_p, row.scrypt_key_length]).toEqual([32768, 8, 1, 32]);
  });

  it("stores only the SHA-256 of a refresh token", async () => {
    const username = await createUser(["operator"]);
    const { refreshToken } = await signIn(username);
    const { rows } = await server.process.db.query<Record<string, unknown>>(
      `SELECT t.* FROM auth_refresh_tokens t JOIN auth_refresh_families f ON f.id = t.family_id WHERE f.username = $1`,
      [username],
    );
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(refreshToken);
    expect(rows[0]?.token_hash).toBe(createHash("sha256").update(refreshToken).digest("hex"));
  });
});

describe("managing users", () => {
  it("lets only admins create users", async () => {
    const attempt = (roles: ("customer" | "auditor" | "operator")[]) =>
      rpcError(server.client(roles).createUser({ username: uniqueName("x"), password, roles: ["operator"] }));
    expect((await attempt(["customer"])).code).toBe(Code.PermissionDenied);
    expect((await attempt(["auditor"])).code).toBe(Code.PermissionDenied);
    expect((await attempt(["operator"])).code).toBe(Code.PermissionDenied);
    const anonymous = await rpcError(server.clientWithToken().createUser({ username: uniqueName("x"), password, roles: ["operator"] }));
    expect(anonymous.code).toBe(Code.Unauthenticated);
  });

  it("lets auditors list users but not change them", async () => {
    const username = await createUser(["operator"]);
    const listed = await server.client(["auditor"]).listUsers({});
    expect(listed.users.length).toBeGreaterThan(0);
    expect((await rpcError(server.client(["auditor"]).disableUser({ username }))).code).toBe(Code.PermissionDenied);
    expect((await rpcError(server.client(["auditor"]).setUserRoles({ username, roles: ["admin"] }))).code).toBe(Code.PermissionDenied);
    expect((await rpcError(server.client(["customer"]).listUsers({}))).code).toBe(Code.PermissionDenied);
  });

  it("returns the original user for a repeated create and names the differing field otherwise", async () => {
    const username = uniqueName("user");
    const first = await server.client().createUser({ username, password, roles: ["operator", "auditor"] });
    expect(first.existed).toBe(false);
    expect(first.user?.roles).toEqual(["operator", "auditor"]);
    expect(first.user?.ownerId).toBe(username);
    const again = await server.client().createUser({ username, password, roles: ["auditor", "operator"] });
    expect(again.existed).toBe(true);
    const roles = await rpcError(server.client().createUser({ username, password, roles: ["operator"] }));
    expect(roles.code).toBe(Code.AlreadyExists);
    expect(roles.metadata.get("x-qenex-field")).toBe("roles");
    const pass = await rpcError(server.client().createUser({ username, password: "another password", roles: ["operator", "auditor"] }));
    expect(pass.metadata.get("x-qenex-field")).toBe("password");
  });

  it("rejects bad usernames, short passwords, unknown roles and a customer with staff roles", async () => {
    const create = (username: string, pass: string, roles: string[]) =>
      rpcError(server.client().createUser({ username, password: pass, roles }));
    expect((await create("has space", password, ["operator"])).code).toBe(Code.InvalidArgument);
    expect((await create("x".repeat(65), password, ["operator"])).code).toBe(Code.InvalidArgument);
    expect((await create(uniqueName("u"), "short", ["operator"])).code).toBe(Code.InvalidArgument);
    expect((await create(uniqueName("u"), "x".repeat(257), ["operator"])).code).toBe(Code.InvalidArgument);
    expect((await create(uniqueName("u"), password, ["root"])).code).toBe(Code.InvalidArgument);
    const mixed = await create(uniqueName("u"), password, ["customer", "admin"]);
    expect(mixed.code).toBe(Code.InvalidArgument);
    expect(mixed.rawMessage).toContain("a customer holds no other role");
  });

  it("pages through users in username order, at most 500 a page", async () => {
    await createUser(["operator"]);
    await createUser(["operator"]);
    const first = await server.client().listUsers({ page: { pageSize: 2 } });
    expect(first.users).toHaveLength(2);
    const second = await server.client().listUsers({ page: { pageSize: 2, pageToken: first.page?.nextPageToken ?? "" } });
    const names = [...first.users, ...second.users].map((u) => u.username);
    expect(names).toEqual([...names].sort());
    expect(new Set(names).size).toBe(names.length);
    expect((await rpcError(server.client().listUsers({ page: { pageSize: 501 } }))).code).toBe(Code.InvalidArgument);
    expect((await rpcError(server.client().listUsers({ page: { pageToken: "not-ours!" } }))).code).toBe(Code.InvalidArgument);
  });

  it("applies new roles at the next refresh", async () => {
    const username = await createUser(["operator"]);
    const session = await signIn(username);
    const updated = await server.client().setUserRoles({ username, roles: ["auditor"] });
    expect(updated.user?.roles).toEqual(["auditor"]);
    const refreshed = await server.clientWithToken().refreshToken({ refreshToken: session.refreshToken });
    expect(refreshed.roles).toEqual(["auditor"]);
    expect((await createAuth(testJwtSecret).verify(refreshed.accessToken)).roles).toEqual(["auditor"]);
  });

  it("answers NOT_FOUND for an unknown user", async () => {
    const error = await rpcError(server.client().disableUser({ username: uniqueName("nobody") }));
    expect(error.code).toBe(Code.NotFound);
  });
});

describe("changing a password", () => {
  it("lets a user change their own with the old password, and ends their sessions", async () => {
    const username = await createUser(["operator"]);
    const session = await signIn(username);
    const self = server.clientWithToken(session.accessToken);
    const wrong = await rpcError(self.changePassword({ username, oldPassword: "not the password", newPassword: "a new password" }));
    expect(wrong.code).toBe(Code.PermissionDenied);
    const missing = await rpcError(self.changePassword({ username, newPassword: "a new password" }));
    expect(missing.code).toBe(Code.InvalidArgument);
    await self.changePassword({ username, oldPassword: password, newPassword: "a new password" });
    expect((await rpcError(signIn(username))).code).toBe(Code.Unauthenticated);
    expect((await signIn(username, "a new password")).tokenType).toBe("Bearer");
    const refresh = await rpcError(server.clientWithToken().refreshToken({ refreshToken: session.refreshToken }));
    expect(refresh.code).toBe(Code.Unauthenticated);
  });

  it("lets a customer acting for an owner id change their own", async () => {
    const username = await createUser(["customer"], uniqueName("owner"));
    const { accessToken } = await signIn(username);
    await server.clientWithToken(accessToken).changePassword({ username, oldPassword: password, newPassword: "a new password" });
    expect((await signIn(username, "a new password")).roles).toEqual(["customer"]);
  });

  it("refuses someone else's password to a non-admin, even with the right old password", async () => {
    const victim = await createUser(["operator"]);
    const other = await createUser(["operator"]);
    const { accessToken } = await signIn(other);
    const error = await rpcError(
      server.clientWithToken(accessToken).changePassword({ username: victim, oldPassword: password, newPassword: "a new password" }),
    );
    expect(error.code).toBe(Code.PermissionDenied);
    expect((await signIn(victim)).tokenType).toBe("Bearer");
  });

  it("lets an admin set any password without the old one", async () => {
    const username = await createUser(["operator"]);
    await server.client(["admin"]).changePassword({ username, newPassword: "set by the admin" });
    expect((await signIn(username, "set by the admin")).tokenType).toBe("Bearer");
  });
});
