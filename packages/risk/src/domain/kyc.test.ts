import { KycLevel } from "@qenex/gen/qenex/risk/v1/risk_pb.js";
import { describe, expect, it } from "vitest";
import { kycFindings } from "./kyc.js";

const party = (level: KycLevel, blocked = false) => ({ id: "p1", level, blocked });

describe("KYC limits", () => {
  it("allows what the level allows, up to and including the limit", () => {
    expect(kycFindings(party(KycLevel.NONE), 1000, 1000)).toEqual([]);
    expect(kycFindings(party(KycLevel.BASIC), 10_000, 20_000)).toEqual([]);
    expect(kycFindings(party(KycLevel.ENHANCED), 10_000_000, 50_000_000)).toEqual([]);
  });

  it("names the per-transaction and the daily limit exceeded", () => {
    expect(kycFindings(party(KycLevel.NONE), 1000.01, 1000.01).map((f) => f.code)).toEqual(["kyc.transaction_limit", "kyc.daily_limit"]);
    const daily = kycFindings(party(KycLevel.BASIC), 5000, 20_000.5);
    expect(daily.map((f) => f.code)).toEqual(["kyc.daily_limit"]);
    expect(daily[0]?.message).toContain("BASIC");
  });

  it("blocks every transaction of a party blocked at onboarding", () => {
    expect(kycFindings(party(KycLevel.ENHANCED, true), 1, 1).map((f) => f.code)).toEqual(["kyc.party_blocked"]);
  });
});
