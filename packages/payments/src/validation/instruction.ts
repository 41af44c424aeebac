// The payment instruction the Payments service validates and routes.
import type { RequestedRail } from "./rails.js";

/** An account is an IBAN, or a US account number with its bank's ABA routing number. */
export type Account =
  | { readonly scheme: "IBAN"; readonly iban: string }
  | { readonly scheme: "ABA"; readonly accountNumber: string; readonly abaRouting: string };

export interface Party {
  /** Empty, with no account, only for a bank acting for itself on SWIFT, named by agentBic. */
  readonly name: string;
  readonly account?: Account;
  /** BIC of the party's bank; required on SWIFT, optional elsewhere, checked when present. */
  readonly agentBic?: string;
}

export interface PaymentInstruction {
  readonly debtor: Party;
  readonly creditor: Party;
  /** Decimal string in the currency's minor-unit digits: "1250.00". */
  readonly amount: string;
  /** ISO 4217 code. */
  readonly currency: string;
  /** The debtor's end-to-end reference, carried to the creditor. */
  readonly reference: string;
  /** Must settle today: urgent ACH is same-day ACH; AUTO routes urgent USD to Fedwire. */
  readonly urgent: boolean;
  readonly requestedRail: RequestedRail;
}
