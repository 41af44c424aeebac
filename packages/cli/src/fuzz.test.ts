// Hostile input against the mesh as it runs (issue 12, acceptance 2): generated requests to
// the edge (REST from its OpenAPI document; Connect, gRPC and gRPC-Web pass-through) and to
// the ledger's own port (Connect, gRPC over h2c, gRPC-Web). Every answer must be a success or
// a caller's-fault code with a message naming the problem: no 5xx, no INTERNAL/UNKNOWN/
// UNAVAILABLE, no hang (no answer in responseTimeoutMs) and no service process that died.
//
// Reproducible: the seed is printed. QENEX_FUZZ_SEED=<n> replays a run, QENEX_FUZZ_SEED=random
// picks a new one, QENEX_FUZZ_RUNS=<n> changes the number of requests. The default seed is
// fixed so CI judges the code, not the luck of the draw; run with a random seed to find more.
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { AuthService } from "@qenex/gen/qenex/auth/v1/auth_pb.js";
import { LedgerService } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { PaymentsService } from "@qenex/gen/qenex/payments/v1/payments_pb.js";
import { RiskService } from "@qenex/gen/qenex/risk/v1/risk_pb.js";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import {
  type FuzzRequest,
  type Protocol,
  type RestRoute,
  rawRequest,
  restRequest,
  rpcRequest,
  type Tokens,
} from "./testing/fuzz-requests.js";
import { type Answer, createSender, judge } from "./testing/fuzz-send.js";
import { qenexToken, serviceProcesses, startTestMesh, type TestMesh } from "./testing/mesh.js";

const seedText = process.env.QENEX_FUZZ_SEED ?? "20261203";
const seed = seedText === "random" ? Math.floor(Math.random() * 2 ** 31) : Number(seedText);
const requestsTotal = Number(process.env.QENEX_FUZZ_RUNS ?? 100_000);
/** Requests in flight at once: each fast-check run is one batch of this many. */
const concurrency = 32;
/** Distinct violations shown in full; the rest are counted. */
const violationsShownMax = 200;

let mesh: TestMesh | undefined;
afterAll(() => mesh?.stop());

