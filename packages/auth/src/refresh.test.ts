import { Code } from "@connectrpc/connect";
import { createAuth } from "@qenex/platform";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newRefreshToken, refreshTokenHash } from "./refresh-token.js";
import { rotationsPerSessionMax, sessionsPerUserMax, startSession } from "./store/session-store.js";
import { rpcError, startTestAuth, type TestAuth, testJwtSecret, uniqueName } from "./testing/harness.js";

let server: TestAuth;
beforeAll(async () => {
  server = await startTestAuth();
});
afterAll(() => server.stop());

const password = "correct horse battery";

async function signedIn(roles: string[] = ["operator"]) {
  const username = uniqueName("user");
  await server.client().createUser({ username, password, roles });
  const tokens = await server.clientWithToken().issueToken({ username, password });
  return { username, ...tokens };
}

const refresh = (refreshToken: string) => server.clientWithToken().refreshToken({ refreshToken });

describe("refresh tokens", () => {
  it("rotate: each refresh returns a new token and a working access token", async () => {
    const session = await signedIn();
    const first = await refresh(session.refreshToken);
    expect(first.refreshToken).not.toBe(session.refreshToken);
    expect(first.tokenType).toBe("Bearer");
    expect((await createAuth(testJwtSecret).verify(first.accessToken)).subject).toBe(session.username);
    expect(first.refreshExpiresIn).toBeLessThanOrEqual(session.refreshExpiresIn);
    const second = await refresh(first.refreshToken);
    expect(second.refreshToken).not.toBe(first.refreshToken);
  });

  it("revoke the whole session when a rotated token is presented again", async () => {
    const session = await signedIn();
    const newer = await refresh(session.refreshToken);
    const reuse = await rpcError(refresh(session.refreshToken));
    expect(reuse.code).toBe(Code.Unauthenticated);
    expect(reuse.rawMessage).toBe("refresh token reuse detected; the session is revoked");
    const after = await rpcError(refresh(newer.refreshToken));
    expect(after.code).toBe(Code.Unauthenticated);
    expect(after.rawMessage).toContain("revoked");
    // Another sign-in of the same user is a separate session and keeps working.
    const other = await server.clientWithToken().issueToken({ username: session.username, password });
    expect((await refresh(other.refreshToken)).tokenType).toBe("Bearer");
  });

  it("let exactly one of two concurrent refreshes with the same token succeed", async () => {
    const session = await signedIn();
    const results = await Promise.allSettled([refresh(session.refreshToken), refresh(session.refreshToken)]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const failed = results.find((r) => r.status === "rejected");
    expect(failed?.status === "rejected" && (failed.reason as { code?: unknown }).code).toBe(Code.Unauthenticated);
  });

  it("stop working after RevokeToken, which needs no bearer token and accepts unknown tokens", async () => {
    const session = await signedIn();
    const rotated = await refresh(session.refreshToken);
    await server.clientWithToken().revokeToken({ refreshToken: rotated.refreshToken });
    const error = await rpcError(refresh(rotated.refreshToken));
    expect(error.code).toBe(Code.Unauthenticated);
    expect(error.rawMessage).toBe("refresh token revoked; sign in again");
    await server.clientWithToken().revokeToken({ refreshToken: newRefreshToken() });
    await server.clientWithToken().revokeToken({ refreshToken: rotated.refreshToken });
  });

  it("fail when unknown, malformed or expired", async () => {
    const unknown = await rpcError(refresh(newRefreshToken()));
    expect(unknown.code).toBe(Code.Unauthenticated);
    expect(unknown.rawMessage).toBe("invalid refresh token");
    expect((await rpcError(refresh("short"))).code).toBe(Code.InvalidArgument);
    const session = await signedIn();
    await server.process.db.query(
      `UPDATE auth_refresh_families SET expires_at = now() - interval '1 second'
       WHERE id = (SELECT family_id FROM auth_refresh_tokens WHERE token_hash = $1)`,
      [refreshTokenHash(session.refreshToken)],
    );
    const expired = await rpcError(refresh(session.refreshToken));
    expect(expired.code).toBe(Code.Unauthenticated);
    expect(expired.rawMessage).toBe("refresh token expired; sign in again");
  });

  it("end a session that reached its rotation limit", async () => {
    const session = await signedIn();
    await server.process.db.query(
      `UPDATE auth_refresh_families SET rotations = $2
       WHERE id = (SELECT family_id FROM auth_refresh_tokens WHERE token_hash = $1)`,
      [refreshTokenHash(session.refreshToken), rotationsPerSessionMax],
    );
    const error = await rpcError(refresh(session.refreshToken));
    expect(error.rawMessage).toBe("the session reached its refresh limit; sign in again");
  });

  it(`keep at most ${sessionsPerUserMax} live sessions per user, revoking the oldest`, async () => {
    const session = await signedIn();
    const db = server.process.db;
    for (let i = 0; i < sessionsPerUserMax; i++) {
      await startSession(db, session.username, refreshTokenHash(newRefreshToken()), 3600);
    }
    const { rows } = await db.query<{ live: string }>(
      "SELECT count(*)::text AS live FROM auth_refresh_families WHERE username = $1 AND revoked_at IS NULL",
      [session.username],
    );
    expect(rows[0]?.live).toBe(String(sessionsPerUserMax));
    const oldest = await rpcError(refresh(session.refreshToken));
    expect(oldest.rawMessage).toBe("refresh token revoked; sign in again");
  });
});
