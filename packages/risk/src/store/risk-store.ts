// The risk service's SQL: models, rules, scores (one per transaction) and alerts.
import { randomUUID } from "node:crypto";
import type { Db } from "@qenex/platform";

export type StoredModel = {
  id: string;
  name: string;
  features: string[];
  trees: number;
  sampleSize: number;
  contamination: number;
  threshold: number;
  seed: number;
  trainingRows: number;
  model: string;
  active: boolean;
  createdAt: Date;
  activatedAt: Date | undefined;
};

export type StoredRule = {
  id: string;
  name: string;
  expression: string;
  severity: number;
  reasonCode: string;
  enabled: boolean;
  version: number;
  updatedAt: Date;
};

export type StoredAlert = {
  id: string;
  transactionId: string;
  accountId: string;
  decision: number;
  score: number;
  reasons: string;
  status: number;
  disposition: number;
  note: string;
  resolvedBy: string;
  createdAt: Date;
  resolvedAt: Date | undefined;
};

type ModelRow = {
  id: string;
  name: string;
  features: string;
  trees: number;
  sample_size: number;
  contamination: number;
  threshold: number;
  seed: string;
  training_rows: string;
  model: string;
  active: boolean;
  created_at: Date;
  activated_at: Date | null;
};

const modelColumns =
  "id, name, features, trees, sample_size, contamination, threshold, seed, training_rows, model, active, created_at, activated_at";

const toModel = (r: ModelRow): StoredModel => ({
  id: r.id,
  name: r.name,
  features: JSON.parse(r.features) as string[],
  trees: r.trees,
  sampleSize: r.sample_size,
  contamination: r.contamination,
  threshold: r.threshold,
  seed: Number(r.seed),
  trainingRows: Number(r.training_rows),
  model: r.model,
  active: r.active,
  createdAt: r.created_at,
  activatedAt: r.activated_at ?? undefined,
});

type RuleRow = {
  id: string;
  name: string;
  expression: string;
  severity: number;
  reason_code: string;
  enabled: boolean;
  version: string;
  updated_at: Date;
};
const ruleColumns = "id, name, expression, severity, reason_code, enabled, version, updated_at";
const toRule = (r: RuleRow): StoredRule => ({
  id: r.id,
  name: r.name,
  expression: r.expression,
  severity: r.severity,
  reasonCode: r.reason_code,
  enabled: r.enabled,
  version: Number(r.version),
  updatedAt: r.updated_at,
});

type AlertRow = {
  id: string;
  transaction_id: string;
  account_id: string;
  decision: number;
  score: number;
  reasons: string;
  status: number;
  disposition: number;
  note: string;
  resolved_by: string;
  created_at: Date;
  resolved_at: Date | null;
};
const alertColumns =
  "id, transaction_id, account_id, decision, score, reasons, status, disposition, note, resolved_by, created_at, resolved_at";
const toAlert = (r: AlertRow): StoredAlert => ({
  id: r.id,
  transactionId: r.transaction_id,
  accountId: r.account_id,
  decision: r.decision,
  score: r.score,
  reasons: r.reasons,
  status: r.status,
  disposition: r.disposition,
  note: r.note,
  resolvedBy: r.resolved_by,
  createdAt: r.created_at,
  resolvedAt: r.resolved_at ?? undefined,
});

export const alertOpen = 1;

/** A transaction's result to store, and its alert when the decision opens one (its id is in the result). */
export type ScoreToSave = {
  transactionId: string;
  accountId: string;
  result: string;
  alert: { id: string; decision: number; score: number; reasons: string } | undefined;
};
/** Most scores saveScores stores in one statement: bounds its parameters (results are a few kB each). */
export const saveScoresMax = 1000;
export const alertResolved = 2;

export type RiskStore = ReturnType<typeof createRiskStore>;

