import { Code } from "@connectrpc/connect";
import { type Db, DomainError } from "@qenex/platform";
import { afterEach, describe, expect, it } from "vitest";
import { ensureFirstAdmin, firstAdminUsername, generatePassword } from "./first-admin.js";
import { createPasswordHasher } from "./passwords.js";
import { disableUser, findUser, insertUser, setUserRoles } from "./store/user-store.js";
import { createEmptyAuthDb } from "./testing/harness.js";

const hasher = createPasswordHasher();
let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

async function emptyDb() {
  const empty = await createEmptyAuthDb();
  cleanup = empty.drop;
  return empty;
}

async function adminAccepts(db: Db, password: string): Promise<boolean> {
  const admin = await findUser(db, firstAdminUsername);
  return admin !== undefined && admin.roles.join() === "admin" && (await hasher.verify(password, admin.password));
}

async function domainError(call: Promise<unknown>): Promise<DomainError> {
  try {
    await call;
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error("expected the call to fail");
}

describe("ensureFirstAdmin", () => {
  it("creates admin with the configured password, prints nothing, and does nothing the second time", async () => {
    const { db } = await emptyDb();
    const written: string[] = [];
    const write = (text: string) => written.push(text);
    expect(await ensureFirstAdmin(db, { adminPassword: "configured secret" }, write)).toEqual({ created: true });
    expect(written).toEqual([]);
    expect(await adminAccepts(db, "configured secret")).toBe(true);
    expect(await ensureFirstAdmin(db, { adminPassword: "another secret" }, write)).toEqual({ created: false });
    expect(await adminAccepts(db, "configured secret")).toBe(true);
  });

  it("generates a password when none is configured and prints it once", async () => {
    const { db } = await emptyDb();
    const written: string[] = [];
    const write = (text: string) => written.push(text);
    expect(await ensureFirstAdmin(db, { adminPassword: undefined }, write)).toEqual({ created: true });
    const password = /generated password: (\S+)/.exec(written.join(""))?.[1] ?? "";
    expect(password).toHaveLength(24);
    expect(await adminAccepts(db, password)).toBe(true);
    expect(await ensureFirstAdmin(db, { adminPassword: undefined }, write)).toEqual({ created: false });
    expect(written.join("").match(/generated password/g)).toHaveLength(1);
  });

  it("creates exactly one admin when replicas start at once", async () => {
    const { db, open } = await emptyDb();
    const replicas = [db, await open(), await open()];
    const written: string[] = [];
    const results = await Promise.all(replicas.map((r) => ensureFirstAdmin(r, { adminPassword: undefined }, (t) => written.push(t))));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(written.join("").match(/generated password/g)).toHaveLength(1);
    const password = /generated password: (\S+)/.exec(written.join(""))?.[1] ?? "";
    expect(await adminAccepts(db, password)).toBe(true);
  });

  it("creates nothing when some user already exists", async () => {
    const { db } = await emptyDb();
    await insertUser(db, { username: "someone", password: await hasher.hash("a password"), roles: ["operator"], ownerId: "someone" });
    expect(await ensureFirstAdmin(db, { adminPassword: "configured secret" })).toEqual({ created: false });
    expect(await findUser(db, firstAdminUsername)).toBeUndefined();
  });
});

describe("the last enabled admin", () => {
  it("cannot be disabled or lose the admin role, until another admin exists", async () => {
    const { db } = await emptyDb();
    await ensureFirstAdmin(db, { adminPassword: "configured secret" });
    expect((await domainError(disableUser(db, firstAdminUsername))).code).toBe(Code.FailedPrecondition);
    expect((await domainError(setUserRoles(db, firstAdminUsername, ["operator"]))).code).toBe(Code.FailedPrecondition);
    await insertUser(db, { username: "second", password: await hasher.hash("a password"), roles: ["admin"], ownerId: "second" });
    expect((await disableUser(db, firstAdminUsername)).disabled).toBe(true);
    expect((await domainError(setUserRoles(db, "second", ["auditor"]))).code).toBe(Code.FailedPrecondition);
  });
});

describe("generatePassword", () => {
  it("makes 24 characters, different each time", () => {
    const a = generatePassword();
    expect(a).toMatch(/^[A-Za-z2-9]{24}$/);
    expect(generatePassword()).not.toBe(a);
  });
});
