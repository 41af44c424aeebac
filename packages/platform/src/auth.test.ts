import { describe, expect, it } from "vitest";
import { createAuth } from "./auth.js";

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
