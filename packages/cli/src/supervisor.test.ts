// The mesh as `qenex start` runs it: one process per service under a supervisor. Each service
// process is killed in turn under load through the edge; the others keep answering, the
// edge answers the dead one's routes with 503 UNAVAILABLE and Retry-After, the supervisor
// brings it back, and nothing the ledger acknowledged is lost.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { until } from "@qenex/platform/testing";
import { afterAll, describe, expect, it } from "vitest";
import {
  node,
  qenexArgs,
  qenexEnv,
  qenexToken,
  serviceProcesses,
  startMesh,
  startTestMesh,
  stopMesh,
  type TestMesh,
} from "./testing/mesh.js";

let mesh: TestMesh | undefined;
afterAll(() => mesh?.stop());

function processGone(pid: number): Promise<true | undefined> {
  try {
    process.kill(pid, 0);
    // A zombie still answers signal 0 until the supervisor reaps it; its state says it is dead.
    return Promise.resolve(/\) Z /.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8")) ? true : undefined);
  } catch {
    return Promise.resolve(true);
  }
}

describe("qenex start: one process per service", () => {
  it("keeps serving while any one service process is killed, and restarts it with nothing acknowledged lost", async () => {
    // On PostgreSQL, a database of this test's own: its risk service follows every transfer.
    mesh = await startTestMesh("supervise", {
      env: { QENEX_RATE_LIMIT_PRINCIPAL: "1000000/1000000", QENEX_RATE_LIMIT_IP: "1000000/1000000", QENEX_SHUTDOWN_GRACE_MS: "2000" },
    });
    const { urls, env } = mesh;
    const supervisorPid = mesh.child.pid as number;
    const bearer = await qenexToken(env, "admin");
    const headers = { "content-type": "application/json", authorization: `Bearer ${bearer}` };
    const rest = (route: string, body?: unknown) =>
      fetch(`${urls.edge}${route}`, body === undefined ? { headers } : { method: "POST", headers, body: JSON.stringify(body) });

    const a = `SUP-A-${process.pid}`;
    const b = `SUP-B-${process.pid}`;
    for (const [id, balance] of [
      [a, "1000000.00"],
      [b, "0.00"],
    ]) {
      const created = await rest("/api/v1/accounts", {
        account_id: id,
        account_type: "CHECKING",
        currency: "USD",
        initial_balance: balance,
      });
      expect(created.status).toBe(200);
    }

    // Load through the edge for the whole test: every answer is a transfer, a 503 with
    // Retry-After (the ledger is down), or a refused connection (the edge is down).
    const acknowledged: string[] = [];
    const unexpected: string[] = [];
    let loading = true;
    const loader = async () => {
      while (loading) {
        try {
          const res = await rest("/api/v1/transactions", { source_account: a, destination_account: b, amount: "1.00", currency: "USD" });
          const body = (await res.json()) as { transfer?: { transferId: string } };
          if (res.status === 200 && body.transfer) acknowledged.push(body.transfer.transferId);
          else if (res.status !== 503 || res.headers.get("retry-after") === null) unexpected.push(`${res.status} ${JSON.stringify(body)}`);
        } catch {
          // The edge itself is down: nothing answered, nothing to check.
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    };
    const loaders = Array.from({ length: 4 }, loader);

    const probes: Record<string, () => Promise<Response>> = {
      ledger: () => rest(`/api/v1/accounts/${a}/balance`),
      auth: () => rest("/api/v1/auth/users"),
      risk: () => rest("/api/v1/risk/rules"),
      payments: () => rest("/api/v1/payments"),
    };
    for (const service of ["ledger", "auth", "risk", "payments"]) {
      const before = serviceProcesses(supervisorPid).get(service) as number;
      expect(before).toBeGreaterThan(0);
      // The supervisor is held still so the outage lasts until every check has run.
      process.kill(supervisorPid, "SIGSTOP");
      try {
        process.kill(before, "SIGKILL");
        await until(`${service} to die`, () => processGone(before));
        const down = await (probes[service] as () => Promise<Response>)();
        expect(`${down.status} ${await down.clone().text()}`, service).toMatch(/^503 /);
        expect(down.headers.get("retry-after"), service).not.toBeNull();
        expect(((await down.json()) as { code: number }).code, service).toBe(14);
        for (const [other, probe] of Object.entries(probes)) {
          if (other !== service) expect((await probe()).status, `${other} while ${service} is down`).toBe(200);
        }
      } finally {
        process.kill(supervisorPid, "SIGCONT");
      }
      await until(`${service} to be restarted`, async () => {
        const now = serviceProcesses(supervisorPid).get(service);
        return now !== undefined && now !== before && (await (probes[service] as () => Promise<Response>)()).status === 200
          ? true
          : undefined;
      });
    }

    // The edge itself: the services answer their own clients while it is down.
    const edgeBefore = serviceProcesses(supervisorPid).get("edge") as number;
    process.kill(supervisorPid, "SIGSTOP");
    try {
      process.kill(edgeBefore, "SIGKILL");
      await until("the edge to die", () => processGone(edgeBefore));
      const direct = await fetch(`${urls.ledger}/qenex.ledger.v1.LedgerService/GetBalance`, {
        method: "POST",
        headers,
        body: JSON.stringify({ account_id: a }),
      });
      expect(direct.status).toBe(200);
    } finally {
      process.kill(supervisorPid, "SIGCONT");
    }
    await until("the edge to be restarted", async () =>
      (await fetch(`${urls.edge}/health`).catch(() => undefined))?.ok ? true : undefined,
    );

    loading = false;
    await Promise.all(loaders);
    expect(unexpected).toEqual([]);
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const transferId of acknowledged) {
      expect((await rest(`/api/v1/transactions/${transferId}`)).status, transferId).toBe(200);
    }
    // Money moved only between the two accounts, and at least every acknowledged transfer.
    const balanceOf = async (id: string) =>
      Number(
        ((await (await rest(`/api/v1/accounts/${id}/balance`)).json()) as { balance: { balance: { amount: string } } }).balance.balance
          .amount,
      );
    const [balanceA, balanceB] = [await balanceOf(a), await balanceOf(b)];
    expect(balanceA + balanceB).toBe(1_000_000);
    expect(balanceB).toBeGreaterThanOrEqual(acknowledged.length);
    // Σ debits = Σ credits and every stored balance equals the one recomputed from transfers.
    const reconcile = await promisify(execFile)(
      node,
      [...qenexArgs, "ledger", "reconcile", "--url", urls.ledger as string, "--token", bearer],
      {
        env,
      },
    );
    expect(reconcile.stdout).toBeTruthy();

    const services = [...serviceProcesses(supervisorPid).values()];
    expect(services).toHaveLength(5);
    const exited = new Promise((resolve) => mesh?.child.once("exit", resolve));
    mesh.child.kill("SIGTERM");
    expect(await exited).toBe(0);
    for (const pid of services) expect(await processGone(pid)).toBe(true);
  }, 300_000);
});

describe("qenex start --workers", () => {
  it("serves the edge from N processes that share idempotency records, and refuses N ledgers on the embedded database", async () => {
    const env = { ...qenexEnv(fs.mkdtempSync(path.join(os.tmpdir(), "qenex-workers-"))), DATABASE_URL: "", REDIS_URL: "" };
    const refused = await promisify(execFile)(node, [...qenexArgs, "start", "--workers", "ledger=2"], { env }).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(refused).toMatchObject({ code: 2 });
    expect((refused as { stderr: string }).stderr).toContain("--workers ledger=N needs PostgreSQL");

    const workers = await startMesh(env, ["--workers", "2"]);
    try {
      const edgePid = serviceProcesses(workers.child.pid as number).get("edge") as number;
      const edgeWorkers = fs.readFileSync(`/proc/${edgePid}/task/${edgePid}/children`, "utf8").trim().split(/\s+/);
      expect(edgeWorkers).toHaveLength(2);
      const bearer = await qenexToken(env, "admin");
      const account = `WRK-${process.pid}`;
      // A new connection per request: the primary deals connections to the workers in turn.
      const post = (key: string) =>
        new Promise<{ status: number; replayed: boolean; body: string }>((resolve, reject) => {
          const req = http.request(
            `${workers.urls.edge}/api/v1/accounts`,
            {
              method: "POST",
              agent: false,
              headers: { "content-type": "application/json", authorization: `Bearer ${bearer}`, "idempotency-key": key },
            },
            (res) => {
              let body = "";
              res.on("data", (chunk: Buffer) => {
                body += chunk.toString();
              });
              res.on("end", () => resolve({ status: res.statusCode ?? 0, replayed: res.headers["idempotent-replayed"] === "true", body }));
            },
          );
          req.on("error", reject);
          req.end(JSON.stringify({ account_id: account, account_type: "CHECKING", currency: "USD", initial_balance: "10.00" }));
        });
      const answers = [];
      for (let i = 0; i < 4; i++) answers.push(await post(`open-${account}`));
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
      expect(answers.map((a) => a.replayed)).toEqual([false, true, true, true]);
      expect(new Set(answers.map((a) => a.body)).size).toBe(1);

      // A supervisor killed outright leaves no service behind: each stops when its IPC
      // channel closes, and the edge's workers with their primary.
      const orphans = [...serviceProcesses(workers.child.pid as number).values(), ...edgeWorkers.map(Number)];
      expect(orphans).toHaveLength(7);
      workers.child.kill("SIGKILL");
      for (const pid of orphans) await until(`process ${pid} to stop`, () => processGone(pid));
    } finally {
      await stopMesh(workers.child);
    }
  }, 180_000);
});
