import { describe, expect, it } from "vitest";
import { type Auth, createAuth, serviceTokens } from "./auth.js";

const auth = createAuth("auth-test-secret-auth-test-secret-auth-1");

describe("createAuth", () => {
  it("verifies what it issued, keeping only known roles", async () => {
    const token = await auth.issue({ subject: "alice", roles: ["auditor"] }, 60);
    expect(await auth.verify(token)).toEqual({ subject: "alice", roles: ["auditor"] });
    expect(await auth.verify(token)).toEqual({ subject: "alice", roles: ["auditor"] });
  });

  it("refuses a token once it expires, even one it accepted before", async () => {
    const token = await auth.issue({ subject: "bob", roles: ["admin"] }, 1);
    await auth.verify(token);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    await expect(auth.verify(token)).rejects.toThrow();
  });

  it("refuses tokens signed with another secret and bounds lifetimes", async () => {
    const foreign = await createAuth("other-secret-other-secret-other-secret-1").issue({ subject: "x", roles: ["admin"] }, 60);
    await expect(auth.verify(foreign)).rejects.toThrow();
    await expect(auth.issue({ subject: "x", roles: [] }, 8 * 24 * 3600)).rejects.toThrow(RangeError);
  });
});

describe("service tokens", () => {
  it("mint one service token and reuse it, and try again after a failed mint", async () => {
    const auth = createAuth("service-secret-service-secret-service-1");
    let failNext = true;
    let minted = 0;
    const flaky: Auth = {
      verify: auth.verify,
      issue: async (principal, ttlSeconds) => {
        minted++;
        if (failNext) {
          failNext = false;
          throw new Error("key store unavailable");
        }
        return auth.issue(principal, ttlSeconds);
      },
    };
    const token = serviceTokens(flaky, "payments");
    await expect(token()).rejects.toThrow("key store unavailable");
    const first = await token();
    expect(await token()).toBe(first);
    expect(minted).toBe(2);
    expect(await auth.verify(first)).toEqual({ subject: "payments", roles: ["service"] });
  });
});
