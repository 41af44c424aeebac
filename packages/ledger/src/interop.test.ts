// Foreign clients against a real ledger server: @grpc/grpc-js over HTTP/2, Connect JSON
// and gRPC-Web over HTTP/1.1 as browsers send them, and the buf CLI through reflection.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { type DescMessage, fromBinary, type MessageShape, toBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import {
  HealthCheckRequestSchema,
  HealthCheckResponse_ServingStatus,
  HealthCheckResponseSchema,
} from "@qenex/gen/grpc/health/v1/health_pb.js";
import {
  AccountType,
  CreateAccountRequestSchema,
  CreateAccountResponseSchema,
  GetAccountRequestSchema,
  GetAccountResponseSchema,
  LedgerService,
} from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestLedger, type TestLedger, uniquePrefix } from "./testing/harness.js";

const run = promisify(execFile);
const buf = fileURLToPath(new URL("../../../node_modules/.bin/buf", import.meta.url));

let ledger: TestLedger;
let accountId: string;
beforeAll(async () => {
  ledger = await startTestLedger();
  accountId = uniquePrefix("ACC");
  await ledger.client().createAccount({ accountId, accountType: AccountType.CHECKING, currency: "USD", initialBalance: "250.00" });
});
afterAll(() => ledger.stop());

/** One unary call with grpc-js, encoding with the generated protobuf-es schemas. */
function grpcJsCall<I extends DescMessage, O extends DescMessage>(
  client: grpc.Client,
  path: string,
  input: I,
  output: O,
  message: MessageShape<I>,
  metadata: grpc.Metadata,
): Promise<MessageShape<O>> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      path,
      (m: MessageShape<I>) => Buffer.from(toBinary(input, m)),
      (bytes: Buffer) => fromBinary(output, bytes),
      message,
      metadata,
      (error, response) => (error || !response ? reject(error) : resolve(response)),
    );
  });
}

describe("@grpc/grpc-js client", () => {
  let client: grpc.Client;
  beforeAll(() => {
    client = new grpc.Client(ledger.url.replace("http://", ""), grpc.credentials.createInsecure());
  });
  afterAll(() => client.close());
  const auth = async () => {
    const metadata = new grpc.Metadata();
    metadata.set("authorization", `Bearer ${await ledger.token()}`);
    return metadata;
  };

  it("creates and reads an account over gRPC", async () => {
    const id = uniquePrefix("GRPCJS");
    const created = await grpcJsCall(
      client,
      "/qenex.ledger.v1.LedgerService/CreateAccount",
      CreateAccountRequestSchema,
      CreateAccountResponseSchema,
      {
        $typeName: "qenex.ledger.v1.CreateAccountRequest",
        accountId: id,
        accountType: AccountType.SAVINGS,
        currency: "EUR",
        initialBalance: "12.34",
        ownerId: "",
      },
      await auth(),
    );
    expect(created.balance?.balance?.amount).toBe("12.34");
    const got = await grpcJsCall(
      client,
      "/qenex.ledger.v1.LedgerService/GetAccount",
      GetAccountRequestSchema,
      GetAccountResponseSchema,
      { $typeName: "qenex.ledger.v1.GetAccountRequest", accountId: id },
      await auth(),
    );
    expect(got.account?.accountType).toBe(AccountType.SAVINGS);
  });

  it("gets gRPC status codes: NOT_FOUND and UNAUTHENTICATED", async () => {
    const call = (metadata: grpc.Metadata) =>
      grpcJsCall(
        client,
        "/qenex.ledger.v1.LedgerService/GetAccount",
        GetAccountRequestSchema,
        GetAccountResponseSchema,
        { $typeName: "qenex.ledger.v1.GetAccountRequest", accountId: "nobody" },
        metadata,
      );
    await expect(call(await auth())).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    await expect(call(new grpc.Metadata())).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
  });

  it("reads health as SERVING without a token", async () => {
    const health = await grpcJsCall(
      client,
      "/grpc.health.v1.Health/Check",
      HealthCheckRequestSchema,
      HealthCheckResponseSchema,
      { $typeName: "grpc.health.v1.HealthCheckRequest", service: "qenex.ledger.v1.LedgerService" },
      new grpc.Metadata(),
    );
    expect(health.status).toBe(HealthCheckResponse_ServingStatus.SERVING);
  });
});