/** The edge's REST routes as its OpenAPI document lists them, each with its RPC's descriptor. */
async function restRoutes(edgeUrl: string, services: readonly DescService[]): Promise<RestRoute[]> {
  const document = (await (await fetch(`${edgeUrl}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, { "x-rpc": string; requestBody?: unknown }>>;
    "x-unlisted-bindings"?: { rpc: string; httpMethod: string; path: string }[];
  };
  const methodOf = new Map<string, DescMethod>(services.flatMap((s) => s.methods.map((m) => [`/${s.typeName}/${m.name}`, m] as const)));
  const routes: RestRoute[] = [];
  for (const [template, item] of Object.entries(document.paths)) {
    for (const [verb, operation] of Object.entries(item)) {
      const method = methodOf.get(operation["x-rpc"]);
      if (method) routes.push({ httpMethod: verb.toUpperCase(), template, body: operation.requestBody ? "*" : "", method });
    }
  }
  for (const unlisted of document["x-unlisted-bindings"] ?? []) {
    const method = methodOf.get(unlisted.rpc);
    if (method) routes.push({ httpMethod: unlisted.httpMethod, template: unlisted.path, body: "*", method });
  }
  return routes;
}

/** A token whose signature does not match: as good as an expired one for the edge's checks. */
function forged(token: string): string {
  const last = token.at(-2) === "A" ? "B" : "A";
  return `${token.slice(0, -2)}${last}${token.at(-1)}`;
}

type Target = { name: string; url: string; requests: fc.Arbitrary<FuzzRequest> };

type Tally = { sent: number; byOutcome: Map<string, number>; violations: Map<string, { count: number; example: string }> };

function describeRequest(request: FuzzRequest): string {
  const body =
    request.body.length > 160
      ? `${request.body.subarray(0, 160).toString("hex")}… (${request.body.length} bytes)`
      : request.body.toString("hex");
  const headers = Object.entries(request.headers)
    .filter(([name]) => name !== "authorization")
    .map(([name, value]) => `${name}: ${value.slice(0, 80)}`)
    .join("; ");
  return `${request.protocol}${request.http2 ? " h2" : ""} ${request.method} ${request.path.slice(0, 200)} [${headers}] auth=${request.headers.authorization ? "yes" : "no"} body=${body}`;
}

function record(tally: Tally, target: string, request: FuzzRequest, answer: Answer): void {
  const verdict = judge(request, answer);
  const key = `${target} ${request.protocol} → ${verdict.outcome}`;
  tally.byOutcome.set(key, (tally.byOutcome.get(key) ?? 0) + 1);
  if (verdict.violation === undefined) return;
  // One entry per kind of failure: the protocol, the outcome and the message without ids or numbers.
  const signature = `${target} ${request.protocol} ${verdict.outcome}: ${verdict.violation.replace(/[0-9a-f]{8}-[0-9a-f-]{27}|\d+/g, "#").slice(0, 160)}`;
  const seen = tally.violations.get(signature);
  if (seen) seen.count++;
  else tally.violations.set(signature, { count: 1, example: `${describeRequest(request)}\n      → ${verdict.violation.slice(0, 300)}` });
}

// QENEX_FUZZ_RUNS=0 leaves it out (CI runs it once, in the embedded pass, to stay in its time).
describe.skipIf(requestsTotal === 0)("hostile requests to the edge and to a service port", () => {
  it(`answers ${requestsTotal} generated requests with no 5xx, no internal codes, no hang and no crash`, async () => {
    mesh = await startTestMesh("fuzz", {
      env: {
        // The fuzzer is one client sending as fast as it can; the limits have tests of their own.
        QENEX_RATE_LIMIT_PRINCIPAL: "9999999/9999999",
        QENEX_RATE_LIMIT_IP: "9999999/9999999",
        QENEX_SHUTDOWN_GRACE_MS: "2000",
      },
    });
    const { urls, env } = mesh;
    const supervisorPid = mesh.child.pid as number;
    const pidsBefore = serviceProcesses(supervisorPid);
    const admin = await qenexToken(env, "admin");
    const tokens: Tokens = { admin, viewer: await qenexToken(env, "auditor"), expired: forged(admin) };

    const services = [LedgerService, PaymentsService, RiskService, AuthService];
    const routes = await restRoutes(urls.edge as string, services);
    expect(routes.length).toBeGreaterThan(20);
    const edgeProtocols: Protocol[] = ["connect", "connect-get", "grpc", "grpc-web", "grpc-web-text"];
    const targets: Target[] = [
      {
        name: "edge",
        url: urls.edge as string,
        requests: fc.oneof(
          { arbitrary: restRequest(routes, tokens), weight: 5 },
          { arbitrary: rpcRequest(services, tokens, edgeProtocols), weight: 4 },
          { arbitrary: rawRequest(tokens), weight: 1 },
        ),
      },
      { name: "ledger", url: urls.ledger as string, requests: rpcRequest([LedgerService], tokens, edgeProtocols) },
    ];
    const senders = new Map(targets.map((t) => [t.name, createSender(t.url, concurrency)]));
    const tally: Tally = { sent: 0, byOutcome: new Map(), violations: new Map() };
    const sentByTarget = new Map<string, number>();
    const crashes: string[] = [];
    const hangs: string[] = [];

    const batch = fc.array(fc.oneof(...targets.map((t) => t.requests.map((request) => ({ target: t.name, request })))), {
      minLength: concurrency,
      maxLength: concurrency,
    });
    const startedMs = performance.now();
    console.log(`fuzz: seed ${seed} (QENEX_FUZZ_SEED=${seed} replays it), ${requestsTotal} requests, ${concurrency} in flight`);
    // The property holds while every process lives and every request is answered. Answers that
    // break the rules are collected, not thrown: one run then shows every kind of failure, and
    // shrinking against a live mesh would cost minutes for a request printed verbatim anyway.
    await fc
      .assert(
        fc.asyncProperty(batch, async (requests) => {
          await Promise.all(
            requests.map(async ({ target, request }) => {
              const answer = await (senders.get(target) as ReturnType<typeof createSender>).send(request);
              tally.sent++;
              sentByTarget.set(target, (sentByTarget.get(target) ?? 0) + 1);
              if (answer.kind === "hang") hangs.push(`${target}: ${describeRequest(request)}`);
              record(tally, target, request, answer);
            }),
          );
          const pidsNow = serviceProcesses(supervisorPid);
          for (const [name, pid] of pidsBefore) {
            if (pidsNow.get(name) !== pid) crashes.push(`${name} (pid ${pid}) is gone after ${tally.sent} requests`);
          }
          return crashes.length === 0 && hangs.length === 0;
        }),
        { seed, numRuns: Math.ceil(requestsTotal / concurrency), endOnFailure: true, verbose: 0 },
      )
      .catch((error: unknown) => {
        // The counts and the hang or crash below say more than fast-check's batch dump.
        if (crashes.length === 0 && hangs.length === 0) throw error;
      });
    const elapsedMs = performance.now() - startedMs;
    for (const sender of senders.values()) sender.close();

    const lines = [
      `fuzz: ${tally.sent} requests in ${(elapsedMs / 1000).toFixed(1)} s (${Math.round(tally.sent / (elapsedMs / 1000))}/s), seed ${seed}`,
      ...[...sentByTarget].map(([target, count]) => `  sent to ${target}: ${count}`),
      ...[...tally.byOutcome].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, count]) => `  ${key}: ${count}`),
    ];
    const violations = [...tally.violations].sort(([, a], [, b]) => b.count - a.count);
    if (violations.length > 0) {
      lines.push(`fuzz: ${violations.length} kinds of violation:`);
      for (const [signature, { count, example }] of violations.slice(0, violationsShownMax))
        lines.push(`  [${count}×] ${signature}\n      ${example}`);
    }
    console.log(lines.join("\n"));

    expect(crashes, "service processes that died").toEqual([]);
    expect(mesh.output()).not.toMatch(/exited; restarting/);
    expect(hangs.slice(0, 5), "requests never answered").toEqual([]);
    expect(violations.map(([signature, v]) => `[${v.count}×] ${signature}`)).toEqual([]);
    expect(tally.sent).toBeGreaterThanOrEqual(requestsTotal);
  }, 900_000);
});
