import { describe, expect, it } from "vitest";
import { neutralFeatures } from "../rules/test-features.js";
import { createFeatureSet, FeatureSetError, featureNames, featureTable, isValidatedFeatureSet } from "./feature-set.js";

function violationsOf(input: unknown): readonly { feature: string; message: string }[] {
  try {
    createFeatureSet(input as Parameters<typeof createFeatureSet>[0]);
  } catch (error) {
    if (error instanceof FeatureSetError) return error.violations;
    throw error;
  }
  throw new Error("expected a FeatureSetError");
}

describe("feature set", () => {
  it("defines a type, unit and meaning for every feature", () => {
    expect(featureNames).toHaveLength(19);
    for (const name of featureNames) {
      expect(["double", "int", "string", "bool"]).toContain(featureTable[name].type);
      expect(featureTable[name].meaning.length).toBeGreaterThan(10);
    }
  });

  it("turns int features into bigints, as CEL ints, and freezes the result", () => {
    const features = createFeatureSet(neutralFeatures);
    expect(features.count_1h).toBe(1n);
    expect(features.hour_of_day).toBe(14n);
    expect(features.amount_minor).toBe(12050n);
    expect(features.amount_usd).toBe(120.5);
    expect(Object.isFrozen(features)).toBe(true);
    expect(isValidatedFeatureSet(features)).toBe(true);
    expect(isValidatedFeatureSet({ ...features })).toBe(false);
  });

  it("rejects a missing feature and an unknown key", () => {
    const { count_1h: _dropped, ...rest } = neutralFeatures;
    expect(violationsOf({ ...rest, count_2h: 3 })).toEqual([
      { feature: "count_2h", message: "not a feature" },
      { feature: "count_1h", message: "missing" },
    ]);
  });

  it("rejects money as a JS number", () => {
    expect(violationsOf({ ...neutralFeatures, amount_minor: 12050 })).toEqual([
      { feature: "amount_minor", message: "must be a bigint (money is never a JS number)" },
    ]);
  });

  it("rejects wrong types and values out of range, naming each", () => {
    const violations = violationsOf({
      ...neutralFeatures,
      hour_of_day: 24,
      day_of_week: 1.5,
      seconds_since_last_transfer: -2,
      amount_usd: Number.NaN,
      sum_usd_24h: -1,
      counterparty_is_new: "no",
      country: "fr",
      currency: "US",
      country_risk: "severe",
    });
    expect(violations.map((v) => v.feature)).toEqual([
      "amount_usd",
      "currency",
      "hour_of_day",
      "day_of_week",
      "seconds_since_last_transfer",
      "counterparty_is_new",
      "sum_usd_24h",
      "country",
      "country_risk",
    ]);
  });

  it("accepts the edges of the ranges", () => {
    const features = createFeatureSet({
      ...neutralFeatures,
      hour_of_day: 23,
      day_of_week: 0,
      seconds_since_last_transfer: -1,
      amount_zscore: -4.2,
    });
    expect(features.seconds_since_last_transfer).toBe(-1n);
  });
});
