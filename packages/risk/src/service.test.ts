// RiskService against a real server and real storage: decisions, idempotent scoring, rules
// edited through the API, models trained and activated, sanctions screening, alerts, roles.
import { fileURLToPath } from "node:url";
import { ViolationsSchema } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { Code, ConnectError } from "@connectrpc/connect";
import { AlertStatus, Decision, Disposition, KycLevel, PartyStatus, PartyType, Severity } from "@qenex/gen/qenex/risk/v1/risk_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRandom } from "./model/index.js";
import { readSdnDirectory } from "./screening/index.js";
import { createSanctionsStore } from "./store/sanctions-store.js";
import { startTestRisk, type TestRisk } from "./testing/harness.js";

let risk: TestRisk;
const run = `r${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
let n = 0;
const id = (label: string) => `${run}-${label}-${n++}`;

beforeAll(async () => {
  risk = await startTestRisk();
  const entries = await readSdnDirectory(fileURLToPath(new URL("../testdata/sanctions/", import.meta.url)));
  await createSanctionsStore(risk.process.db).replaceList("TEST-SDN", entries);
});
afterAll(async () => {
  await risk?.stop();
});

async function codeOf(call: Promise<unknown>): Promise<Code | "ok"> {
  try {
    await call;
    return "ok";
  } catch (error) {
    return ConnectError.from(error).code;
  }
}

const usd = (amount: string) => ({ currency: "USD", amount });

/** The buf.validate.Violations detail of an error, as field path, rule id and message. */
function violationsOf(error: ConnectError): { field: string; ruleId: string; message: string }[] {
  return (error.findDetails(ViolationsSchema)[0]?.violations ?? []).map((v) => ({
    field: (v.field?.elements ?? []).map((e) => e.fieldName).join("."),
    ruleId: v.ruleId,
    message: v.message,
  }));
}

describe("ScoreTransaction", () => {
  it("allows an ordinary transfer and reports its features", async () => {
    const account = id("acct");
    const scored = await risk
      .client()
      .scoreTransaction({ transactionId: id("t"), accountId: account, counterpartyId: id("cp"), ...usd("42.00") });
    expect(scored.decision).toBe(Decision.ALLOW);
    expect(scored.alertId).toBe("");
    expect(scored.features).toMatchObject({ amount_usd: "42", count_1h: "1", country_risk: "low", counterparty_is_new: "true" });
    expect(scored.categoryScores).toHaveLength(4);
  });

  it("returns the first result for a transaction scored twice, and counts it once", async () => {
    const account = id("acct");
    const transactionId = id("t");
    const first = await risk.client().scoreTransaction({ transactionId, accountId: account, ...usd("10.00") });
    const again = await risk.client().scoreTransaction({ transactionId, accountId: account, ...usd("99999.00") });
    expect(again.existed).toBe(true);
    expect(again.decision).toBe(first.decision);
    expect(again.features).toEqual(first.features);
    const next = await risk.client().scoreTransaction({ transactionId: id("t"), accountId: account, ...usd("10.00") });
    expect(next.features.count_1h).toBe("2");
  });

  it("holds a currency-transaction-report amount for review and opens an alert an analyst resolves", async () => {
    const account = id("acct");
    const scored = await risk
      .client()
      .scoreTransaction({ transactionId: id("t"), accountId: account, currency: "EUR", amount: "12000.00" });
    expect(scored.decision).toBe(Decision.REVIEW);
    expect(scored.reasons.map((r) => r.code)).toContain("aml.ctr");
    expect(scored.alertId).not.toBe("");
    const listed = await risk.client(["auditor"]).listAlerts({ accountId: account });
    expect(listed.alerts.map((a) => a.alertId)).toEqual([scored.alertId]);
    expect(listed.alerts[0]?.status).toBe(AlertStatus.OPEN);
    expect(
      await codeOf(risk.client(["auditor"]).resolveAlert({ alertId: scored.alertId, disposition: Disposition.FALSE_POSITIVE, note: "n" })),
    ).toBe(Code.PermissionDenied);
    const resolved = await risk
      .client(["operator"], "analyst-1")
      .resolveAlert({ alertId: scored.alertId, disposition: Disposition.FALSE_POSITIVE, note: "known customer" });
    expect(resolved.alert).toMatchObject({
      status: AlertStatus.RESOLVED,
      disposition: Disposition.FALSE_POSITIVE,
      resolvedBy: "analyst-1",
      note: "known customer",
    });
    expect(await codeOf(risk.client().resolveAlert({ alertId: scored.alertId, disposition: Disposition.CONFIRMED, note: "again" }))).toBe(
      Code.FailedPrecondition,
    );
  });

  it("counts velocity per account across calls", async () => {
    const account = id("acct");
    let last: Decision | undefined;
    const codes: string[][] = [];
    for (let i = 0; i < 10; i++) {
      const scored = await risk.client().scoreTransaction({ transactionId: id("v"), accountId: account, ...usd("5.00") });
      last = scored.decision;
      codes.push(scored.reasons.map((r) => r.code));
    }
    expect(codes[8]).not.toContain("aml.velocity_count_1h");
    expect(codes[9]).toContain("aml.velocity_count_1h");
    expect(last).toBe(Decision.REVIEW);
  });

  it("blocks a transfer to a sanctioned counterparty, whatever the spelling", async () => {
    const scored = await risk.client().scoreTransaction({
      transactionId: id("t"),
      accountId: id("acct"),
      ...usd("100.00"),
      counterpartyName: "Vladímir Pútin",
    });
    expect(scored.decision).toBe(Decision.BLOCK);
    expect(scored.reasons.find((r) => r.code === "sanctions.match")?.message).toContain("90001");
  });

  it("refuses bad input and callers without the role", async () => {
    expect(await codeOf(risk.client().scoreTransaction({ transactionId: id("t"), accountId: id("a"), ...usd("1.001") }))).toBe(
      Code.InvalidArgument,
    );
    expect(await codeOf(risk.client().scoreTransaction({ transactionId: "bad id!", accountId: id("a"), ...usd("1.00") }))).toBe(
      Code.InvalidArgument,
    );
    expect(await codeOf(risk.client(["customer"]).scoreTransaction({ transactionId: id("t"), accountId: id("a"), ...usd("1.00") }))).toBe(
      Code.PermissionDenied,
    );
    expect(await codeOf(risk.client(["auditor"]).scoreTransaction({ transactionId: id("t"), accountId: id("a"), ...usd("1.00") }))).toBe(
      Code.PermissionDenied,
    );
  });

  it("takes the amount as a decimal string beside its currency, still reads the deprecated Money, and never both", async () => {
    const asMoney = await risk.client().scoreTransaction({ transactionId: id("t"), accountId: id("a"), amountMoney: usd("42.00") });
    expect(asMoney.features).toMatchObject({ amount_usd: "42" });
    const failure = async (request: Parameters<ReturnType<TestRisk["client"]>["scoreTransaction"]>[0]) => {
      const error = ConnectError.from(
        await risk
          .client()
          .scoreTransaction(request)
          .then(
            () => new Error("scored"),
            (e: unknown) => e,
          ),
      );
      return { code: error.code, message: error.rawMessage, violations: violationsOf(error) };
    };
    expect(await failure({ transactionId: id("t"), accountId: id("a"), ...usd("1.00"), amountMoney: usd("1.00") })).toEqual({
      code: Code.InvalidArgument,
      message: "amount_money: is deprecated; give amount and currency without it [qenex.money.deprecated]",
      violations: [
        { field: "amount_money", ruleId: "qenex.money.deprecated", message: "is deprecated; give amount and currency without it" },
      ],
    });
    expect(await failure({ transactionId: id("t"), accountId: id("a"), amount: "1.00" })).toEqual({
      code: Code.InvalidArgument,
      message: "currency: is required with amount [required]",
      violations: [{ field: "currency", ruleId: "required", message: "is required with amount" }],
    });
    expect(await failure({ transactionId: id("t"), accountId: id("a") })).toEqual({
      code: Code.InvalidArgument,
      message: "amount: is required [required]",
      violations: [{ field: "amount", ruleId: "required", message: "is required" }],
    });
  });

  it("refuses a currency it has no USD reference rate for, naming it, rather than counting it at par", async () => {
    const account = id("acct");
    const transactionId = id("t");
    const error = await risk
      .client()
      .scoreTransaction({ transactionId, accountId: account, currency: "KRW", amount: "1000000" })
      .then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
    expect(error?.code).toBe(Code.InvalidArgument);
    expect(error?.rawMessage).toContain("KRW");
    expect(violationsOf(error as ConnectError)).toEqual([
      { field: "amount", ruleId: "qenex.money.amount", message: expect.stringContaining("no USD reference rate for currency KRW") },
    ]);
    // Nothing was stored or counted: the account's next transfer is its first.
    const next = await risk.client().scoreTransaction({ transactionId: id("t"), accountId: account, ...usd("10.00") });
    expect(next.features.count_1h).toBe("1");
    expect((await risk.client(["auditor"]).listAlerts({ accountId: account })).alerts).toEqual([]);
  });
});

describe("rules through the API", () => {
  it("rejects a CEL syntax error with its position", async () => {
    const error = await risk
      .client()
      .putRule({
        rule: { ruleId: `t.${run}.bad`, name: "bad", expression: "amount_usd >", severity: Severity.LOW, reasonCode: "BAD", enabled: true },
      })
      .catch((e: unknown) => ConnectError.from(e));
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.InvalidArgument);
    expect((error as ConnectError).rawMessage).toContain("line 1, column 13");
    expect(violationsOf(error as ConnectError)).toMatchObject([{ field: "rule.expression", ruleId: "qenex.rule" }]);
    const unknown = await risk
      .client()
      .putRule({
        rule: {
          ruleId: `t.${run}.unknown`,
          name: "u",
          expression: "amount_usdd > 1.0",
          severity: Severity.LOW,
          reasonCode: "U",
          enabled: true,
        },
      })
      .catch((e: unknown) => ConnectError.from(e));
    expect((unknown as ConnectError).rawMessage).toMatch(/amount_usdd/);
  });

  it("applies an edited rule on the next score, without a restart", async () => {
    const ruleId = `t.${run}.odd-amount`;
    const rule = {
      ruleId,
      name: "odd amount",
      expression: "amount_usd == 123.45",
      severity: Severity.HIGH,
      reasonCode: "ODD_AMOUNT",
      enabled: true,
    };
    const created = await risk.client().putRule({ rule });
    expect(created.rule?.version).toBe(1n);
    const hit = await risk.client().scoreTransaction({ transactionId: id("t"), accountId: id("a"), ...usd("123.45") });
    expect(hit.reasons.map((r) => r.code)).toContain(ruleId);
    const edited = await risk.client().putRule({ rule: { ...rule, expression: "amount_usd == 543.21" } });
    expect(edited.rule?.version).toBe(2n);
    const after = await risk.client().scoreTransaction({ transactionId: id("t"), accountId: id("a"), ...usd("123.45") });
    expect(after.reasons.map((r) => r.code)).not.toContain(ruleId);
    await risk.client().putRule({ rule: { ...rule, expression: "amount_usd == 543.21", enabled: false } });
    const listed = await risk.client(["auditor"]).listRules({ includeDisabled: true });
    expect(listed.rules.find((r) => r.ruleId === ruleId)).toMatchObject({ enabled: false, version: 3n });
    expect((await risk.client().listRules({})).rules.map((r) => r.ruleId)).toContain("aml.ctr");
  });
});

describe("models", () => {
  it("trains on a dataset, evaluates on labelled rows, and once activated scores with it", async () => {
    const random = createRandom(7);
    const gaussian = () => Math.sqrt(-2 * Math.log(1 - random.nextFloat())) * Math.cos(2 * Math.PI * random.nextFloat());
    const normal = () => ({ values: [50 + 10 * gaussian(), 1 + Math.abs(gaussian())] });
    const rows = Array.from({ length: 500 }, normal);
    const client = risk.client();
    const trained = await client.trainModel({ name: `m-${run}`, features: ["amount_usd", "count_1h"], rows, contamination: 0.02, seed: 3 });
    expect(trained.model).toMatchObject({ active: false, trees: 100, trainingRows: 500n });
    const modelId = trained.model?.modelId as string;
    const labelled = [
      ...Array.from({ length: 200 }, () => ({ ...normal(), label: 0 })),
      ...Array.from({ length: 20 }, () => ({ values: [5000 + 100 * random.nextFloat(), 40], label: 1 })),
    ];
    const evaluated = await client.evaluateModel({ modelId, rows: labelled });
    expect(evaluated.rocAuc).toBeGreaterThan(0.95);
    expect(evaluated.truePositives).toBe(20n);

    expect((await client.activateModel({ modelId })).model?.active).toBe(true);
    const outlier = await client.scoreTransaction({ transactionId: id("t"), accountId: id("a"), ...usd("4999.00") });
    expect(outlier.modelId).toBe(modelId);
    expect(outlier.reasons.map((r) => r.code)).toContain("fraud.model");
    const ordinary = await client.scoreTransaction({ transactionId: id("t"), accountId: id("a"), ...usd("50.00") });
    expect(ordinary.reasons.map((r) => r.code)).not.toContain("fraud.model");
    expect((await client.listModels({})).models.filter((m) => m.active).map((m) => m.modelId)).toEqual([modelId]);
  });

  it("refuses unknown features and ragged rows", async () => {
    expect(await codeOf(risk.client().trainModel({ name: "x", features: ["colour"], rows: [{ values: [1] }, { values: [2] }] }))).toBe(
      Code.InvalidArgument,
    );
    expect(
      await codeOf(risk.client().trainModel({ name: "x", features: ["amount_usd"], rows: [{ values: [1] }, { values: [2, 3] }] })),
    ).toBe(Code.InvalidArgument);
    expect(await codeOf(risk.client().activateModel({ modelId: "no-such-model" }))).toBe(Code.NotFound);
  });

  it("answers a model past its size limit with ResourceExhausted", async () => {
    // Within each field's own bound, but trees × sample size (1000 × 10,001) exceeds the forest's 10,000,000.
    const rows = Array.from({ length: 10_001 }, (_, i) => ({ values: [i] }));
    expect(await codeOf(risk.client().trainModel({ name: "x", features: ["amount_usd"], rows, trees: 1000, sampleSize: 100_000 }))).toBe(
      Code.ResourceExhausted,
    );
  });
});

describe("KYC parties", () => {
  it("screens at onboarding, holds a party to its level's limits, and lifts them with a new level", async () => {
    const account = id("kyc-acct");
    const partyId = id("party");
    const created = await risk
      .client()
      .createParty({ partyId, name: "Jane Q Example", type: PartyType.INDIVIDUAL, country: "GB", accountIds: [account] });
    expect(created.party).toMatchObject({ level: KycLevel.NONE, status: PartyStatus.ACTIVE, screening: [], transactionLimitUsd: "1000" });
    const small = await risk.client().scoreTransaction({ transactionId: id("t"), accountId: account, ...usd("900.00") });
    // (Other findings, such as the model another test activated, may hold it for review.)
    expect(small.decision).not.toBe(Decision.BLOCK);
    expect(small.reasons.filter((r) => r.code.startsWith("kyc."))).toEqual([]);
    const above = await risk.client().scoreTransaction({ transactionId: id("t"), accountId: account, ...usd("1500.00") });
    expect(above.decision).toBe(Decision.BLOCK);
    expect(above.reasons.find((r) => r.code === "kyc.transaction_limit")?.message).toContain("NONE");
    const raised = await risk.client(["operator"]).setPartyLevel({ partyId, level: KycLevel.BASIC });
    expect(raised.party).toMatchObject({ level: KycLevel.BASIC, transactionLimitUsd: "10000", dailyLimitUsd: "20000" });
    const now = await risk.client().scoreTransaction({ transactionId: id("t"), accountId: account, ...usd("1500.00") });
    expect(now.reasons.map((r) => r.code)).not.toContain("kyc.transaction_limit");
    expect(
      await codeOf(risk.client().createParty({ partyId: id("party"), name: "Other", type: PartyType.INDIVIDUAL, accountIds: [account] })),
    ).toBe(Code.AlreadyExists);
    expect((await risk.client(["auditor"]).getParty({ partyId })).party?.accountIds).toEqual([account]);
  });

  it("blocks a party that matches a sanctions list at onboarding, and every transaction of its accounts", async () => {
    const account = id("kyc-acct");
    const created = await risk.client().createParty({
      partyId: id("party"),
      name: "Vladimir Putin",
      type: PartyType.INDIVIDUAL,
      accountIds: [account],
      level: KycLevel.ENHANCED,
    });
    expect(created.party?.status).toBe(PartyStatus.BLOCKED);
    expect(created.party?.screening.map((c) => c.entryId)).toContain("90001");
    const scored = await risk.client().scoreTransaction({ transactionId: id("t"), accountId: account, ...usd("1.00") });
    expect(scored.decision).toBe(Decision.BLOCK);
    expect(scored.reasons.map((r) => r.code)).toContain("kyc.party_blocked");
  });
});

describe("ScreenParty", () => {
  it("matches the same list entry for every spelling, and not unrelated names", async () => {
    for (const name of ["Vladimir PUTIN", "putin vladimir", "Vladímir Pútin"]) {
      // Other runs may have loaded other lists into a shared database: look at this one's.
      const { candidates } = await risk.client(["auditor"]).screenParty({ name, type: PartyType.INDIVIDUAL });
      const ours = candidates.filter((c) => c.list === "TEST-SDN");
      expect(ours[0], name).toMatchObject({ entryId: "90001", matchedName: expect.stringMatching(/PUTIN/) });
      expect(ours[0]?.score, name).toBeGreaterThanOrEqual(0.88);
    }
    for (const name of ["John Smith", "Putnam Investments"]) {
      expect(
        (await risk.client().screenParty({ name })).candidates.filter((c) => c.entryId === "90001"),
        name,
      ).toEqual([]);
    }
  });
});
