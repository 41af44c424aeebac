// The payment as the service stores and processes it: plain data, money in minor units.
import type { Rail } from "../validation/rails.js";

export type PaymentState =
  | "RECEIVED"
  | "VALIDATED"
  | "HELD_FOR_REVIEW"
  | "SCREENED"
  | "FUNDS_RESERVED"
  | "SUBMITTED"
  | "ACCEPTED"
  | "SETTLED"
  | "REJECTED"
  | "RETURNED"
  | "CANCELLED";

/** ISO20022 is the default; MT103 (SWIFT) and FEDWIRE_TAGS (Fedwire) are for legacy traffic; ACH is NACHA. */
export type MessageFormat = "ISO20022" | "MT103" | "NACHA" | "FEDWIRE_TAGS";

export type Charges = "SHA" | "OUR" | "BEN";

/** A debtor or creditor. Empty strings mean absent. */
export interface PartyRecord {
  readonly name: string;
  readonly iban: string;
  readonly accountNumber: string;
  /** ABA routing number of the party's bank (US rails). */
  readonly routingNumber: string;
  /** BIC of the party's bank. */
  readonly bic: string;
  /** ISO 3166-1 alpha-2. */
  readonly country: string;
}

export interface PaymentRecord {
  /** Letters, digits, '_' and '-', at most 40 characters. */
  readonly paymentId: string;
  readonly rail: Rail;
  readonly railReason: string;
  readonly state: PaymentState;
  readonly stateReason: string;
  /** The ledger account debited. */
  readonly debtorAccount: string;
  readonly amountMinor: bigint;
  readonly currency: string;
  /** The end-to-end reference, carried to the creditor. */
  readonly reference: string;
  readonly debtor: PartyRecord;
  readonly creditor: PartyRecord;
  readonly urgent: boolean;
  readonly charges: Charges;
  readonly messageFormat: MessageFormat;
  /** UUIDv4, lower case, carried in the message (pacs.008 UETR, MT103 {121:}). */
  readonly uetr: string;
  readonly createdAt: Date;
}
