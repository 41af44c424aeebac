// Sign-in throttling seen through the edge's REST route: 429 with Retry-After, and each
// client counted by the address the edge saw, although the auth service sees only the edge.
import { randomBytes } from "node:crypto";
import * as http from "node:http";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestEdge, type TestEdge } from "./testing/harness.js";

let edge: TestEdge;
let nowMs = Date.now();
const password = "correct horse battery";

beforeAll(async () => {
  edge = await startTestEdge({
    authThrottle: { nowMs: () => nowMs },
    authEnv: { QENEX_SIGNIN_ACCOUNT_LIMIT: "5/86400", QENEX_SIGNIN_IP_LIMIT: "6/3600", QENEX_SIGNIN_BACKOFF_MS: "1000/900000" },
  });
});
afterAll(async () => {
  await edge?.stop();
});

/** A loopback address of its own (Linux answers on all of 127.0.0.0/8), so the edge sees a distinct client. */
function clientAddress(): string {
  const [a = 0, b = 0, c = 1] = randomBytes(3);
  return `127.${a}.${b}.${Math.max(1, c)}`;
}

/** POSTs JSON to the edge from `localAddress`. */
function post(localAddress: string, path: string, body: object, headers: Record<string, string> = {}) {
  const url = new URL(path, edge.url);
  const text = JSON.stringify(body);
  return new Promise<{ status: number; retryAfter: string | undefined; body: { code?: number; message?: string } }>((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: "POST",
        localAddress,
        headers: { "content-type": "application/json", ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const retryAfter = res.headers["retry-after"];
          resolve({ status: res.statusCode ?? 0, retryAfter, body: JSON.parse(Buffer.concat(chunks).toString() || "{}") });
        });
      },
    );
    req.on("error", reject);
    req.end(text);
  });
}

async function createUser(): Promise<string> {
  const username = `throttled-${randomBytes(6).toString("hex")}`;
  const created = await post(
    "127.0.0.1",
    "/api/v1/auth/users",
    { username, password, roles: ["operator"] },
    { authorization: `Bearer ${await edge.token(["admin"])}` },
  );
  expect(created.status).toBe(200);
  return username;
}

const signIn = (from: string, username: string, pass = password) => post(from, "/api/v1/auth/token", { username, password: pass });

describe("POST /api/v1/auth/token under throttling", () => {
  it("answers 429 with Retry-After once an account has failed 5 times, and 200 after the backoff", async () => {
    const from = clientAddress();
    const username = await createUser();
    for (let i = 0; i < 5; i++) expect((await signIn(from, username, "not the password")).status).toBe(401);
    const refused = await signIn(from, username);
    expect(refused.status).toBe(429);
    expect(refused.retryAfter).toBe("1");
    expect(refused.body).toMatchObject({ code: Code.ResourceExhausted, message: "too many failed sign-ins; retry in 1 s" });
    nowMs += 1_000;
    expect((await signIn(from, username)).status).toBe(200);
  });

  it("counts failures by the client address the edge saw, not the edge's own", async () => {
    const stuffer = clientAddress();
    for (let i = 0; i < 6; i++) expect((await signIn(stuffer, `nobody-${randomBytes(6).toString("hex")}`, "guess")).status).toBe(401);
    const username = await createUser();
    expect((await signIn(stuffer, username)).status).toBe(429);
    // Another client of the same edge is not held back by the first one's failures.
    expect((await signIn(clientAddress(), username)).status).toBe(200);
    nowMs += 1_000;
  });

  it("ignores a client's own X-Forwarded-For and address headers", async () => {
    const stuffer = clientAddress();
    for (let i = 0; i < 6; i++) {
      const spoofed = { "x-forwarded-for": clientAddress(), "x-qenex-client-address": clientAddress() };
      expect(
        (await post(stuffer, "/api/v1/auth/token", { username: `nobody-${randomBytes(6).toString("hex")}`, password: "guess" }, spoofed))
          .status,
      ).toBe(401);
    }
    expect((await signIn(stuffer, await createUser())).status).toBe(429);
    nowMs += 1_000;
  });
});
