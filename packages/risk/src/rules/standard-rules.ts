// The standard AML rule set, as data the lead seeds into PostgreSQL. Thresholds are US
// figures (USD-equivalent); an operator tunes them by editing the stored rule and bumping
// its version, never by changing this file in production.
import type { Rule } from "./rule.js";

const rule = (r: Omit<Rule, "enabled" | "version">): Rule => Object.freeze({ ...r, enabled: true, version: 1 });

export const standardRules: readonly Rule[] = Object.freeze([
  // Currency transaction report: US banks report transactions over 10,000 USD (31 CFR 1010.311).
  // Flagged at ≥ 10,000 (inclusive, the conservative side) and for every transfer, not only cash.
  // A reporting duty, not suspicion in itself: medium.
  rule({
    id: "aml.ctr",
    name: "Currency transaction report threshold",
    expression: "amount_usd >= 10000.0",
    severity: "medium",
    reasonCode: "CTR_THRESHOLD",
  }),
  // Structuring (31 U.S.C. 5324): splitting money into amounts just below the CTR threshold so
  // that no single transfer is reported. Three or more transfers in [8,000, 10,000) USD within
  // 24 hours whose sum reaches the threshold. With today's band the sum condition always holds
  // once three transfers are in it; it stays so the rule keeps its meaning if the band is widened.
  // Deliberate evasion: high.
  rule({
    id: "aml.structuring",
    name: "Structuring below the CTR threshold",
    expression: "count_just_below_ctr_24h >= 3 && sum_usd_just_below_ctr_24h >= 10000.0",
    severity: "high",
    reasonCode: "STRUCTURING",
  }),
  // Velocity, count: ten or more transfers from one account in an hour is far above normal
  // use and typical of account takeover, mule activity or scripted layering. Medium.
  rule({
    id: "aml.velocity_count_1h",
    name: "Many transfers in one hour",
    expression: "count_1h >= 10",
    severity: "medium",
    reasonCode: "VELOCITY_COUNT_1H",
  }),
  // Velocity, value: 50,000 USD or more moved out of one account within 24 hours. Medium.
  rule({
    id: "aml.velocity_sum_24h",
    name: "High value moved in 24 hours",
    expression: "sum_usd_24h >= 50000.0",
    severity: "medium",
    reasonCode: "VELOCITY_SUM_24H",
  }),
  // A young account (under 30 days) moving 5,000 USD or more: mule and bust-out accounts are
  // opened to move money quickly, before monitoring has a history to compare with. Medium.
  rule({
    id: "aml.new_account_high_value",
    name: "New account moving high value",
    expression: "account_age_days < 30 && amount_usd >= 5000.0",
    severity: "medium",
    reasonCode: "NEW_ACCOUNT_HIGH_VALUE",
  }),
  // Counterparty in a FATF grey-list jurisdiction (increased monitoring): enhanced due
  // diligence is expected. High.
  rule({
    id: "aml.high_risk_jurisdiction",
    name: "Counterparty in a high-risk jurisdiction",
    expression: 'country_risk == "high"',
    severity: "high",
    reasonCode: "HIGH_RISK_JURISDICTION",
  }),
  // Counterparty in a FATF black-list jurisdiction (call for action: countermeasures, in
  // practice no business). Critical: the transfer should be stopped and reviewed.
  rule({
    id: "aml.prohibited_jurisdiction",
    name: "Counterparty in a prohibited jurisdiction",
    expression: 'country_risk == "prohibited"',
    severity: "critical",
    reasonCode: "PROHIBITED_JURISDICTION",
  }),
  // Round amounts (whole thousands of USD) of 5,000 or more: legitimate payments for goods and
  // services rarely come out round; laundered cash often does. Weak on its own: low.
  rule({
    id: "aml.round_amount",
    name: "Large round amount",
    expression: "is_round_amount && amount_usd >= 5000.0",
    severity: "low",
    reasonCode: "ROUND_AMOUNT",
  }),
  // Rapid in-and-out (pass-through): 5,000 USD or more received in the last 24 hours and at
  // least 80 % of it sent on at once — the account is a conduit, a classic layering pattern. High.
  rule({
    id: "aml.rapid_in_out",
    name: "Rapid movement of funds in and out",
    expression: "inbound_usd_24h >= 5000.0 && amount_usd >= 0.8 * inbound_usd_24h",
    severity: "high",
    reasonCode: "RAPID_IN_OUT",
  }),
]);