export function createRiskStore(db: Db) {
  return {
    async insertModel(m: Omit<StoredModel, "id" | "active" | "createdAt" | "activatedAt">): Promise<StoredModel> {
      const { rows } = await db.query<ModelRow>(
        `INSERT INTO risk_models (id, name, features, trees, sample_size, contamination, threshold, seed, training_rows, model)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING ${modelColumns}`,
        [
          randomUUID(),
          m.name,
          JSON.stringify(m.features),
          m.trees,
          m.sampleSize,
          m.contamination,
          m.threshold,
          m.seed,
          m.trainingRows,
          m.model,
        ],
      );
      return toModel(rows[0] as ModelRow);
    },

    async getModel(id: string): Promise<StoredModel | undefined> {
      const { rows } = await db.query<ModelRow>(`SELECT ${modelColumns} FROM risk_models WHERE id = $1`, [id]);
      return rows[0] && toModel(rows[0]);
    },

    async activeModel(): Promise<StoredModel | undefined> {
      const { rows } = await db.query<ModelRow>(`SELECT ${modelColumns} FROM risk_models WHERE active`);
      return rows[0] && toModel(rows[0]);
    },

    /** Makes one model the active one, in one transaction, so there is never zero or two. */
    activateModel: (id: string) =>
      db.transaction(async (tx) => {
        const { rows } = await tx.query<ModelRow>(`SELECT ${modelColumns} FROM risk_models WHERE id = $1 FOR UPDATE`, [id]);
        if (!rows[0]) return undefined;
        await tx.query("UPDATE risk_models SET active = false WHERE active AND id <> $1", [id]);
        const updated = await tx.query<ModelRow>(
          `UPDATE risk_models SET active = true, activated_at = COALESCE(CASE WHEN active THEN activated_at END, now())
            WHERE id = $1 RETURNING ${modelColumns}`,
          [id],
        );
        return toModel(updated.rows[0] as ModelRow);
      }),

    async listModels(afterCreatedId: string, limit: number): Promise<StoredModel[]> {
      const { rows } = await db.query<ModelRow>(`SELECT ${modelColumns} FROM risk_models WHERE id > $1 ORDER BY id LIMIT $2`, [
        afterCreatedId,
        limit,
      ]);
      return rows.map(toModel);
    },

    /** Creates or replaces a rule; its version goes up by one on every change. */
    async putRule(r: Omit<StoredRule, "version" | "updatedAt">): Promise<StoredRule> {
      const { rows } = await db.query<RuleRow>(
        `INSERT INTO risk_rules (id, name, expression, severity, reason_code, enabled, version)
         VALUES ($1, $2, $3, $4, $5, $6, 1)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, expression = excluded.expression, severity = excluded.severity,
           reason_code = excluded.reason_code, enabled = excluded.enabled, version = risk_rules.version + 1, updated_at = now()
         RETURNING ${ruleColumns}`,
        [r.id, r.name, r.expression, r.severity, r.reasonCode, r.enabled],
      );
      return toRule(rows[0] as RuleRow);
    },

    /** Inserts rules that do not exist yet (the shipped set at first start); never overwrites an edit. */
    async seedRules(rules: readonly Omit<StoredRule, "version" | "updatedAt">[]): Promise<void> {
      for (const r of rules) {
        await db.query(
          `INSERT INTO risk_rules (id, name, expression, severity, reason_code, enabled, version)
           VALUES ($1, $2, $3, $4, $5, $6, 1) ON CONFLICT (id) DO NOTHING`,
          [r.id, r.name, r.expression, r.severity, r.reasonCode, r.enabled],
        );
      }
    },

    async listRules(includeDisabled: boolean): Promise<StoredRule[]> {
      const { rows } = await db.query<RuleRow>(`SELECT ${ruleColumns} FROM risk_rules WHERE enabled OR $1 ORDER BY id`, [includeDisabled]);
      return rows.map(toRule);
    },

    /** A rule set's fingerprint: changes whenever any rule does. */
    async rulesVersion(): Promise<string> {
      const { rows } = await db.query<{ v: string | null }>(
        "SELECT COUNT(*) || ':' || COALESCE(SUM(version), 0) || ':' || COALESCE(MAX(updated_at)::text, '') AS v FROM risk_rules",
      );
      return rows[0]?.v ?? "";
    },

    async getScore(transactionId: string): Promise<string | undefined> {
      const { rows } = await db.query<{ result: string }>("SELECT result FROM risk_scores WHERE transaction_id = $1", [transactionId]);
      return rows[0]?.result;
    },

    /**
     * Stores one transaction's result and, when it asks for one, its alert, in one transaction
     * (for one row, cheaper than saveScores' statement). False when it was stored before.
     */
    saveScore: (score: ScoreToSave) =>
      db.transaction(async (tx) => {
        const inserted = await tx.query(
          "INSERT INTO risk_scores (transaction_id, account_id, result) VALUES ($1, $2, $3) ON CONFLICT (transaction_id) DO NOTHING",
          [score.transactionId, score.accountId, score.result],
        );
        if (inserted.rowCount === 0) return false;
        if (score.alert) {
          await tx.query(
            "INSERT INTO risk_alerts (id, transaction_id, account_id, decision, score, reasons, status) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            [score.alert.id, score.transactionId, score.accountId, score.alert.decision, score.alert.score, score.alert.reasons, alertOpen],
          );
        }
        return true;
      }),

    /** Which of these transactions have a stored result, in one statement. */
    async scoredIds(transactionIds: readonly string[]): Promise<Set<string>> {
      const { rows } = await db.query<{ transaction_id: string }>(
        "SELECT transaction_id FROM risk_scores WHERE transaction_id = ANY($1::text[])",
        [transactionIds],
      );
      return new Set(rows.map((r) => r.transaction_id));
    },

    /**
     * Stores transactions' results and the alerts they ask for in one statement (so atomically):
     * a transaction stored before, here or by another replica, keeps its first result and gets
     * no second alert. The ids of the transactions stored now.
     */
    async saveScores(scores: readonly ScoreToSave[]): Promise<Set<string>> {
      if (scores.length > saveScoresMax) throw new RangeError(`at most ${saveScoresMax} scores per statement, not ${scores.length}`);
      if (scores.length === 0) return new Set();
      if (new Set(scores.map((s) => s.transactionId)).size !== scores.length) throw new RangeError("a transaction is given twice");
      const alerted = scores.filter((s) => s.alert !== undefined);
      const { rows } = await db.query<{ transaction_id: string }>(
        `WITH saved AS (
           INSERT INTO risk_scores (transaction_id, account_id, result)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
           ON CONFLICT (transaction_id) DO NOTHING
           RETURNING transaction_id
         ), alerted AS (
           INSERT INTO risk_alerts (id, transaction_id, account_id, decision, score, reasons, status)
           SELECT a.id, a.transaction_id, a.account_id, a.decision, a.score, a.reasons, $10
             FROM unnest($4::text[], $5::text[], $6::text[], $7::integer[], $8::double precision[], $9::text[])
                    AS a (id, transaction_id, account_id, decision, score, reasons)
             JOIN saved USING (transaction_id)
         )
         SELECT transaction_id FROM saved`,
        [
          scores.map((s) => s.transactionId),
          scores.map((s) => s.accountId),
          scores.map((s) => s.result),
          alerted.map((s) => s.alert?.id),
          alerted.map((s) => s.transactionId),
          alerted.map((s) => s.accountId),
          alerted.map((s) => s.alert?.decision),
          alerted.map((s) => s.alert?.score),
          alerted.map((s) => s.alert?.reasons),
          alertOpen,
        ],
      );
      return new Set(rows.map((r) => r.transaction_id));
    },

    async getAlert(id: string): Promise<StoredAlert | undefined> {
      const { rows } = await db.query<AlertRow>(`SELECT ${alertColumns} FROM risk_alerts WHERE id = $1`, [id]);
      return rows[0] && toAlert(rows[0]);
    },

    async listAlerts(filter: { status: number; accountId: string; afterId: string; limit: number }): Promise<StoredAlert[]> {
      const { rows } = await db.query<AlertRow>(
        `SELECT ${alertColumns} FROM risk_alerts
          WHERE ($1 = 0 OR status = $1) AND ($2 = '' OR account_id = $2) AND id > $3 ORDER BY id LIMIT $4`,
        [filter.status, filter.accountId, filter.afterId, filter.limit],
      );
      return rows.map(toAlert);
    },

    /** Resolves an open alert; `undefined` when it does not exist, the alert as it is when already resolved. */
    resolveAlert: (id: string, r: { disposition: number; note: string; resolvedBy: string }) =>
      db.transaction(async (tx) => {
        const { rows } = await tx.query<AlertRow>(`SELECT ${alertColumns} FROM risk_alerts WHERE id = $1 FOR UPDATE`, [id]);
        const current = rows[0];
        if (!current) return undefined;
        if (current.status !== alertOpen) return { alert: toAlert(current), changed: false };
        const updated = await tx.query<AlertRow>(
          `UPDATE risk_alerts SET status = $2, disposition = $3, note = $4, resolved_by = $5, resolved_at = now()
            WHERE id = $1 RETURNING ${alertColumns}`,
          [id, alertResolved, r.disposition, r.note, r.resolvedBy],
        );
        return { alert: toAlert(updated.rows[0] as AlertRow), changed: true };
      }),
  };
}
