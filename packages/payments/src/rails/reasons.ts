// Reason codes the simulated network gives, with their published titles: ISO 20022
// ExternalStatusReason1Code / ExternalReturnReason1Code, and NACHA R-codes.
import { returnCodes } from "../formats/nacha/return-codes.js";

/** ISO codes a receiving bank commonly rejects or returns a credit transfer with. */
export const isoReasonTitles: Readonly<Record<string, string>> = {
  AC01: "Incorrect account number",
  AC04: "Closed account number",
  AC06: "Blocked account",
  AM04: "Insufficient funds",
  AM05: "Duplication",
  BE04: "Missing creditor address",
  MD07: "End customer deceased",
};

/** ACH return codes a receiving DFI commonly uses for a credit entry. */
export const achReasonCodes = ["R01", "R02", "R03", "R04", "R16", "R23"] as const;

export function reasonTitle(code: string): string {
  if (code in returnCodes) return returnCodes[code as keyof typeof returnCodes];
  return isoReasonTitles[code] ?? "";
}
