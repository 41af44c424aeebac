import { scrypt } from "node:crypto";
import { promisify } from "node:util";
import { Code } from "@connectrpc/connect";
import { DomainError } from "@qenex/platform";
import { describe, expect, it } from "vitest";
import { createPasswordHasher, hasCurrentParams, scryptParams } from "./passwords.js";

describe("password hashing", () => {
  const hasher = createPasswordHasher();

  it("verifies the right password and refuses a wrong one", async () => {
    const stored = await hasher.hash("correct horse battery");
    expect(stored.salt).toHaveLength(16);
    expect(stored.hash).toHaveLength(32);
    expect(stored.params).toEqual(scryptParams);
    expect(await hasher.verify("correct horse battery", stored)).toBe(true);
    expect(await hasher.verify("correct horse batterz", stored)).toBe(false);
  });

  it("salts each hash, so one password hashes differently twice", async () => {
    const [a, b] = await Promise.all([hasher.hash("same password"), hasher.hash("same password")]);
    expect(a.salt.equals(b.salt)).toBe(false);
    expect(a.hash.equals(b.hash)).toBe(false);
  });

  it("verifies hashes made under older parameters and reports them as not current", async () => {
    const salt = Buffer.from("0123456789abcdef");
    const params = { ...scryptParams, n: 2 ** 14 };
    const hash = (await promisify(scrypt)("a password", salt, 32)) as Buffer;
    expect(await hasher.verify("a password", { hash, salt, params })).toBe(true);
    expect(await hasher.verify("a password", { hash, salt, params: scryptParams })).toBe(false);
    expect(hasCurrentParams(params)).toBe(false);
    expect(hasCurrentParams(scryptParams)).toBe(true);
  });

  it("answers an unknown user with false after the same work", async () => {
    expect(await hasher.verifyNothing("anything at all")).toBe(false);
  });

  it("refuses hashes beyond the in-flight limit at once", async () => {
    const limited = createPasswordHasher({ inFlightMax: 2 });
    const results = await Promise.allSettled([1, 2, 3, 4].map(() => limited.hash("a password")));
    const refused = results.filter((r) => r.status === "rejected").map((r) => (r as PromiseRejectedResult).reason);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(2);
    expect(refused).toHaveLength(2);
    expect(refused.every((e) => e instanceof DomainError && e.code === Code.ResourceExhausted)).toBe(true);
    expect(await limited.verifyNothing("after the burst")).toBe(false);
  });
});
