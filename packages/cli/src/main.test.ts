// The `qenex` command as a user runs it: a real process, real signals.
import { type ChildProcess, execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { main, node, qenexEnv, qenexToken, startMesh as startSupervisedMesh } from "./testing/mesh.js";

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
});

/** Starts `qenex start` and resolves with the ledger's and the edge's URLs once it prints them. */
async function startMesh(
  env: NodeJS.ProcessEnv,
  via: "tsx" | "pnpm" = "tsx",
): Promise<{ child: ChildProcess; url: string; edgeUrl: string }> {
  const mesh = await startSupervisedMesh(env, [], via);
  children.push(mesh.child);
  return { child: mesh.child, url: mesh.urls.ledger as string, edgeUrl: mesh.urls.edge as string };
}

const token = (env: NodeJS.ProcessEnv) => qenexToken(env);

async function call(url: string, method: string, body: unknown, bearer: string) {
  const res = await fetch(`${url}/qenex.ledger.v1.LedgerService/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${bearer}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("qenex start", () => {
  it("serves, drains on SIGTERM, exits 0, and keeps its data across restarts", async () => {
    const env = qenexEnv(fs.mkdtempSync(path.join(os.tmpdir(), "qenex-cli-")));
    const accountId = `CLI${Date.now()}`;
    const first = await startMesh(env);
    const bearer = await token(env);
    const created = await call(
      first.url,
      "CreateAccount",
      { account_id: accountId, account_type: "CHECKING", currency: "USD", initial_balance: "1000.00" },
      bearer,
    );
    expect(created.status).toBe(200);
    const exited = new Promise((resolve) => first.child.once("exit", resolve));
    first.child.kill("SIGTERM");
    expect(await exited).toBe(0);

    const second = await startMesh(env);
    const balance = await call(second.url, "GetBalance", { account_id: accountId }, await token(env));
    expect(balance.body).toMatchObject({ balance: { balance: { currency: "USD", amount: "1000.00" } } });
    second.child.kill("SIGTERM");
  });

  it("fronts the ledger with the edge: REST from the contracts, /health, RPC routing", async () => {
    const env = qenexEnv(fs.mkdtempSync(path.join(os.tmpdir(), "qenex-cli-")));
    const mesh = await startMesh(env);
    const bearer = await token(env);
    expect((await fetch(`${mesh.edgeUrl}/health`)).status).toBe(200);
    const accountId = `EDGE${Date.now()}`;
    const created = await fetch(`${mesh.edgeUrl}/api/v1/accounts`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${bearer}` },
      body: `{"account_id": "${accountId}", "account_type": "CHECKING", "initial_balance": 1000.00, "currency": "USD"}`,
    });
    expect(created.status).toBe(200);
    const balance = await fetch(`${mesh.edgeUrl}/api/v1/accounts/${accountId}/balance`, { headers: { authorization: `Bearer ${bearer}` } });
    expect(await balance.json()).toMatchObject({ balance: { balance: { currency: "USD", amount: "1000.00" } } });
    const viaRpc = await call(mesh.edgeUrl, "GetBalance", { account_id: accountId }, bearer);
    expect(viaRpc.status).toBe(200);
    mesh.child.kill("SIGTERM");
  });

  it("answers SEED.md's curl examples as written there (port aside), with a token from /api/v1/auth/token", async () => {
    // Its own embedded database: the first admin (with SEED.md's password) is created only
    // where no user exists yet, which a shared test database cannot promise.
    // The simulated networks settle everything here: SEED.md's payment must end SETTLED.
    const env = {
      ...qenexEnv(fs.mkdtempSync(path.join(os.tmpdir(), "qenex-cli-"))),
      QENEX_ADMIN_PASSWORD: "password",
      DATABASE_URL: "",
      QENEX_SIM_REJECT_RATE: "0",
      QENEX_SIM_RETURN_RATE: "0",
      QENEX_SIM_LATENCY_MS: "20",
    };
    // The README's quick start as it is: `pnpm start`, the bundled mesh under pnpm.
    const mesh = await startMesh(env, "pnpm");
    // Each example run through a shell exactly as SEED.md prints it, with its host:port swapped.
    const curl = async (command: string, vars: Record<string, string> = {}) => {
      const { stdout } = await promisify(execFile)("bash", ["-c", command.replaceAll("http://localhost:8080", mesh.edgeUrl)], {
        env: { ...process.env, ...vars },
      });
      return JSON.parse(stdout) as Record<string, unknown>;
    };
    expect(await curl("curl -s http://localhost:8080/health")).toMatchObject({ status: "ok" });
    const issued = await curl(`curl -s -X POST http://localhost:8080/api/v1/auth/token \\
  -H "Content-Type: application/json" \\
  -d '{"username": "admin", "password": "password"}'`);
    const TOKEN = issued.accessToken as string;
    expect(TOKEN).toMatch(/^ey/);
    const account = (id: string) => `curl -s -X POST http://localhost:8080/api/v1/accounts \\
  -H "Authorization: Bearer $TOKEN" \\
  -H "Content-Type: application/json" \\
  -d '{
    "account_id": "${id}",
    "account_type": "CHECKING",
    "initial_balance": 1000.00,
    "currency": "USD"
  }'`;
    expect(await curl(account("ACC001"), { TOKEN })).toMatchObject({ account: { accountId: "ACC001" } });
    await curl(account("ACC002"), { TOKEN });
    expect(
      await curl(
        `curl -X GET http://localhost:8080/api/v1/accounts/ACC001/balance \\
  -H "Authorization: Bearer $TOKEN"`,
        { TOKEN },
      ),
    ).toMatchObject({ balance: { balance: { amount: "1000.00" } } });
    const created = await curl(
      `curl -X POST http://localhost:8080/api/v1/transactions \\
  -H "Authorization: Bearer $TOKEN" \\
  -H "Content-Type: application/json" \\
  -d '{
    "source_account": "ACC001",
    "destination_account": "ACC002",
    "amount": 100.00,
    "currency": "USD",
    "reference": "Payment for services"
  }'`,
      { TOKEN },
    );
    const TXN_ID = (created.transfer as { transferId: string }).transferId;
    expect(
      await curl(
        `curl -X GET http://localhost:8080/api/v1/transactions/$TXN_ID \\
  -H "Authorization: Bearer $TOKEN"`,
        { TOKEN, TXN_ID },
      ),
    ).toMatchObject({ transfer: { transferId: TXN_ID, amount: { amount: "100.00" }, reference: "Payment for services" } });
    // SEED.md's payment names only the banks: it is paid from the sending bank's account with
    // us, which SEED.md does not show opening; it is opened here through the same REST API.
    await curl(
      `curl -s -X POST http://localhost:8080/api/v1/accounts -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \
  -d '{"account_id": "bank-CHASUS33-EUR", "account_type": "BUSINESS", "initial_balance": 50000.00, "currency": "EUR"}'`,
      { TOKEN },
    );
    const payment = await curl(
      `curl -X POST http://localhost:8080/api/v1/payments/swift \
  -H "Authorization: Bearer $TOKEN" \
  -H "Content-Type: application/json" \
  -d '{
    "source_bic": "CHASUS33",
    "destination_bic": "DEUTDEFF",
    "amount": 1000.00,
    "currency": "EUR",
    "reference": "INV-2024-001"
  }'`,
      { TOKEN },
    );
    expect(payment).toMatchObject({
      payment: { rail: "RAIL_SWIFT", state: "PAYMENT_STATE_VALIDATED", debtorAccount: "bank-CHASUS33-EUR", amount: { amount: "1000.00" } },
    });
    const PAYMENT_ID = (payment.payment as { paymentId: string }).paymentId;
    const get = `curl -s http://localhost:8080/api/v1/payments/$PAYMENT_ID -H "Authorization: Bearer $TOKEN"`;
    let state = "";
    for (let i = 0; i < 200 && state !== "PAYMENT_STATE_SETTLED"; i++) {
      state = ((await curl(get, { TOKEN, PAYMENT_ID })).payment as { state: string }).state;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(state).toBe("PAYMENT_STATE_SETTLED");
    expect(
      await curl(`curl -s http://localhost:8080/api/v1/accounts/bank-CHASUS33-EUR/balance -H "Authorization: Bearer $TOKEN"`, { TOKEN }),
    ).toMatchObject({
      balance: { balance: { amount: "49000.00" } },
    });
    // The custom verb routes to ReversePayment, not to CreatePayment's /payments/{rail}.
    const reversed = await curl(
      `curl -s -X POST "http://localhost:8080/api/v1/payments/$PAYMENT_ID:reverse" -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" -d '{"reason": "sent twice"}'`,
      { TOKEN, PAYMENT_ID },
    );
    expect(reversed).toMatchObject({ payment: { paymentId: PAYMENT_ID } });
    expect(await curl("curl http://localhost:8080/api/v1/system/status")).toMatchObject({ status: "ok" });
    mesh.child.kill("SIGTERM");
  });

  it("loads a sanctions list with `qenex risk load-sanctions` that the running mesh screens against", async () => {
    // The embedded database: this list must not mix with other tests' lists in a shared one.
    const env = { ...qenexEnv(fs.mkdtempSync(path.join(os.tmpdir(), "qenex-cli-"))), DATABASE_URL: "" };
    const list = fileURLToPath(new URL("../../risk/testdata/sanctions/", import.meta.url));
    const loaded = await promisify(execFile)(node, ["--import", "tsx", "--conditions=source", main, "risk", "load-sanctions", list], {
      env,
    });
    expect(loaded.stdout).toMatch(/^loaded \d+ entries \(\d+ aliases\) as list SDN, version 1$/m);
    const refused = await promisify(execFile)(
      node,
      ["--import", "tsx", "--conditions=source", main, "risk", "load-sanctions", "/nonexistent-dir"],
      { env },
    ).catch((e: { code: number; stderr: string }) => e);
    expect(refused).toMatchObject({ code: 1 });
    // The sdn.csv file itself works too, with alt.csv and add.csv from beside it.
    const asFile = await promisify(execFile)(
      node,
      ["--import", "tsx", "--conditions=source", main, "risk", "load-sanctions", path.join(list, "sdn.csv")],
      {
        env,
      },
    );
    expect(asFile.stdout).toMatch(/as list SDN, version 2$/m);
    const mesh = await startMesh(env);
    const screened = await fetch(`${mesh.edgeUrl}/api/v1/risk/screen`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${await token(env)}` },
      body: JSON.stringify({ name: "putin vladimir" }),
    });
    expect(screened.status).toBe(200);
    const body = (await screened.json()) as { candidates: { entryId: string; list: string }[] };
    expect(body.candidates[0]).toMatchObject({ entryId: "90001", list: "SDN" });
    mesh.child.kill("SIGTERM");
  });

  it("refuses to start on bad configuration, naming every problem", async () => {
    const env = { ...qenexEnv(os.tmpdir()), QENEX_LEDGER_PORT: "99999", QENEX_JWT_SECRET: "short" };
    const result = await promisify(execFile)(node, ["--import", "tsx", "--conditions=source", main, "start"], { env }).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(result).toMatchObject({ code: 2 });
    expect((result as { stderr: string }).stderr).toContain("QENEX_LEDGER_PORT");
    expect((result as { stderr: string }).stderr).toContain("QENEX_JWT_SECRET");
  });
});
