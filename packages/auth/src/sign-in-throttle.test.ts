// Sign-in throttling through the real service (a gRPC client, the kv of REDIS_URL or the
// in-process one) with a clock the test moves: nothing here waits for time to pass.
import { randomBytes } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Code, createClient, createContextValues, createHandlerContext, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { AuthService, IssueTokenRequestSchema } from "@qenex/gen/qenex/auth/v1/auth_pb.js";
import { createAuth, createClientAddresses, createKv, type Kv, loadConfig, peerAddressKey } from "@qenex/platform";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPasswordHasher, type PasswordHasher } from "./passwords.js";
import { createAuthHandlers } from "./service.js";
import { createSignInMetrics } from "./sign-in-metrics.js";
import { addressKeyOf, createSignInThrottle, lockMsAfter } from "./sign-in-throttle.js";
import { createEmptyAuthDb, rpcError, startTestAuth, type TestAuth, testJwtSecret, uniqueName } from "./testing/harness.js";

const password = "correct horse battery";
const limits = {
  account: { failuresMax: 5, windowSeconds: 86_400 },
  address: { failuresMax: 8, windowSeconds: 3_600 },
  backoffMs: 1_000,
  backoffMaxMs: 8_000,
};
const env = { QENEX_SIGNIN_ACCOUNT_LIMIT: "5/86400", QENEX_SIGNIN_IP_LIMIT: "8/3600", QENEX_SIGNIN_BACKOFF_MS: "1000/8000" };

let nowMs = Date.now();
let server: TestAuth;
const clients = new Map<string, ReturnType<typeof createClient<typeof AuthService>>>();

beforeAll(async () => {
  server = await startTestAuth({ throttle: { nowMs: () => nowMs }, env });
});
afterAll(() => server.stop());

/** A client whose calls come, as the edge would sign it, from `address`. */
function from(address: string) {
  let client = clients.get(address);
  if (!client) {
    const headers = createClientAddresses(testJwtSecret).sign(address);
    const edge: Interceptor = (next) => async (req) => {
      for (const [name, value] of Object.entries(headers)) req.header.set(name, value);
      return next(req);
    };
    client = createClient(AuthService, createGrpcTransport({ baseUrl: server.process.server.url, interceptors: [edge] }));
    clients.set(address, client);
  }
  return client;
}

let addressCount = 0;
/** An address no other call in this file uses. */
function freshAddress(): string {
  addressCount++;
  return `10.${(addressCount >> 16) & 255}.${(addressCount >> 8) & 255}.${addressCount & 255}`;
}

async function createUser(): Promise<string> {
  const username = uniqueName("throttled");
  await server.client().createUser({ username, password, roles: ["operator"] });
  return username;
}

/** The outcome a caller sees: ok, or the code, message and Retry-After of the failure. */
async function signIn(address: string, username: string, pass = password) {
  try {
    await from(address).issueToken({ username, password: pass });
    return "ok";
  } catch (error) {
    const e = await rpcError(Promise.reject(error));
    return { code: Code[e.code], message: e.rawMessage, retryAfter: e.metadata.get("retry-after") };
  }
}

const wrong = { code: "Unauthenticated", message: "invalid username or password", retryAfter: null };
const lockedFor = (seconds: number) => ({
  code: "ResourceExhausted",
  message: `too many failed sign-ins; retry in ${seconds} s`,
  retryAfter: String(seconds),
});

/** Fails `count` times, each from an address of its own: an account's lock follows the account wherever guesses come from. */
async function failTimes(count: number, username: string) {
  for (let i = 0; i < count; i++) expect(await signIn(freshAddress(), username, "not the password")).toEqual(wrong);
}

