// The feature set: what rules (CEL expressions) and the fraud model see of one transfer.
// The table below is the single definition: the CEL declarations, the TypeScript types
// and the README table are all derived from it.

/** CEL types a feature may have. CEL `int` is a JS bigint at evaluation time, `double` a number. */
export type FeatureCelType = "double" | "int" | "string" | "bool";

export type FeatureDefinition = {
  readonly type: FeatureCelType;
  /** Unit of the value, or "" when it has none. */
  readonly unit: string;
  readonly meaning: string;
};

/** Country risk levels: FATF black list → prohibited, grey list → high (see rules/country-risk.ts). */
export const countryRiskLevels = ["low", "medium", "high", "prohibited"] as const;
export type CountryRiskLevel = (typeof countryRiskLevels)[number];

/**
 * Every feature, its CEL type, unit and meaning. USD values are doubles: they feed scoring
 * thresholds only and are never booked — money itself stays bigint minor units / decimal strings.
 */
export const featureTable = {
  amount_usd: {
    type: "double",
    unit: "USD",
    meaning: "USD-equivalent of the amount (indicative rate; a double, for scoring only — never used as money)",
  },
  amount_minor: { type: "int", unit: "minor units of `currency`", meaning: "The amount exactly as booked" },
  currency: { type: "string", unit: "ISO 4217 code", meaning: "Currency of the amount" },
  amount_zscore: { type: "double", unit: "standard deviations", meaning: "How far amount_usd is from the account's past amounts" },
  hour_of_day: { type: "int", unit: "hour (UTC)", meaning: "Hour of the transfer, 0–23, UTC" },
  day_of_week: { type: "int", unit: "day (UTC)", meaning: "Day of the transfer, 0–6, 0 = Sunday, UTC" },
  seconds_since_last_transfer: {
    type: "int",
    unit: "s",
    meaning: "Seconds since the account's previous transfer, −1 when there is none",
  },
  counterparty_is_new: { type: "bool", unit: "", meaning: "The account has never transferred to this counterparty before" },
  count_1h: { type: "int", unit: "transfers", meaning: "The account's transfers in the last hour, this one included" },
  count_24h: { type: "int", unit: "transfers", meaning: "The account's transfers in the last 24 hours, this one included" },
  sum_usd_1h: { type: "double", unit: "USD", meaning: "Sum of the account's transfers in the last hour, this one included" },
  sum_usd_24h: { type: "double", unit: "USD", meaning: "Sum of the account's transfers in the last 24 hours, this one included" },
  sum_usd_just_below_ctr_24h: {
    type: "double",
    unit: "USD",
    meaning: "Sum of the account's transfers of 8,000 ≤ amount_usd < 10,000 in the last 24 hours, this one included",
  },
  count_just_below_ctr_24h: {
    type: "int",
    unit: "transfers",
    meaning: "Number of the account's transfers of 8,000 ≤ amount_usd < 10,000 in the last 24 hours, this one included",
  },
  account_age_days: { type: "int", unit: "days", meaning: "Days since the debit account was opened" },
  country: {
    type: "string",
    unit: "ISO 3166-1 alpha-2",
    meaning: "Country of the counterparty; ZZ when unknown (the CLDR code for an unknown region)",
  },
  country_risk: { type: "string", unit: "low | medium | high | prohibited", meaning: "Risk level of `country` (FATF lists)" },
  inbound_usd_24h: { type: "double", unit: "USD", meaning: "Money received by the debit account in the 24 hours before this transfer" },
  is_round_amount: { type: "bool", unit: "", meaning: "amount_usd is a whole multiple of 1,000 USD" },
} as const satisfies Record<string, FeatureDefinition>;

export type FeatureName = keyof typeof featureTable;
export const featureNames = Object.keys(featureTable) as readonly FeatureName[];

type IntFeatureName = { [K in FeatureName]: (typeof featureTable)[K]["type"] extends "int" ? K : never }[FeatureName];

type TsType<T extends FeatureCelType> = T extends "double" ? number : T extends "int" ? bigint : T extends "string" ? string : boolean;

/** A validated feature set, as CEL sees it: `int` features are bigints. */
export type FeatureSet = { readonly [K in FeatureName]: TsType<(typeof featureTable)[K]["type"]> };

/**
 * What `createFeatureSet` accepts: `int` features may be safe-integer numbers, except
 * `amount_minor`, which is money and must be a bigint.
 */
