// KYC levels and what each allows, in USD-equivalent (amount_usd, sum_usd_24h). A party's
// transaction above its level's limit is blocked with that reason; raising the level (a new
// verification) raises the limits.
import { Category, KycLevel, Severity } from "@qenex/gen/qenex/risk/v1/risk_pb.js";
import type { Finding } from "./decide.js";

export type KycLimits = { transactionUsd: number | undefined; dailyUsd: number | undefined };

/** undefined: no limit. */
export const kycLimits: Readonly<Record<KycLevel, KycLimits>> = {
  [KycLevel.UNSPECIFIED]: { transactionUsd: 1000, dailyUsd: 1000 },
  [KycLevel.NONE]: { transactionUsd: 1000, dailyUsd: 1000 },
  [KycLevel.BASIC]: { transactionUsd: 10_000, dailyUsd: 20_000 },
  [KycLevel.VERIFIED]: { transactionUsd: 100_000, dailyUsd: 250_000 },
  [KycLevel.ENHANCED]: { transactionUsd: undefined, dailyUsd: undefined },
};

export type PartyForScoring = { id: string; level: KycLevel; blocked: boolean };

/** Findings for a transaction of a party's account: a blocked party, or a limit exceeded. */
export function kycFindings(party: PartyForScoring, amountUsd: number, sumUsd24h: number): Finding[] {
  const findings: Finding[] = [];
  const level = KycLevel[party.level] ?? "UNSPECIFIED";
  if (party.blocked) {
    findings.push({
      category: Category.SANCTIONS,
      code: "kyc.party_blocked",
      message: `party ${party.id} matched a sanctions list at onboarding`,
      severity: Severity.CRITICAL,
    });
  }
  const limits = kycLimits[party.level];
  if (limits.transactionUsd !== undefined && amountUsd > limits.transactionUsd) {
    findings.push({
      category: Category.AML,
      code: "kyc.transaction_limit",
      message: `${amountUsd.toFixed(2)} USD is above the ${limits.transactionUsd} USD per-transaction limit of KYC level ${level} (party ${party.id})`,
      severity: Severity.CRITICAL,
    });
  }
  if (limits.dailyUsd !== undefined && sumUsd24h > limits.dailyUsd) {
    findings.push({
      category: Category.AML,
      code: "kyc.daily_limit",
      message: `${sumUsd24h.toFixed(2)} USD in 24 hours is above the ${limits.dailyUsd} USD daily limit of KYC level ${level} (party ${party.id})`,
      severity: Severity.CRITICAL,
    });
  }
  return findings;
}