describe("sign-in throttling per account", () => {
  it("locks an account after 5 failures: the right password is refused until the backoff has passed", async () => {
    const username = await createUser();
    await failTimes(5, username);
    expect(await signIn(freshAddress(), username)).toEqual(lockedFor(1));
    nowMs += 999;
    expect(await signIn(freshAddress(), username)).toEqual(lockedFor(1));
    nowMs += 1;
    expect(await signIn(freshAddress(), username)).toBe("ok");
  });

  it("doubles the lock with each further failure up to the cap, and a success starts the count again", async () => {
    const username = await createUser();
    await failTimes(5, username);
    nowMs += 1_000;
    for (const lockMs of [2_000, 4_000, 8_000, 8_000]) {
      await failTimes(1, username);
      expect(await signIn(freshAddress(), username)).toEqual(lockedFor(lockMs / 1000));
      nowMs += lockMs - 1;
      expect(await signIn(freshAddress(), username)).toEqual(lockedFor(1));
      nowMs += 1;
    }
    expect(await signIn(freshAddress(), username)).toBe("ok");
    // Reset: four failures lock nothing, and the fifth locks for the first backoff again.
    await failTimes(4, username);
    expect(await signIn(freshAddress(), username)).toBe("ok");
    await failTimes(5, username);
    expect(await signIn(freshAddress(), username)).toEqual(lockedFor(1));
    nowMs += 1_000;
  });

  it("throttles an unknown username exactly as an existing one", async () => {
    const outcomes = async (username: string) => {
      const seen = [];
      for (let i = 0; i < 6; i++) seen.push(await signIn(freshAddress(), username, "not the password"));
      return seen;
    };
    const knownOutcomes = await outcomes(await createUser());
    expect(await outcomes(uniqueName("nobody"))).toEqual(knownOutcomes);
    expect(knownOutcomes).toEqual([wrong, wrong, wrong, wrong, wrong, lockedFor(1)]);
    nowMs += 1_000;
  });
});

describe("sign-in throttling per client address", () => {
  it("locks an address after 8 failures across accounts, for every account, while other addresses go on", async () => {
    const stuffer = freshAddress();
    for (let i = 0; i < 8; i++) expect(await signIn(stuffer, uniqueName("guess"), "not the password")).toEqual(wrong);
    const username = await createUser();
    expect(await signIn(stuffer, username)).toEqual(lockedFor(1));
    expect(await signIn(freshAddress(), username)).toBe("ok");
    nowMs += 1_000;
    expect(await signIn(stuffer, username)).toBe("ok");
    // A success does not clear an address: its next failure locks it again, for longer.
    expect(await signIn(stuffer, uniqueName("guess"), "not the password")).toEqual(wrong);
    expect(await signIn(stuffer, username)).toEqual(lockedFor(2));
    nowMs += 2_000;
  });

  it("counts an IPv6 client by its /64", async () => {
    const prefix = `2001:db8:${randomBytes(2).toString("hex")}:${randomBytes(2).toString("hex")}`;
    for (let i = 1; i <= 8; i++) expect(await signIn(`${prefix}::${i.toString(16)}`, uniqueName("guess"), "x")).toEqual(wrong);
    expect(await signIn(`${prefix}:ffff:1:2:3`, await createUser())).toEqual(lockedFor(1));
    nowMs += 1_000;
  });
});

describe("the throttle's kv", () => {
  it("is shared: a lock recorded through one connection holds on another", async () => {
    const first = createKv(process.env.REDIS_URL);
    // Two connections to Redis, as two replicas have; embedded, one store as `qenex start` shares it.
    const second = process.env.REDIS_URL ? createKv(process.env.REDIS_URL) : first;
    const keyPrefix = `qenex:test:signin:${randomBytes(6).toString("hex")}:`;
    const clock = () => nowMs;
    const a = createSignInThrottle(first, limits, { nowMs: clock, keyPrefix });
    const b = createSignInThrottle(second, limits, { nowMs: clock, keyPrefix });
    for (let i = 0; i < 5; i++) await a.failed("shared-user", "192.0.2.1");
    expect(await b.retryAfterMs("shared-user", "192.0.2.99")).toBe(1_000);
    await b.succeeded("shared-user");
    expect(await a.retryAfterMs("shared-user", "192.0.2.1")).toBe(0);
    await first.close();
    if (second !== first) await second.close();
  });

  it("refuses a locked sign-in before reading the user or spending a hash", async () => {
    const empty = await createEmptyAuthDb();
    const kv: Kv = createKv(process.env.REDIS_URL);
    const counted = countingHasher(createPasswordHasher());
    const secret = testJwtSecret;
    const handlers = createAuthHandlers({
      db: empty.db,
      auth: createAuth(secret),
      hasher: counted.hasher,
      throttle: createSignInThrottle(kv, limits, { nowMs: () => nowMs, keyPrefix: `qenex:test:signin:${randomBytes(6).toString("hex")}:` }),
      clientAddresses: createClientAddresses(secret),
      metrics: createSignInMetrics(new Registry()),
      accessTokenTtlSeconds: 900,
      refreshTokenTtlSeconds: 3600,
    });
    const ctx = createHandlerContext({
      service: AuthService,
      method: AuthService.method.issueToken,
      protocolName: "test",
      requestMethod: "POST",
      url: "http://auth/qenex.auth.v1.AuthService/IssueToken",
      contextValues: createContextValues().set(peerAddressKey, "192.0.2.1"),
    });
    // The handler alone, without the server's interceptors: what it throws is as the handler threw it.
    const attempt = async () => {
      try {
        await handlers.issueToken?.(create(IssueTokenRequestSchema, { username: "nobody", password: "guess" }), ctx);
      } catch (error) {
        return (error as { code?: Code }).code;
      }
      throw new Error("expected the sign-in to fail");
    };
    for (let i = 0; i < 5; i++) expect(await attempt()).toBe(Code.Unauthenticated);
    expect(counted.hashes()).toBe(5);
    for (let i = 0; i < 100; i++) expect(await attempt()).toBe(Code.ResourceExhausted);
    expect(counted.hashes()).toBe(5);
    await kv.close();
    await empty.drop();
  });
});

