// Feature sets for tests: a neutral baseline that no standard rule fires on, and a helper to
// change only what a test is about.
import { createFeatureSet, type FeatureSet, type FeatureSetInput } from "../features/feature-set.js";

export const neutralFeatures: FeatureSetInput = {
  amount_usd: 120.5,
  amount_minor: 12050n,
  currency: "USD",
  amount_zscore: 0.1,
  hour_of_day: 14,
  day_of_week: 2,
  seconds_since_last_transfer: 86_400,
  counterparty_is_new: false,
  count_1h: 1,
  count_24h: 2,
  sum_usd_1h: 120.5,
  sum_usd_24h: 300,
  sum_usd_just_below_ctr_24h: 0,
  count_just_below_ctr_24h: 0,
  account_age_days: 400,
  country: "FR",
  country_risk: "low",
  inbound_usd_24h: 0,
  is_round_amount: false,
};

export function featuresWith(overrides: Partial<FeatureSetInput> = {}): FeatureSet {
  return createFeatureSet({ ...neutralFeatures, ...overrides });
}