export type FeatureSetInput = {
  readonly [K in FeatureName]: K extends "amount_minor"
    ? bigint
    : (typeof featureTable)[K]["type"] extends "int"
      ? number | bigint
      : FeatureSet[K];
};

export type FeatureViolation = { readonly feature: string; readonly message: string };

export class FeatureSetError extends Error {
  override readonly name = "FeatureSetError";
  readonly violations: readonly FeatureViolation[];
  constructor(violations: readonly FeatureViolation[]) {
    super(`invalid feature set: ${violations.map((v) => `${v.feature}: ${v.message}`).join("; ")}`);
    this.violations = violations;
  }
}

const int64Max = 2n ** 63n - 1n;
const countMax = BigInt(Number.MAX_SAFE_INTEGER);

/** Inclusive bounds of `int` features (CEL ints are 64-bit). */
const intRanges: Record<IntFeatureName, readonly [min: bigint, max: bigint]> = {
  amount_minor: [0n, int64Max],
  hour_of_day: [0n, 23n],
  day_of_week: [0n, 6n],
  seconds_since_last_transfer: [-1n, countMax],
  count_1h: [1n, countMax],
  count_24h: [1n, countMax],
  count_just_below_ctr_24h: [0n, countMax],
  account_age_days: [0n, countMax],
};

/** Lower bounds of `double` features; a feature not listed (amount_zscore) only has to be finite. */
const doubleMins: Partial<Record<FeatureName, number>> = {
  amount_usd: 0,
  sum_usd_1h: 0,
  sum_usd_24h: 0,
  sum_usd_just_below_ctr_24h: 0,
  inbound_usd_24h: 0,
};

const stringPatterns: Partial<Record<FeatureName, RegExp>> = {
  currency: /^[A-Z]{3}$/,
  country: /^[A-Z]{2}$/,
};

const validated = new WeakSet<object>();

/**
 * Validates a feature set and returns it frozen, with `int` features as bigints. Every
 * feature must be present, no other key may be, and each value must have its type and range.
 */
export function createFeatureSet(input: FeatureSetInput): FeatureSet {
  const violations: FeatureViolation[] = [];
  const record = input as Readonly<Record<string, unknown>>;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(record)) {
    if (!Object.hasOwn(featureTable, key)) violations.push({ feature: key, message: "not a feature" });
  }
  for (const name of featureNames) {
    const result = checkFeature(name, record[name]);
    if (typeof result === "string") violations.push({ feature: name, message: result });
    else out[name] = result.value;
  }
  if (violations.length > 0) throw new FeatureSetError(violations);
  const features = Object.freeze(out) as FeatureSet;
  validated.add(features);
  return features;
}

/** True when the object came out of `createFeatureSet` (so it needs no second validation). */
export function isValidatedFeatureSet(value: object): value is FeatureSet {
  return validated.has(value);
}

function checkFeature(name: FeatureName, value: unknown): { value: unknown } | string {
  if (value === undefined) return "missing";
  const type = featureTable[name].type;
  switch (type) {
    case "bool":
      return typeof value === "boolean" ? { value } : "must be a boolean";
    case "string":
      return checkString(name, value);
    case "double":
      return checkDouble(name, value);
    case "int":
      return checkInt(name as IntFeatureName, value);
  }
}

function checkString(name: FeatureName, value: unknown): { value: string } | string {
  if (typeof value !== "string") return "must be a string";
  if (name === "country_risk") {
    return (countryRiskLevels as readonly string[]).includes(value) ? { value } : `must be one of ${countryRiskLevels.join(", ")}`;
  }
  const pattern = stringPatterns[name];
  if (pattern !== undefined && !pattern.test(value)) return `must match ${pattern.source}`;
  return { value };
}

function checkDouble(name: FeatureName, value: unknown): { value: number } | string {
  if (typeof value !== "number" || !Number.isFinite(value)) return "must be a finite number";
  const min = doubleMins[name];
  if (min !== undefined && value < min) return `must be at least ${min}`;
  return { value };
}

function checkInt(name: IntFeatureName, value: unknown): { value: bigint } | string {
  let int: bigint;
  if (typeof value === "bigint") int = value;
  else if (name !== "amount_minor" && typeof value === "number" && Number.isSafeInteger(value)) int = BigInt(value);
  else return name === "amount_minor" ? "must be a bigint (money is never a JS number)" : "must be a safe integer or a bigint";
  const [min, max] = intRanges[name];
  if (int < min || int > max) return `must be in [${min}, ${max}]`;
  return { value: int };
}
