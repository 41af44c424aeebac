// What each rail accepts, as data: currency, account scheme, text limits, character set.
import { type Charset, epcLatin, printableAscii, swiftX } from "./charset.js";

export const rails = ["SWIFT", "SEPA", "ACH", "FEDWIRE"] as const;
export type Rail = (typeof rails)[number];
export type RequestedRail = Rail | "AUTO";

export function isRail(value: unknown): value is Rail {
  return typeof value === "string" && (rails as readonly string[]).includes(value);
}

export interface RailProfile {
  /** The only currency the rail settles in; null means any ISO 4217 currency with minor units. */
  readonly currency: string | null;
  /** Which account identifiers both parties must have. */
  readonly accountScheme: "IBAN" | "ABA" | "ANY";
  /** Whether both parties must name their agent's BIC (SWIFT addresses messages by BIC). */
  readonly agentBicRequired: boolean;
  readonly charset: Charset;
  readonly nameLengthMax: number;
  readonly referenceLengthMax: number;
  /** References may not start or end with "/" nor contain "//" (MT T26, EPC identifier rule). */
  readonly referenceSlashRule: boolean;
  /** Longest account number when the account is not an IBAN. */
  readonly accountNumberLengthMax: number;
  /** Longest amount text including the decimal separator (MT 15d), or null. */
  readonly amountTextLengthMax: number | null;
}

/**
 * Defaults. SWIFT follows MT103 (names one 35x line, :20: 16x, SWIFT X, amount 15d), the stricter
 * of MT103 and CBPR+ pacs.008. SEPA follows the EPC rulebook (names Max70, EndToEndId Max35).
 * ACH follows NACHA entry detail (name 22, identification number 15, DFI account 17). FEDWIRE
 * follows Fedwire's pacs.008 (names Max140, EndToEndId Max35, account Max34).
 */
export const railProfiles: Readonly<Record<Rail, RailProfile>> = {
  SWIFT: {
    currency: null,
    accountScheme: "ANY",
    agentBicRequired: true,
    charset: swiftX,
    nameLengthMax: 35,
    referenceLengthMax: 16,
    referenceSlashRule: true,
    accountNumberLengthMax: 34,
    amountTextLengthMax: 15,
  },
  SEPA: {
    currency: "EUR",
    accountScheme: "IBAN",
    agentBicRequired: false,
    charset: epcLatin,
    nameLengthMax: 70,
    referenceLengthMax: 35,
    referenceSlashRule: true,
    accountNumberLengthMax: 34,
    amountTextLengthMax: null,
  },
  ACH: {
    currency: "USD",
    accountScheme: "ABA",
    agentBicRequired: false,
    charset: printableAscii,
    nameLengthMax: 22,
    referenceLengthMax: 15,
    referenceSlashRule: false,
    accountNumberLengthMax: 17,
    amountTextLengthMax: null,
  },
  FEDWIRE: {
    currency: "USD",
    accountScheme: "ABA",
    agentBicRequired: false,
    charset: printableAscii,
    nameLengthMax: 140,
    referenceLengthMax: 35,
    referenceSlashRule: false,
    accountNumberLengthMax: 34,
    amountTextLengthMax: null,
  },
};

/** Per-rail amount ceilings in the rail's currency's minor units; null means no ceiling. */
export interface AmountLimits {
  /** EPC EuroMax9Amount: 999,999,999.99 EUR. */
  readonly sepaAmountMinorMax: bigint;
  /** NACHA's 10-digit amount field: 99,999,999.99 USD. */
  readonly achAmountMinorMax: bigint;
  /** NACHA same-day ACH per-entry limit: 1,000,000.00 USD; applies to urgent ACH entries. */
  readonly achSameDayAmountMinorMax: bigint;
  readonly fedwireAmountMinorMax: bigint | null;
  readonly swiftAmountMinorMax: bigint | null;
}

export const defaultAmountLimits: AmountLimits = {
  sepaAmountMinorMax: 99_999_999_999n,
  achAmountMinorMax: 9_999_999_999n,
  achSameDayAmountMinorMax: 100_000_000n,
  fedwireAmountMinorMax: null,
  swiftAmountMinorMax: null,
};
