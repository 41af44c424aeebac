// Bearer tokens at the edge and in the services behind it: missing, expired, tampered,
// unsigned (alg: none) and wrong-key tokens are all refused.
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { LedgerService } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { createLogger, createMemoryRateLimiter, createRateLimiter } from "@qenex/platform";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestEdge, type TestEdge } from "./testing/harness.js";

let edge: TestEdge;
let valid: string;

beforeAll(async () => {
  edge = await startTestEdge();
  valid = await edge.token(["admin"]);
});
afterAll(async () => {
  await edge?.stop();
});

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");

async function badTokens(): Promise<Record<string, string>> {
  const [header, payload] = valid.split(".") as [string, string, string];
  const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
  const sign = (secret: string, overrides: object = {}) =>
    new SignJWT({ ...claims, ...overrides }).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode(secret));
  return {
    tampered: `${header}.${b64({ ...claims, roles: ["admin"], sub: "someone-else" })}.${valid.split(".")[2]}`,
    "alg none": `${b64({ alg: "none", typ: "JWT" })}.${payload}.`,
    "wrong key": await sign("another-secret-another-secret-another-0"),
    expired: await sign("test-secret-test-secret-test-secret-0123", { exp: Math.floor(Date.now() / 1000) - 60 }),
    garbage: "not-a-jwt",
  };
}

describe("bearer tokens", () => {
  it("a request without a token is refused with 401", async () => {
    const response = await fetch(`${edge.url}/api/v1/accounts/x/balance`);
    expect(response.status).toBe(401);
    expect(((await response.json()) as { code: number }).code).toBe(Code.Unauthenticated);
  });

  it("every bad token is refused at the edge (REST) with 401", async () => {
    for (const [kind, token] of Object.entries(await badTokens())) {
      const response = await fetch(`${edge.url}/api/v1/ledger/trial-balance`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status, kind).toBe(401);
      expect(((await response.json()) as { code: number }).code, kind).toBe(Code.Unauthenticated);
    }
    const ok = await fetch(`${edge.url}/api/v1/ledger/trial-balance`, { headers: { authorization: `Bearer ${valid}` } });
    expect(ok.status).toBe(200);
  });

  it("the ledger itself refuses them too, without the edge", async () => {
    for (const [kind, token] of Object.entries(await badTokens())) {
      const client = createClient(LedgerService, createGrpcTransport({ baseUrl: edge.ledger.url }));
      const error = await client
        .getTrialBalance({}, { headers: { authorization: `Bearer ${token}` } })
        .catch((e: unknown) => ConnectError.from(e));
      expect(error, kind).toBeInstanceOf(ConnectError);
      expect((error as ConnectError).code, kind).toBe(Code.Unauthenticated);
    }
  });
});

describe("rate limits", () => {
  it("per client address: 429 with Retry-After once the bucket is empty", async () => {
    const limited = await startTestEdge({
      // A stopped clock: no token comes back during the test, however slow the machine.
      rateLimiter: createMemoryRateLimiter({ nowMs: () => 0 }),
      rateLimits: { perIp: { capacity: 3, refillPerSecond: 1 }, perPrincipal: { capacity: 100, refillPerSecond: 100 } },
    });
    try {
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 5; i++) {
        const response = await fetch(`${limited.url}/v1/echo/x`, { headers: { authorization: `Bearer ${await limited.token()}` } });
        statuses.push(response.status);
        if (response.status === 429) {
          retryAfter = response.headers.get("retry-after");
          expect(((await response.json()) as { code: number }).code).toBe(Code.ResourceExhausted);
        }
      }
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    } finally {
      await limited.stop();
    }
  });

  it("per principal, whatever the address", async () => {
    const limited = await startTestEdge({
      rateLimiter: createMemoryRateLimiter({ nowMs: () => 0 }),
      rateLimits: { perIp: { capacity: 100, refillPerSecond: 100 }, perPrincipal: { capacity: 2, refillPerSecond: 1 } },
    });
    try {
      const alice = await limited.token(["admin"], "alice");
      const bob = await limited.token(["admin"], "bob");
      const get = async (token: string) =>
        (await fetch(`${limited.url}/v1/echo/x`, { headers: { authorization: `Bearer ${token}` } })).status;
      expect([await get(alice), await get(alice), await get(alice)]).toEqual([200, 200, 429]);
      expect(await get(bob)).toBe(200);
    } finally {
      await limited.stop();
    }
  });

  it("a limiter that cannot decide (store down) fails closed with 503 when so configured", async () => {
    // The real Redis limiter, set to fail closed, pointed at a port where no Redis listens.
    const limiter = createRateLimiter("redis://127.0.0.1:1", { whenStoreDown: "closed", logger: createLogger("edge-test", "silent") });
    const down = await startTestEdge({ rateLimiter: limiter });
    try {
      const response = await fetch(`${down.url}/v1/echo/x`, { headers: { authorization: `Bearer ${await down.token()}` } });
      expect(response.status).toBe(503);
      expect(response.headers.get("retry-after")).toBe("1");
    } finally {
      await down.stop();
      await limiter.close();
    }
  });
});