describe("sign-in metrics", () => {
  it("counts ok, failed and throttled sign-ins on /metrics", async () => {
    const counts = async () => {
      const text = await (await fetch(`${server.process.server.url}/metrics`)).text();
      const count = (outcome: string) =>
        Number(new RegExp(`qenex_auth_sign_ins_total\\{outcome="${outcome}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
      return { ok: count("ok"), failed: count("failed"), throttled: count("throttled") };
    };
    const before = await counts();
    expect(await signIn(freshAddress(), await createUser())).toBe("ok");
    const username = uniqueName("nobody");
    await failTimes(5, username);
    expect(await signIn(freshAddress(), username)).toEqual(lockedFor(1));
    const after = await counts();
    expect({ ok: after.ok - before.ok, failed: after.failed - before.failed, throttled: after.throttled - before.throttled }).toEqual({
      ok: 1,
      failed: 5,
      throttled: 1,
    });
    nowMs += 1_000;
  });
});

describe("limits and addresses", () => {
  it("doubles from the first backoff and stops at the cap", () => {
    expect([4, 5, 6, 7, 8, 9, 1_000_000].map((failures) => lockMsAfter(failures, 5, limits))).toEqual([
      0, 1_000, 2_000, 4_000, 8_000, 8_000, 8_000,
    ]);
  });

  it("keys IPv4 as written, IPv4-mapped IPv6 as IPv4, IPv6 by its /64", () => {
    expect(addressKeyOf("192.0.2.1")).toBe("192.0.2.1");
    expect(addressKeyOf("::ffff:192.0.2.1")).toBe("192.0.2.1");
    expect(addressKeyOf("2001:db8:1:2::1")).toBe(addressKeyOf("2001:0db8:0001:0002:ffff:ffff:ffff:ffff"));
    expect(addressKeyOf("2001:db8:1:2::1")).toBe("2001:db8:1:2::/64");
    expect(addressKeyOf("2001:db8:1:3::1")).not.toBe(addressKeyOf("2001:db8:1:2::1"));
    expect(addressKeyOf("::1")).toBe("0:0:0:0::/64");
    expect(addressKeyOf("64:ff9b:1:2::192.0.2.1")).toBe("64:ff9b:1:2::/64");
    expect(addressKeyOf("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
    expect(addressKeyOf(undefined)).toBe("unknown");
    expect(addressKeyOf("not an address")).toBe("unknown");
  });

  it("reads the limits from the environment and names a bad one", () => {
    const base = { QENEX_JWT_SECRET: testJwtSecret };
    expect(loadConfig({ ...base }, { forServer: false }).signInThrottle).toEqual({
      account: { failuresMax: 5, windowSeconds: 86_400 },
      address: { failuresMax: 100, windowSeconds: 3_600 },
      backoffMs: 1_000,
      backoffMaxMs: 900_000,
    });
    expect(loadConfig({ ...base, ...env }, { forServer: false }).signInThrottle).toEqual(limits);
    expect(() => loadConfig({ ...base, QENEX_SIGNIN_IP_LIMIT: "0/60" }, { forServer: false })).toThrow(
      /QENEX_SIGNIN_IP_LIMIT="0\/60" must be FAILURES\/WINDOW_SECONDS/,
    );
    expect(() => loadConfig({ ...base, QENEX_SIGNIN_BACKOFF_MS: "5000/1000" }, { forServer: false })).toThrow(
      /QENEX_SIGNIN_BACKOFF_MS: the maximum 1000 is below the first 5000/,
    );
  });
});

function countingHasher(inner: PasswordHasher) {
  let hashes = 0;
  const hasher: PasswordHasher = {
    hash: (p) => inner.hash(p),
    verify: (p, stored) => {
      hashes++;
      return inner.verify(p, stored);
    },
    verifyNothing: (p) => {
      hashes++;
      return inner.verifyNothing(p);
    },
  };
  return { hasher, hashes: () => hashes };
}
