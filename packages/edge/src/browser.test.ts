// A web app's view of the edge: connect-web (Connect and gRPC-Web) inside Chromium, from a
// page on another origin, so CORS preflights and exposed headers are the browser's, not a
// test's idea of them. The page (testing/browser/checks.ts) reports what it saw; each check is
// asserted here on its own.
import * as fs from "node:fs";
import { Code, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { AuthService } from "@qenex/gen/qenex/auth/v1/auth_pb.js";
import { uniquePrefix } from "@qenex/ledger/testing";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as Checks from "./testing/browser/checks.js";
import { transportNames } from "./testing/browser/checks.js";
import { bundleBrowserChecks, type PageServer, servePage } from "./testing/browser/page-server.js";
import { startTestEdge, type TestEdge } from "./testing/harness.js";

/** Debian's chromium; QENEX_CHROMIUM points elsewhere. No browser is downloaded. */
const chromiumPath = process.env.QENEX_CHROMIUM ?? "/usr/bin/chromium";
const chromiumFound = fs.existsSync(chromiumPath);
// CI installs Chromium (.ci/run); there a missing browser is a failed test, not a skip.
const inCi = process.env.CI === "true";
if (!chromiumFound && !inCi) {
  console.warn(`browser.test.ts skipped: no Chromium at ${chromiumPath} (apt-get install -y chromium, or set QENEX_CHROMIUM)`);
}

/**
 * The deadline of the stream that must end in DEADLINE_EXCEEDED: long enough that the stream
 * is open at the edge before it ends, short for the suite. The timeout headers it sends
 * (Connect-Timeout-Ms, Grpc-Timeout) need the preflight's leave; without it the browser's
 * fetch fails and the code would be UNKNOWN.
 */
const deadlineMs = 1500;

type PageGlobal = { qenexBrowser: typeof Checks };

// A failed test, not a skipped suite, so CI's count shows it.
it.runIf(inCi)("CI has Chromium for the browser tests", () => {
  expect(chromiumFound, `no Chromium at ${chromiumPath}: install it (apt-get install -y chromium) or set QENEX_CHROMIUM`).toBe(true);
});

describe.skipIf(!chromiumFound)("connect-web in Chromium through the edge", () => {
  let edge: TestEdge | undefined;
  let pages: PageServer[] = [];
  let browser: Browser | undefined;
  let results: Record<Checks.TransportName, Checks.TransportChecks>;
  let fromOtherOrigin: Checks.Seen<{ tokenType: string }>;
  let strangerCorsError: Promise<string> = Promise.resolve("");
  const idPrefix = uniquePrefix("browser");
  const username = `${idPrefix}-operator`;
  const password = "browser-password-1";

  beforeAll(async () => {
    const script = await bundleBrowserChecks();
    const [allowed, other] = await Promise.all([servePage(script), servePage(script)]);
    pages = [allowed, other];
    edge = await startTestEdge({ corsOrigins: [allowed.origin] });
    const adminToken = await edge.token(["admin"]);
    const asAdmin: Interceptor = (next) => (req) => {
      req.header.set("Authorization", `Bearer ${adminToken}`);
      return next(req);
    };
    await createClient(AuthService, createConnectTransport({ baseUrl: edge.url, interceptors: [asAdmin] })).createUser({
      username,
      password,
      roles: ["operator"],
    });

    // Root (CI, containers) cannot use Chromium's sandbox.
    browser = await chromium.launch({ executablePath: chromiumPath, args: process.getuid?.() === 0 ? ["--no-sandbox"] : [] });
    const input: Checks.BrowserInput = { edgeUrl: edge.url, username, password, idPrefix, deadlineMs };
    const page = await browser.newPage();
    await page.goto(`${allowed.origin}/`);
    results = await page.evaluate((i) => (globalThis as unknown as PageGlobal).qenexBrowser.runBrowserChecks(i), input);
    const stranger = await browser.newPage();
    // Waited on beside the call, not collected, so the test does not race the console event.
    strangerCorsError = stranger
      .waitForEvent("console", { predicate: (m) => m.type() === "error" && m.text().includes("CORS"), timeout: 10_000 })
      .then(
        (m) => m.text(),
        () => "(no CORS error in the console)",
      );
    await stranger.goto(`${other.origin}/`);
    fromOtherOrigin = await stranger.evaluate((i) => (globalThis as unknown as PageGlobal).qenexBrowser.signInOnce(i), input);
  });

  afterAll(async () => {
    await browser?.close();
    await edge?.stop();
    await Promise.all(pages.map((p) => p.close()));
  });

  describe.each(transportNames)("over %s", (transport) => {
    const checks = () => results[transport];
    const ids = {
      source: `${idPrefix}-${transport}-src`,
      destination: `${idPrefix}-${transport}-dst`,
      transfer: `${idPrefix}-${transport}-t1`,
    };

    it("signs in with the auth service and gets a bearer token", () => {
      const seen = checks().signIn;
      expect(seen).toEqual({ value: { tokenType: "Bearer", roles: ["operator"], expiresInSeconds: expect.any(Number) } });
      if ("value" in seen) expect(seen.value.expiresInSeconds).toBeGreaterThan(0);
    });

    it("opens accounts and moves money with unary ledger calls", () => {
      expect(checks().unary).toEqual({
        value: {
          sourceAccount: ids.source,
          destinationAccount: ids.destination,
          transferId: ids.transfer,
          amount: "12.34",
          currency: "USD",
        },
      });
    });

    it("receives the transfer made on a WatchTransfers stream", () => {
      expect(checks().stream).toEqual({ value: { transferIds: [ids.transfer] } });
    });

    it("gets INVALID_ARGUMENT with the ledger's message naming the field, and its violations detail", () => {
      const seen = checks().invalidArgument;
      expect(seen).toMatchObject({ error: { code: Code.InvalidArgument } });
      if (!("error" in seen)) return;
      expect(seen.error.rawMessage).toMatch(/^currency: /);
      expect(seen.error.detailTypes).toContain("buf.validate.Violations");
    });

    it("gets UNAUTHENTICATED for a bad bearer token", () => {
      expect(checks().unauthenticated).toMatchObject({ error: { code: Code.Unauthenticated } });
    });

    // The edge answers in the caller's protocol (issue 12, item 5): before, gRPC-Web saw only "HTTP 401".
    it("gets the edge's message for a bad bearer token", () => {
      expect(checks().unauthenticated).toMatchObject({ error: { rawMessage: "invalid or expired bearer token" } });
    });

    it("ends a silent stream with DEADLINE_EXCEEDED at its deadline", () => {
      expect(checks().deadline).toMatchObject({ error: { code: Code.DeadlineExceeded } });
    });
  });

  it("a page from an origin the edge does not allow cannot call it (the preflight is refused)", async () => {
    // The browser tells the page only that the fetch failed; its console says why.
    expect(fromOtherOrigin).toMatchObject({ error: { code: Code.Unknown, rawMessage: "Failed to fetch" } });
    const corsError = await strangerCorsError;
    expect(corsError).toContain("blocked by CORS policy: Response to preflight request doesn't pass access control check");
  });
});
