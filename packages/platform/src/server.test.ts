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
import { createLogger } from "./logger.js";
import { binding, type Server, serve } from "./server.js";

const auth = createAuth("server-test-secret-server-test-secret-01");
const logger = createLogger("test", "silent");
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close(0)));
});

/** A ledger whose GetAccount takes `delayMs`, to have a call in flight. */
async function start(options: { delayMs?: number; ready?: () => Promise<boolean>; tls?: { certFile: string; keyFile: string } } = {}) {
  const server = await serve({
    services: [
      binding(LedgerService, {
        async getAccount(req) {
          await new Promise((resolve) => setTimeout(resolve, options.delayMs ?? 0));
          if (req.accountId === "explode") throw new Error('relation "secret_table" does not exist: SELECT * FROM secret_table');
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