describe("browser protocols over HTTP/1.1", () => {
  it("answers Connect JSON from a plain fetch", async () => {
    const res = await fetch(`${ledger.url}/qenex.ledger.v1.LedgerService/GetBalance`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${await ledger.token()}` },
      body: JSON.stringify({ account_id: accountId }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { balance: { balance: { amount: string; currency: string } } };
    expect(body.balance.balance).toEqual({ currency: "USD", amount: "250.00" });
  });

  it("answers Connect errors as JSON with the HTTP status", async () => {
    const res = await fetch(`${ledger.url}/qenex.ledger.v1.LedgerService/CreateTransfer`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${await ledger.token()}` },
      body: JSON.stringify({ source_account: accountId, destination_account: "x", amount: "1.234", currency: "USD" }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { code: string; message: string };
    expect(body.code).toBe("invalid_argument");
    expect(body.message).toContain("amount");
  });

  it("serves the Connect and gRPC-Web transports over HTTP/1.1", async () => {
    const headers = { authorization: `Bearer ${await ledger.token()}` };
    for (const transport of [
      createConnectTransport({ baseUrl: ledger.url, httpVersion: "1.1" }),
      createGrpcWebTransport({ baseUrl: ledger.url, httpVersion: "1.1" }),
    ]) {
      const res = await createClient(LedgerService, transport).getAccount({ accountId }, { headers });
      expect(res.balance?.available?.amount).toBe("250.00");
    }
  });

  it("serves Prometheus metrics, with SEED.md's names", async () => {
    const other = uniquePrefix("ACC");
    await ledger.client().createAccount({ accountId: other, accountType: AccountType.CHECKING, currency: "USD" });
    await ledger.client().createTransfer({ sourceAccount: accountId, destinationAccount: other, amount: "1.00", currency: "USD" });
    const text = await (await fetch(`${ledger.url}/metrics`)).text();
    expect(text).toContain('grpc_server_handled_total{grpc_type="unary",grpc_service="qenex.ledger.v1.LedgerService"');
    expect(text).toMatch(/qenex_transactions_total\{status="created"\} [1-9]/);
    expect(text).toMatch(/qenex_transaction_latency_seconds_count [1-9]/);
    // Group commit's shape: at least one transaction, carrying at least one transfer.
    expect(text).toMatch(/qenex_ledger_group_transfers_count [1-9]/);
    expect(text).toMatch(/qenex_ledger_group_transfers_sum [1-9]/);
    expect(text).toMatch(/qenex_ledger_group_write_seconds_count [1-9]/);
    expect(text).toMatch(/qenex_active_connections [1-9]/);
    expect(text).toContain("qenex_system_health 100");
  });
});

describe("buf curl (reflection, no .proto files)", () => {
  const curl = (...args: string[]) => run(buf, ["curl", "--protocol", "grpc", "--http2-prior-knowledge", ...args], { timeout: 30_000 });

  it("lists the services", async () => {
    const { stdout } = await curl("--list-services", ledger.url);
    expect(stdout.split("\n")).toEqual(
      expect.arrayContaining(["qenex.ledger.v1.LedgerService", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"]),
    );
  });

  it("calls GetAccount", async () => {
    const { stdout } = await curl(
      "-H",
      `Authorization: Bearer ${await ledger.token()}`,
      "-d",
      JSON.stringify({ account_id: accountId }),
      `${ledger.url}/qenex.ledger.v1.LedgerService/GetAccount`,
    );
    const body = JSON.parse(stdout) as { account: { accountId: string; accountType: string } };
    expect(body.account).toMatchObject({ accountId, accountType: "CHECKING" });
  });

  it("checks health as SERVING", async () => {
    const { stdout } = await curl("-d", "{}", `${ledger.url}/grpc.health.v1.Health/Check`);
    expect(JSON.parse(stdout)).toEqual({ status: "SERVING" });
  });
});
