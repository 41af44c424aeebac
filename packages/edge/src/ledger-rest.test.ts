// SEED.md's REST examples and the edge's own endpoints, through the real edge in front of a
// real ledger (PostgreSQL in CI, PGlite otherwise).
import { Code } from "@connectrpc/connect";
import { uniquePrefix } from "@qenex/ledger/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestEdge, type TestEdge } from "./testing/harness.js";

let edge: TestEdge;
let token: string;

beforeAll(async () => {
  edge = await startTestEdge();
  token = await edge.token(["admin"]);
});
afterAll(async () => {
  await edge?.stop();
});

async function rest(method: string, path: string, body?: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${edge.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
    ...(body === undefined ? {} : { body }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, json: text ? JSON.parse(text) : undefined };
}

describe("SEED.md's API examples", () => {
  it("create accounts, read a balance, move money and read the transfer back", async () => {
    const p = uniquePrefix("seed");
    const created = await rest(
      "POST",
      "/api/v1/accounts",
      `{"account_id": "${p}-ACC001", "account_type": "CHECKING", "initial_balance": 1000.00, "currency": "USD"}`,
    );
    expect(created.status).toBe(200);
    expect(created.json.account).toMatchObject({ accountId: `${p}-ACC001`, accountType: "CHECKING", currency: "USD" });
    await rest("POST", "/api/v1/accounts", `{"account_id": "${p}-ACC002", "account_type": "CHECKING", "currency": "USD"}`);

    const balance = await rest("GET", `/api/v1/accounts/${p}-ACC001/balance`);
    expect(balance.status).toBe(200);
    expect(JSON.stringify(balance.json)).toContain('"1000.00"');

    const moved = await rest(
      "POST",
      "/api/v1/transactions",
      `{"source_account": "${p}-ACC001", "destination_account": "${p}-ACC002", "amount": 100.00, "currency": "USD", "reference": "Payment for services"}`,
    );
    expect(moved.status).toBe(200);
    const transferId = moved.json.transfer.transferId as string;
    expect(moved.json.transfer).toMatchObject({ amount: { currency: "USD", amount: "100.00" }, reference: "Payment for services" });

    const read = await rest("GET", `/api/v1/transactions/${transferId}`);
    expect(read.status).toBe(200);
    expect(read.json.transfer.transferId).toBe(transferId);
    expect(JSON.stringify((await rest("GET", `/api/v1/accounts/${p}-ACC002/balance`)).json)).toContain('"100.00"');
  });

  it("an amount with more digits than the currency has is an error, never a rounding", async () => {
    const p = uniquePrefix("digits");
    const { status, json } = await rest(
      "POST",
      "/api/v1/accounts",
      `{"account_id": "${p}-A", "account_type": "CHECKING", "initial_balance": 10.005, "currency": "USD"}`,
    );
    expect(status).toBe(400);
    expect(json.code).toBe(Code.InvalidArgument);
  });

  it("an opening balance the ledger cannot book fails the create whole, naming the amount", async () => {
    const p = uniquePrefix("huge");
    // Equity must have debits for the largest amount to overflow it.
    await rest(
      "POST",
      "/api/v1/accounts",
      `{"account_id": "${p}-seed", "account_type": "CHECKING", "initial_balance": "1.00", "currency": "USD"}`,
    );
    const { status, json } = await rest(
      "POST",
      "/api/v1/accounts",
      `{"account_id": "${p}-A", "account_type": "CHECKING", "initial_balance": "92233720368547758.07", "currency": "USD"}`,
    );
    expect(status).toBe(400);
    expect(json.code).toBe(Code.OutOfRange);
    expect(json.message).toContain("92233720368547758.07 USD");
    expect((await rest("GET", `/api/v1/accounts/${p}-A/balance`)).status).toBe(404);
  });

  it("maps the ledger's errors to HTTP statuses", async () => {
    expect((await rest("GET", "/api/v1/accounts/no-such-account-x1/balance")).status).toBe(404);
    const p = uniquePrefix("dup");
    const body = `{"account_id": "${p}-A", "account_type": "CHECKING", "currency": "USD"}`;
    expect((await rest("POST", "/api/v1/accounts", body)).status).toBe(200);
    const different = await rest("POST", "/api/v1/accounts", `{"account_id": "${p}-A", "account_type": "SAVINGS", "currency": "USD"}`);
    expect(different.status).toBe(409);
    expect(different.json.code).toBe(Code.AlreadyExists);
  });

  it("treats SQL-injection-shaped ids as data", async () => {
    for (const id of ["x' OR '1'='1", "1; DROP TABLE ledger_accounts; --", "a%27%20OR%201=1"]) {
      const { status, json } = await rest("GET", `/api/v1/accounts/${encodeURIComponent(id)}/balance`);
      expect([400, 404]).toContain(status);
      expect(json.code).not.toBe(Code.Internal);
    }
    // The book is still there.
    expect((await rest("GET", "/api/v1/ledger/trial-balance")).status).toBe(200);
  });

  it("streams committed transfers as NDJSON from a cursor", async () => {
    const p = uniquePrefix("watch");
    await rest("POST", "/api/v1/accounts", `{"account_id": "${p}-A", "account_type": "CHECKING", "initial_balance": 5, "currency": "USD"}`);
    const controller = new AbortController();
    const response = await fetch(`${edge.url}/api/v1/transactions:watch?account_id=${p}-A&after_sequence=0`, {
      headers: { authorization: `Bearer ${token}` },
      signal: controller.signal,
    });
    expect(response.headers.get("content-type")).toBe("application/x-ndjson");
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const { value } = await reader.read();
    const first = JSON.parse(new TextDecoder().decode(value).split("\n")[0] as string);
    expect(first.transfer).toMatchObject({ destinationAccount: `${p}-A`, amount: { amount: "5.00" } });
    controller.abort();
  });
});

describe("one API, one way", () => {
  async function openPair(p: string, initialBalance: string, currency = "USD") {
    const open = (id: string, balance: string) =>
      rest("POST", "/api/v1/accounts", JSON.stringify({ account_id: id, account_type: "CHECKING", currency, initial_balance: balance }));
    expect((await open(`${p}-A`, initialBalance)).status).toBe(200);
    expect((await open(`${p}-B`, "0")).status).toBe(200);
    return { a: `${p}-A`, b: `${p}-B` };
  }
  const transfer = (body: Record<string, unknown>) => rest("POST", "/api/v1/transactions", JSON.stringify(body));

  it("takes kind as PENDING or TRANSFER_KIND_PENDING and answers with the full name", async () => {
    const p = uniquePrefix("kinds");
    const { a, b } = await openPair(p, "100.00");
    const base = { source_account: a, destination_account: b, amount: "1.00", currency: "USD" };
    for (const [id, kind, expected] of [
      ["short", "PENDING", "TRANSFER_KIND_PENDING"],
      ["full", "TRANSFER_KIND_PENDING", "TRANSFER_KIND_PENDING"],
      ["plain", "TRANSFER", "TRANSFER_KIND_TRANSFER"],
      ["number", 3, "TRANSFER_KIND_PENDING"],
    ] as const) {
      const { status, json } = await transfer({ ...base, transfer_id: `${p}-${id}`, kind });
      expect(status, `${kind}`).toBe(200);
      expect(json.transfer.kind).toBe(expected);
    }
    const bad = await transfer({ ...base, kind: "HOLD" });
    expect(bad.status).toBe(400);
    expect(bad.json.message).toContain(
      'kind: "HOLD" is not a qenex.ledger.v1.TransferKind value; use one of TRANSFER_KIND_TRANSFER, TRANSFER,',
    );
  });

  it("posts part of a pending transfer given an amount and no currency, reading it in the pending transfer's currency", async () => {
    const p = uniquePrefix("post");
    const { a, b } = await openPair(p, "100.00");
    const pending = await transfer({
      transfer_id: `${p}-p1`,
      source_account: a,
      destination_account: b,
      amount: "40.00",
      currency: "USD",
      kind: "PENDING",
    });
    expect(pending.status).toBe(200);
    const post = { transfer_id: `${p}-p1post`, kind: "POST_PENDING", pending_transfer_id: `${p}-p1`, amount: "15.00" };

    const tooPrecise = await transfer({ ...post, transfer_id: `${p}-p1fine`, amount: "15.001" });
    expect(tooPrecise.status).toBe(400);
    expect(tooPrecise.json.message).toContain('"15.001" has 3 decimal places; USD allows 2');
    const tooMuch = await transfer({ ...post, transfer_id: `${p}-p1big`, amount: "50.00" });
    expect(tooMuch.status).toBe(400);
    expect(tooMuch.json.message).toContain(`a post of 50.00 USD exceeds pending transfer ${p}-p1's 40.00 USD`);
    const otherCurrency = await transfer({ ...post, transfer_id: `${p}-p1eur`, currency: "EUR" });
    expect(otherCurrency.status).toBe(400);
    expect(otherCurrency.json.message).toContain("in USD");

    const posted = await transfer(post);
    expect(posted.status).toBe(200);
    expect(posted.json.transfer).toMatchObject({ kind: "TRANSFER_KIND_POST_PENDING", amount: { currency: "USD", amount: "15.00" } });
    expect((await transfer(post)).json.existed).toBe(true);
    const differentRetry = await transfer({ ...post, amount: "16.00" });
    expect(differentRetry.status).toBe(409);
    expect(differentRetry.json.message).toContain("different amount");
    expect(JSON.stringify((await rest("GET", `/api/v1/accounts/${b}/balance`)).json)).toContain('"15.00"');
  });

  it("voids given the pending amount without a currency, and says the amount in USD when it differs", async () => {
    const p = uniquePrefix("void");
    const { a, b } = await openPair(p, "20.00");
    await transfer({ transfer_id: `${p}-p`, source_account: a, destination_account: b, amount: "10.00", currency: "USD", kind: "PENDING" });
    const wrong = await transfer({ transfer_id: `${p}-v1`, kind: "VOID_PENDING", pending_transfer_id: `${p}-p`, amount: "5.00" });
    expect(wrong.status).toBe(400);
    expect(wrong.json.message).toContain(`a void must release all of pending transfer ${p}-p: 10.00 USD, not 5.00 USD`);
    const voided = await transfer({ transfer_id: `${p}-v2`, kind: "VOID_PENDING", pending_transfer_id: `${p}-p`, amount: "10.00" });
    expect(voided.status).toBe(200);
    expect(voided.json.transfer.kind).toBe("TRANSFER_KIND_VOID_PENDING");
  });

  it("says what is left to reverse in the caller's units, never minor units", async () => {
    const p = uniquePrefix("rev");
    const { a, b } = await openPair(p, "100.00");
    const moved = await transfer({ transfer_id: `${p}-t`, source_account: a, destination_account: b, amount: "15.00", currency: "USD" });
    expect(moved.status).toBe(200);
    const { status, json } = await rest(
      "POST",
      `/api/v1/transactions/${p}-t:reverse`,
      JSON.stringify({ reversal_id: `${p}-r`, amount: "20.00" }),
    );
    expect(status).toBe(400);
    expect(json.message).toContain(`transfer ${p}-t has 15.00 USD left to reverse`);
    expect(json.message).not.toContain("minor units");
  });

  it("takes an FX transfer's amount as a decimal string beside its currency, like every other transfer", async () => {
    const p = uniquePrefix("fx");
    const untilIso = new Date(Date.now() + 3_600_000).toISOString();
    const rate = await rest(
      "POST",
      "/api/v1/exchange-rates",
      JSON.stringify({ base_currency: "SEK", quote_currency: "NOK", rate: "0.98", valid_until: untilIso }),
    );
    expect(rate.status).toBe(200);
    const open = (id: string, currency: string, balance: string) =>
      rest("POST", "/api/v1/accounts", JSON.stringify({ account_id: id, account_type: "CHECKING", currency, initial_balance: balance }));
    await open(`${p}-sek`, "SEK", "50.00");
    await open(`${p}-nok`, "NOK", "0");
    const body = { transfer_id: `${p}-x`, source_account: `${p}-sek`, destination_account: `${p}-nok`, destination_currency: "NOK" };
    const moved = await rest("POST", "/api/v1/transactions:fx", JSON.stringify({ ...body, amount: 10.0, currency: "SEK" }));
    expect(moved.status).toBe(200);
    expect(moved.json.debitLeg.amount).toEqual({ currency: "SEK", amount: "10.00" });
    expect(moved.json.creditLeg.amount).toEqual({ currency: "NOK", amount: "9.80" });
    const noCurrency = await rest("POST", "/api/v1/transactions:fx", JSON.stringify({ ...body, transfer_id: `${p}-y`, amount: "10.00" }));
    expect(noCurrency.status).toBe(400);
    expect(noCurrency.json.message).toContain("currency");
    const moneyObject = await rest(
      "POST",
      "/api/v1/transactions:fx",
      JSON.stringify({ ...body, transfer_id: `${p}-z`, amount: { currency: "SEK", amount: "1.00" } }),
    );
    expect(moneyObject.status).toBe(400);
  });
});

describe("Idempotency-Key", () => {
  it("replays the stored response for the same key and body, refuses a different body", async () => {
    const p = uniquePrefix("idem");
    await rest(
      "POST",
      "/api/v1/accounts",
      `{"account_id": "${p}-A", "account_type": "CHECKING", "initial_balance": 50, "currency": "USD"}`,
    );
    await rest("POST", "/api/v1/accounts", `{"account_id": "${p}-B", "account_type": "CHECKING", "currency": "USD"}`);
    const body = `{"source_account": "${p}-A", "destination_account": "${p}-B", "amount": "5.00", "currency": "USD"}`;
    const key = { "idempotency-key": `${p}-key` };
    const first = await rest("POST", "/api/v1/transactions", body, key);
    const again = await rest("POST", "/api/v1/transactions", body, key);
    expect(first.status).toBe(200);
    expect(again.json).toEqual(first.json);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    const balance = await rest("GET", `/api/v1/accounts/${p}-B/balance`);
    expect(JSON.stringify(balance.json)).toContain('"5.00"');
    const other = await rest("POST", "/api/v1/transactions", body.replace("5.00", "6.00"), key);
    expect(other.status).toBe(409);
    expect(other.json.message).toContain("different request body");
    expect((await rest("POST", "/api/v1/transactions", body, { "idempotency-key": "" })).status).toBe(400);
  });
});

describe("hostile text", () => {
  it("refuses a NUL character in an id or a reference with 400 naming the field, never 500", async () => {
    const account = await rest(
      "POST",
      "/api/v1/accounts",
      JSON.stringify({ account_id: "NUL\u0000ACC", account_type: "CHECKING", currency: "USD" }),
    );
    expect(account.status).toBe(400);
    expect(account.json).toMatchObject({ code: 3, message: expect.stringMatching(/^account_id contains a NUL character/) });
    const balance = await rest("GET", "/api/v1/accounts/NUL%00ACC/balance");
    expect(balance.status).toBe(400);
  });
});

describe("operations", () => {
  it("GET /health answers without a token", async () => {
    const response = await fetch(`${edge.url}/health`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { status: string; dependencies: { name: string; reachable: boolean }[] };
    expect(body.status).toBe("ok");
    expect(body.dependencies.length).toBeGreaterThan(0);
    expect(body.dependencies.every((d) => d.reachable)).toBe(true);
  });

  it("GET /api/v1/system/status reports each upstream and dependency", async () => {
    const { status, json } = await rest("GET", "/api/v1/system/status");
    expect(status).toBe(200);
    expect(json.status).toBe("ok");
    expect(json.services.map((s: { service: string }) => s.service).sort()).toEqual([
      "qenex.auth.v1.AuthService",
      "qenex.conformance.v1.ConformanceService",
      "qenex.ledger.v1.LedgerService",
    ]);
    expect(json.services.every((s: { status: string }) => s.status === "SERVING")).toBe(true);
    expect(json.dependencies.every((d: { reachable: boolean }) => d.reachable)).toBe(true);
  });
});
