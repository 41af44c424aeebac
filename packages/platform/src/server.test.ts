import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus as Status } from "@qenex/gen/grpc/health/v1/health_pb.js";
import { LedgerService } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { afterEach, describe, expect, it } from "vitest";
import { createAuth } from "./auth.js";
import { remainingMs } from "./deadline.js";
import { type DependencyProbe, probeTimeoutMs } from "./health.js";
import { createLogger } from "./logger.js";
import { binding, type Server, serve } from "./server.js";
import { UnavailableError } from "./unavailable.js";

const auth = createAuth("server-test-secret-server-test-secret-01");
const logger = createLogger("test", "silent");
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close(0)));
});

/** A ledger whose GetAccount takes `delayMs`, to have a call in flight. */
async function start(
  options: {
    delayMs?: number;
    ready?: () => Promise<boolean>;
    probes?: readonly DependencyProbe[];
    tls?: { certFile: string; keyFile: string };
  } = {},
) {
  const server = await serve({
    services: [
      binding(LedgerService, {
        async getAccount(req) {
          await new Promise((resolve) => setTimeout(resolve, options.delayMs ?? 0));
          if (req.accountId === "explode") throw new Error('relation "secret_table" does not exist: SELECT * FROM secret_table');
          if (req.accountId === "db-down") throw new UnavailableError("postgresql", "connection refused");
          if (req.accountId === "terminated") throw Object.assign(new Error("terminating connection: SELECT secret"), { code: "57P01" });
          if (req.accountId === "deadline") return { account: { accountId: String(remainingMs()) } };
          return { account: { accountId: req.accountId } };
        },
        async *watchTransfers() {
          yield { transfer: { transferId: "first" } };
          throw new Error("relation secret_table: SELECT * FROM secret_table");
        },
      }),
    ],
    host: "127.0.0.1",
    port: 0,
    tls: options.tls,
    auth,
    logger,
    ready: options.ready ?? (async () => true),
    ...(options.probes ? { probes: options.probes } : {}),
  });
  servers.push(server);
  return server;
}

const bearer = async () => ({ authorization: `Bearer ${await auth.issue({ subject: "t", roles: ["admin"] }, 60)}` });

