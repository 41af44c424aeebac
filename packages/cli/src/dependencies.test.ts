// The whole mesh on a private PostgreSQL and a private Redis that the test stops, freezes and
// cuts: no service process exits or restarts, calls end within their deadline with 503
// UNAVAILABLE, /api/v1/system/status stays reachable and names what is down, and service
// resumes by itself when the dependency returns.
import { type PrivatePostgres, type PrivateRedis, startPrivatePostgres, startPrivateRedis, until } from "@qenex/platform/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { qenexToken, serviceProcesses, startTestMesh, type TestMesh } from "./testing/mesh.js";

let postgres: PrivatePostgres;
let redis: PrivateRedis;
let mesh: TestMesh;
let bearer: string;
let pidsAtStart: Map<string, number>;
const account = `DEP-${process.pid}`;

type Status = {
  status: string;
  services: { service: string; dependencies: { name: string; reachable: boolean }[] }[];
  dependencies: { name: string; reachable: boolean }[];
};

beforeAll(async () => {
  [postgres, redis] = await Promise.all([startPrivatePostgres(), startPrivateRedis()]);
  mesh = await startTestMesh("deps", {
    env: { DATABASE_URL: postgres.url, REDIS_URL: redis.url, QENEX_SHUTDOWN_GRACE_MS: "1000" },
  });
  bearer = await qenexToken(mesh.env, "admin");
  pidsAtStart = serviceProcesses(mesh.child.pid as number);
  const created = await rest("/api/v1/accounts", {
    account_id: account,
    account_type: "CHECKING",
    currency: "USD",
    initial_balance: "5.00",
  });
  expect(created.status).toBe(200);
}, 120_000);

afterAll(async () => {
  await mesh?.stop();
  await Promise.all([postgres?.destroy(), redis?.destroy()]);
});

function rest(route: string, body?: unknown, timeoutMs = 2_000): Promise<Response> {
  const headers = { "content-type": "application/json", authorization: `Bearer ${bearer}`, "x-timeout-ms": String(timeoutMs) };
  return fetch(`${mesh.urls.edge}${route}`, body === undefined ? { headers } : { method: "POST", headers, body: JSON.stringify(body) });
}

async function status(): Promise<Status> {
  const res = await fetch(`${mesh.urls.edge}/api/v1/system/status`);
  expect(res.status).toBe(200);
  return (await res.json()) as Status;
}

const balance = () => rest(`/api/v1/accounts/${account}/balance`);

/** No service process exited: the supervisor restarted nothing. */
function expectSameProcesses(): void {
  expect(serviceProcesses(mesh.child.pid as number)).toEqual(pidsAtStart);
}

async function recovered(what: string): Promise<void> {
  await until(what, async () => ((await balance()).status === 200 && (await status()).status === "ok" ? true : undefined));
}

describe("the mesh when its dependencies fail", () => {
  it("answers 503 within the deadline while PostgreSQL is stopped, names it in the status, and resumes when it returns", async () => {
    await postgres.stop();
    const startedMs = performance.now();
    const res = await balance();
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).not.toBeNull();
    expect(performance.now() - startedMs).toBeLessThan(2_000 + 1_500);
    const down = await status();
    expect(down.status).toBe("degraded");
    const ledger = down.services.find((s) => s.service === "qenex.ledger.v1.LedgerService");
    expect(ledger?.dependencies).toContainEqual({ name: "postgresql", reachable: false });
    await postgres.start();
    await recovered("the ledger after PostgreSQL returned");
    expectSameProcesses();
  }, 60_000);

  it("ends calls by their deadline while PostgreSQL is frozen, and resumes when it thaws", async () => {
    postgres.freeze();
    try {
      const startedMs = performance.now();
      const res = await rest(`/api/v1/accounts/${account}/balance`, undefined, 1_500);
      expect([503, 504]).toContain(res.status);
      expect(performance.now() - startedMs).toBeLessThan(1_500 + 1_500);
    } finally {
      postgres.thaw();
    }
    await recovered("the ledger after PostgreSQL thawed");
    expectSameProcesses();
  }, 60_000);

  it("survives every connection being terminated", async () => {
    expect(await postgres.terminateBackends()).toBeGreaterThan(0);
    await recovered("the ledger after its connections were terminated");
    expectSameProcesses();
  }, 60_000);

  it("keeps the status page reachable while Redis is stopped, names Redis, and resumes when it returns", async () => {
    await redis.stop();
    const down = await status();
    expect(down.status).toBe("degraded");
    expect(down.dependencies).toContainEqual(expect.objectContaining({ name: "redis", reachable: false }));
    const health = await fetch(`${mesh.urls.edge}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({
      status: "degraded",
      dependencies: [expect.objectContaining({ name: "redis", reachable: false })],
    });
    // The rate limiter's configured mode (closed by default): refused with Retry-After, quickly.
    const startedMs = performance.now();
    const refused = await balance();
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).not.toBeNull();
    expect(performance.now() - startedMs).toBeLessThan(2_000);
    await redis.start();
    await recovered("the edge after Redis returned");
    expectSameProcesses();
  }, 60_000);
});