describe("users, tokens and roles through the edge", () => {
  it("customers sign in over REST, see their own accounts and get 403 on another's", async () => {
    const p = `c${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    const admin = { authorization: `Bearer ${valid}`, "content-type": "application/json" };
    const post = (path: string, body: object, headers: Record<string, string> = admin) =>
      fetch(`${edge.url}${path}`, { method: "POST", headers, body: JSON.stringify(body) });
    for (const name of ["alice", "bob"]) {
      expect(
        (await post("/api/v1/auth/users", { username: `${p}-${name}`, password: "correct horse battery", roles: ["customer"] })).status,
      ).toBe(200);
      expect(
        (
          await post("/api/v1/accounts", {
            account_id: `${p}-${name}-acc`,
            account_type: "CHECKING",
            currency: "USD",
            owner_id: `${p}-${name}`,
            initial_balance: 10,
          })
        ).status,
      ).toBe(200);
    }
    const signIn = await post(
      "/api/v1/auth/token",
      { username: `${p}-alice`, password: "correct horse battery" },
      { "content-type": "application/json" },
    );
    expect(signIn.status).toBe(200);
    const session = (await signIn.json()) as { accessToken: string; refreshToken: string; tokenType: string };
    expect(session.tokenType).toBe("Bearer");
    const alice = { authorization: `Bearer ${session.accessToken}` };
    expect((await fetch(`${edge.url}/api/v1/accounts/${p}-alice-acc/balance`, { headers: alice })).status).toBe(200);
    const foreign = await fetch(`${edge.url}/api/v1/accounts/${p}-bob-acc/balance`, { headers: alice });
    expect(foreign.status).toBe(403);
    expect(((await foreign.json()) as { code: number }).code).toBe(Code.PermissionDenied);
    const steal = await post(
      "/api/v1/transactions",
      { source_account: `${p}-bob-acc`, destination_account: `${p}-alice-acc`, amount: "1.00", currency: "USD" },
      { ...alice, "content-type": "application/json" },
    );
    expect(steal.status).toBe(403);
    expect((await fetch(`${edge.url}/api/v1/auth/users`, { headers: alice })).status).toBe(403);

    const wrong = await post(
      "/api/v1/auth/token",
      { username: `${p}-alice`, password: "wrong password!" },
      { "content-type": "application/json" },
    );
    expect(wrong.status).toBe(401);
  });

  it("a rotated refresh token used again revokes the whole session", async () => {
    const p = `r${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    const json = { "content-type": "application/json" };
    const post = (path: string, body: object, headers: Record<string, string> = json) =>
      fetch(`${edge.url}${path}`, { method: "POST", headers, body: JSON.stringify(body) });
    await post(
      "/api/v1/auth/users",
      { username: p, password: "correct horse battery", roles: ["auditor"] },
      { ...json, authorization: `Bearer ${valid}` },
    );
    const first = (await (await post("/api/v1/auth/token", { username: p, password: "correct horse battery" })).json()) as {
      refreshToken: string;
    };
    const rotated = await post("/api/v1/auth/refresh", { refresh_token: first.refreshToken });
    expect(rotated.status).toBe(200);
    const second = (await rotated.json()) as { refreshToken: string; accessToken: string };
    expect(second.refreshToken).not.toBe(first.refreshToken);
    const reuse = await post("/api/v1/auth/refresh", { refresh_token: first.refreshToken });
    expect(reuse.status).toBe(401);
    expect((await post("/api/v1/auth/refresh", { refresh_token: second.refreshToken })).status).toBe(401);
  });
});