describe("serve", () => {
  it("drains an in-flight call on close and refuses new connections", async () => {
    const server = await start({ delayMs: 300 });
    const client = createClient(LedgerService, createGrpcTransport({ baseUrl: server.url }));
    const inFlight = client.getAccount({ accountId: "slow" }, { headers: await bearer() });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const closed = server.close(5_000);
    expect((await inFlight).account?.accountId).toBe("slow");
    await closed;
    const fresh = createClient(LedgerService, createGrpcTransport({ baseUrl: server.url }));
    await expect(fresh.getAccount({ accountId: "x" }, { headers: await bearer() })).rejects.toMatchObject({ code: Code.Unavailable });
  });

  it("reports NOT_SERVING while its dependencies are down", async () => {
    let up = true;
    const server = await start({ ready: async () => up });
    const health = createClient(Health, createGrpcTransport({ baseUrl: server.url }));
    expect((await health.check({})).status).toBe(Status.SERVING);
    up = false;
    expect((await health.check({ service: "qenex.ledger.v1.LedgerService" })).status).toBe(Status.NOT_SERVING);
    await expect(health.check({ service: "no.such.Service" })).rejects.toMatchObject({ code: Code.NotFound });
  });

  it("lists each dependency on GET /health: 200 while it can serve, 503 when its database is down", async () => {
    let databaseUp = true;
    let redisUp = true;
    const check = (up: () => boolean) => async () => {
      if (!up()) throw Object.assign(new Error("connect ECONNREFUSED 10.1.2.3:6379"), { code: "ECONNREFUSED" });
    };
    const server = await start({
      ready: async () => databaseUp,
      probes: [
        { name: "postgresql", check: check(() => databaseUp) },
        { name: "redis", check: check(() => redisUp) },
      ],
    });
    const health = async () => {
      const res = await fetch(`${server.url}/health`);
      return {
        status: res.status,
        body: (await res.json()) as { status: string; dependencies: { name: string; ok: boolean; error?: string }[] },
      };
    };
    const ok = await health();
    expect(ok.status).toBe(200);
    expect(ok.body.status).toBe("ok");
    expect(ok.body.dependencies.map((d) => [d.name, d.ok])).toEqual([
      ["postgresql", true],
      ["redis", true],
    ]);
    redisUp = false;
    const degraded = await health();
    expect(degraded.status).toBe(200);
    expect(degraded.body.status).toBe("degraded");
    // A short reason, never the host behind it.
    expect(degraded.body.dependencies[1]).toMatchObject({ name: "redis", ok: false, error: "connection refused" });
    databaseUp = false;
    const down = await health();
    expect(down.status).toBe(503);
    expect(down.body.dependencies[0]).toMatchObject({ name: "postgresql", ok: false });
  });

  it("answers GET /health within the probe timeout when a dependency hangs", async () => {
    const server = await start({ probes: [{ name: "postgresql", check: () => new Promise(() => {}) }] });
    const startMs = performance.now();
    const res = await fetch(`${server.url}/health`);
    expect(performance.now() - startMs).toBeLessThan(probeTimeoutMs + 2_000);
    expect(((await res.json()) as { dependencies: { ok: boolean }[] }).dependencies[0]?.ok).toBe(false);
  });

  it("answers a dependency that cannot be reached UNAVAILABLE with a short reason, never its text", async () => {
    const server = await start();
    const client = createClient(LedgerService, createGrpcTransport({ baseUrl: server.url }));
    const headers = await bearer();
    const refused = await client.getAccount({ accountId: "db-down" }, { headers }).catch((e: unknown) => ConnectError.from(e));
    expect(refused).toMatchObject({ code: Code.Unavailable, rawMessage: "database unavailable: connection refused" });
    const terminated = await client.getAccount({ accountId: "terminated" }, { headers }).catch((e: unknown) => ConnectError.from(e));
    expect(terminated).toMatchObject({ code: Code.Unavailable, rawMessage: "dependency unavailable: server shutting down" });
  });

  it("gives the handler the call's deadline", async () => {
    const server = await start();
    const client = createClient(LedgerService, createGrpcTransport({ baseUrl: server.url }));
    const res = await client.getAccount({ accountId: "deadline" }, { headers: await bearer(), timeoutMs: 800 });
    const remaining = Number(res.account?.accountId);
    expect(remaining).toBeGreaterThan(0);
    expect(remaining).toBeLessThanOrEqual(800);
    const without = await client.getAccount({ accountId: "deadline" }, { headers: await bearer() });
    expect(without.account?.accountId).toBe("undefined");
  });

  it("rejects expired, foreign and malformed tokens", async () => {
    const server = await start();
    const client = createClient(LedgerService, createGrpcTransport({ baseUrl: server.url }));
    const foreign = await createAuth("another-secret-another-secret-another-1").issue({ subject: "t", roles: ["admin"] }, 60);
    for (const authorization of [`Bearer ${foreign}`, "Bearer not.a.jwt", "Basic abc", `Bearer ${"x".repeat(9000)}`]) {
      const error = await client.getAccount({ accountId: "a" }, { headers: { authorization } }).catch((e: unknown) => ConnectError.from(e));
      expect(error).toMatchObject({ code: Code.Unauthenticated });
    }
  });

  it("answers an unexpected failure with an error id, never its text", async () => {
    const server = await start();
    const client = createClient(LedgerService, createGrpcTransport({ baseUrl: server.url }));
    const error = await client
      .getAccount({ accountId: "explode" }, { headers: await bearer() })
      .catch((e: unknown) => ConnectError.from(e));
    expect(error).toMatchObject({ code: Code.Internal });
    expect((error as ConnectError).rawMessage).toMatch(/^internal error \(id [0-9a-f-]{36}\)$/);
    expect((error as ConnectError).message).not.toContain("secret_table");
  });

  it("hides an unexpected failure in the middle of a stream behind an error id", async () => {
    const server = await start();
    const client = createClient(LedgerService, createGrpcTransport({ baseUrl: server.url }));
    const received: string[] = [];
    const error = await (async () => {
      for await (const res of client.watchTransfers({}, { headers: await bearer() })) received.push(res.transfer?.transferId ?? "");
    })().catch((e: unknown) => ConnectError.from(e));
    expect(received).toEqual(["first"]);
    expect(error).toMatchObject({ code: Code.Internal });
    expect((error as ConnectError).rawMessage).not.toContain("secret_table");
  });

  it("serves gRPC over TLS from certificate files", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "qenex-tls-"));
    const [certFile, keyFile] = [path.join(dir, "cert.pem"), path.join(dir, "key.pem")];
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
        "-keyout",
        keyFile,
        "-out",
        certFile,
      ],
      { stdio: "ignore" },
    );
    const server = await start({ tls: { certFile, keyFile } });
    expect(server.url.startsWith("https://")).toBe(true);
    const transport = createGrpcTransport({ baseUrl: server.url, nodeOptions: { ca: fs.readFileSync(certFile) } });
    const res = await createClient(LedgerService, transport).getAccount({ accountId: "tls" }, { headers: await bearer() });
    expect(res.account?.accountId).toBe("tls");
  });
});
