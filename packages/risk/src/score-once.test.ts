// Batch scoring (the ledger monitor's) against one-at-a-time scoring (ScoreTransaction's): the
// same decisions and features for a sequence whose accounts repeat, pay each other and cross
// window buckets; a transfer scored before keeps its first result and counts once. On
// PostgreSQL and Redis when DATABASE_URL / REDIS_URL are set, PGlite and the in-process kv otherwise.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { ValidationError } from "@bufbuild/protovalidate";
import {
  type ScoreTransactionRequest,
  ScoreTransactionRequestSchema,
  type ScoreTransactionResponse,
} from "@qenex/gen/qenex/risk/v1/risk_pb.js";
import { uniquePrefix } from "@qenex/ledger/testing";
import { createDb, createKv, createLogger, type Db, type Kv, migrate } from "@qenex/platform";
import { type FreshDatabase, freshDatabase } from "@qenex/platform/testing";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { riskMigrations, seedStandardRules } from "./index.js";
import { createRiskMetrics } from "./metrics.js";
import { type BatchOutcome, createScoreBatch, createScoreOnce } from "./score-once.js";
import { createScorer } from "./scorer.js";
import { createPartyStore } from "./store/party-store.js";
import { createRiskStore } from "./store/risk-store.js";
import { createSanctionsStore } from "./store/sanctions-store.js";

let database: FreshDatabase;
let db: Db;
const kvs: Kv[] = [];

beforeAll(async () => {
  database = await freshDatabase("qenex_riskbatch");
  db = await createDb({ databaseUrl: database.url, dataDir: fs.mkdtempSync(path.join(os.tmpdir(), "qenex-riskbatch-")), poolMax: 4 });
  await migrate(db, "risk", riskMigrations);
  await seedStandardRules(db);
});
afterAll(async () => {
  for (const kv of kvs) await kv.close();
  await db?.close();
  await database?.drop();
});

/** Scoring with a history of its own (its own kv, or its own key prefix on Redis). */
function scoring() {
  const kv = createKv(process.env.REDIS_URL, { keyPrefix: `${uniquePrefix("qenex-test-riskbatch")}:` });
  kvs.push(kv);
  const logger = createLogger("risk", "silent");
  const store = createRiskStore(db);
  const scorer = createScorer({
    db,
    kv,
    logger,
    store,
    parties: createPartyStore(db),
    sanctions: createSanctionsStore(db),
    screeningThreshold: 0.88,
  });
  const deps = { scorer, store, kv, logger, metrics: createRiskMetrics(new Registry()) };
  return { store, scoreOnce: createScoreOnce(deps), scoreBatch: createScoreBatch(deps) };
}

const minuteMs = 60_000;
const hourMs = 60 * minuteMs;

/** Transfers whose accounts repeat, pay each other, and cross a 5-minute and an hour bucket (ids prefixed). */
function sequence(idPrefix: string, accountPrefix: string): ScoreTransactionRequest[] {
  // Ten minutes before an hour starts, so the sequence crosses into the next hour bucket.
  const baseMs = Math.floor(Date.now() / hourMs) * hourMs - 10 * minuteMs;
  const a = (name: string) => `${accountPrefix}-${name}`;
  const transfers: [string, string, string, string, number][] = [
    [a("a"), a("b"), "9000.00", "USD", 0],
    [a("a"), a("b"), "9500.00", "USD", 1 * minuteMs],
    // b sends on most of what it just received: rapid in-out, from money received in the batch.
    [a("b"), a("c"), "16000.00", "USD", 2 * minuteMs],
    // A third just below the report threshold within 24 hours: structuring.
    [a("a"), a("c"), "9100.00", "USD", 3 * minuteMs],
    // No USD reference rate: refused, and left out of the history.
    [a("e"), a("f"), "1000000", "KRW", 4 * minuteMs],
    [a("a"), a("d"), "12000.00", "EUR", 11 * minuteMs],
    [a("c"), a("a"), "50.00", "USD", 12 * minuteMs],
  ];
  // Eleven more within the hour: the velocity rule's count.
  for (let i = 0; i < 11; i++) transfers.push([a("a"), a("b"), `${10 + i}.00`, "USD", 12 * minuteMs + i * 10_000]);
  return transfers.map(([accountId, counterpartyId, amount, currency, offsetMs], i) =>
    create(ScoreTransactionRequestSchema, {
      transactionId: `${idPrefix}-${i}`,
      accountId,
      counterpartyId,
      amount,
      currency,
      occurredAt: timestampFromMs(baseMs + offsetMs),
      ...(accountId === a("c") ? { accountOpenedAt: timestampFromMs(baseMs - 3 * 24 * hourMs) } : {}),
    }),
  );
}

/** What a score says, without its ids. */
const decisionOf = (r: ScoreTransactionResponse) => ({
  decision: r.decision,
  score: r.score,
  reasons: r.reasons.map((reason) => reason.code),
  alert: r.alertId !== "",
  features: r.features,
});

const outcomeOf = (o: BatchOutcome) =>
  o.kind === "scored" ? decisionOf(o.response) : o.kind === "refused" ? { refused: o.error instanceof ValidationError } : o.kind;

describe("scoring a batch", () => {
  it("decides every transfer as one-at-a-time scoring does, its history counting the batch's earlier transfers", async () => {
    const accounts = uniquePrefix("acct");
    const one = scoring();
    const sequential: unknown[] = [];
    for (const req of sequence(uniquePrefix("seq"), accounts)) {
      sequential.push(await one.scoreOnce(req).then(decisionOf, (error: unknown) => ({ refused: error instanceof ValidationError })));
    }
    const batch = scoring();
    const requests = sequence(uniquePrefix("batch"), accounts);
    // Two batches: the second's history comes from the kv, the first's from within the batch.
    const batched = [...(await batch.scoreBatch(requests.slice(0, 6))), ...(await batch.scoreBatch(requests.slice(6)))].map(outcomeOf);

    expect(batched).toEqual(sequential);
    // The sequence does what it was written to do: in-batch history reached the rules.
    const codes = batched.map((o) => (typeof o === "object" && "reasons" in o ? o.reasons : []));
    expect(codes[2]).toContain("aml.rapid_in_out");
    expect(codes[3]).toContain("aml.structuring");
    expect(codes[5]).toContain("aml.ctr");
    expect(codes.at(-1)).toContain("aml.velocity_count_1h");
    expect(batched[4]).toEqual({ refused: true });
  });

  it("keeps a transfer's first result when it was scored before, and counts it once", async () => {
    const accounts = uniquePrefix("acct");
    const { store, scoreOnce, scoreBatch } = scoring();
    const [first, second] = sequence(uniquePrefix("again"), accounts);
    if (!first || !second) throw new Error("the sequence is too short");
    const live = await scoreOnce(first);
    const stored = await store.getScore(first.transactionId);

    const outcomes = await scoreBatch([first, second, second]);

    expect(outcomes.map((o) => o.kind)).toEqual(["existed", "scored", "existed"]);
    expect(await store.getScore(first.transactionId)).toBe(stored);
    const scored = outcomes[1]?.kind === "scored" ? outcomes[1].response : undefined;
    expect(scored?.features.count_24h).toBe("2");
    // One alert for the first (opened when it was scored live), none added by the batch for it.
    const alerts = await db.query<{ id: string }>("SELECT id FROM risk_alerts WHERE transaction_id = $1", [first.transactionId]);
    expect(alerts.rows.map((r) => r.id)).toEqual(live.alertId ? [live.alertId] : []);
  });
});
