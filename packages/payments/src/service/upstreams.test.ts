// The payments service's clients of the ledger and risk services: transient failures open the
// circuit breaker so a dead upstream is not hammered; a caller's mistake (NotFound) does not.
import * as net from "node:net";
import { Code, ConnectError } from "@connectrpc/connect";
import { startTestLedger, type TestLedger, testJwtSecret } from "@qenex/ledger/testing";
import { createAuth } from "@qenex/platform";
import { BrokenCircuitError } from "cockatiel";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUpstreams } from "./upstreams.js";

let ledger: TestLedger;
let deadUrl: string;

beforeAll(async () => {
  ledger = await startTestLedger();
  // A port nothing listens on: taken, then released.
  const server = net.createServer().listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  deadUrl = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  await new Promise((resolve) => server.close(resolve));
});

afterAll(async () => {
  await ledger?.stop();
});

const auth = createAuth(testJwtSecret);

describe("upstream clients", () => {
  it("open the circuit after five transient failures, then fail fast without calling", async () => {
    const upstreams = createUpstreams({ ledgerUrl: deadUrl, riskUrl: deadUrl, auth });
    const getAccount = () =>
      upstreams.ledger.call((options) => upstreams.ledger.client.getAccount({ accountId: "a" }, options)).catch((e: unknown) => e);
    // Each call tries up to three times; five failed tries in a row open the breaker.
    let calls = 0;
    let error: unknown;
    do {
      calls++;
      error = await getAccount();
      if (!(error instanceof BrokenCircuitError)) expect([Code.Unavailable, Code.Unknown]).toContain(ConnectError.from(error).code);
    } while (!(error instanceof BrokenCircuitError) && calls < 10);
    expect(error).toBeInstanceOf(BrokenCircuitError);
    expect(calls).toBeLessThanOrEqual(3);
    const startedMs = Date.now();
    const broken = await upstreams.ledger
      .call((options) => upstreams.ledger.client.getAccount({ accountId: "a" }, options))
      .catch((e: unknown) => e);
    expect(broken).toBeInstanceOf(BrokenCircuitError);
    expect(Date.now() - startedMs).toBeLessThan(1000);
    // Each upstream has its own breaker: risk's is still closed (and fails on its own).
    const risk = await upstreams.risk.call((options) => upstreams.risk.client.listRules({}, options)).catch((e: unknown) => e);
    expect(risk).not.toBeInstanceOf(BrokenCircuitError);
  });

  it("do not count a refusal by a healthy upstream as a failure", async () => {
    const upstreams = createUpstreams({ ledgerUrl: ledger.url, riskUrl: deadUrl, auth });
    for (let i = 0; i < 8; i++) {
      const error = await upstreams.ledger
        .call((options) => upstreams.ledger.client.getAccount({ accountId: "no-such-account" }, options))
        .catch((e: unknown) => e);
      expect(ConnectError.from(error).code).toBe(Code.NotFound);
    }
    const created = await upstreams.ledger.call((options) =>
      upstreams.ledger.client.createAccount({ accountId: `up-${Date.now()}`, accountType: 1, currency: "USD" }, options),
    );
    expect(created.account?.currency).toBe("USD");
  });
});
