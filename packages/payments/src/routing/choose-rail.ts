// chooseRail: keeps a named rail or picks one for AUTO, and says why (the service records it).
import { formatMoney } from "@qenex/platform";
import { readAmount } from "../validation/amount.js";
import { normalizeIban } from "../validation/iban.js";
import type { Account, PaymentInstruction } from "../validation/instruction.js";
import { isRail, type Rail } from "../validation/rails.js";
import { defaultValidationConfig, type ValidationConfig, validatePayment } from "../validation/validate-payment.js";
import { type Violation, violation } from "../validation/violation.js";

export interface RoutingConfig extends ValidationConfig {
  /** AUTO sends USD above this amount (USD cents) to Fedwire; exactly this amount stays on ACH. */
  readonly fedwireThresholdAmountMinor: bigint;
}

export const defaultRoutingConfig: RoutingConfig = { ...defaultValidationConfig, fedwireThresholdAmountMinor: 100_000_000n };

export interface RailChoice {
  /** The rail chosen; null only when no rail could be chosen at all. */
  readonly rail: Rail | null;
  readonly reason: string;
  /** The chosen rail's violations; the instruction may be sent only when this is empty. */
  readonly violations: readonly Violation[];
}

function ibanCountry(account: Account | undefined): string | undefined {
  return account?.scheme === "IBAN" && typeof account.iban === "string" ? normalizeIban(account.iban).slice(0, 2) : undefined;
}

/** The rail AUTO picks, or a violation when the amount it depends on is unreadable. */
function autoRail(instruction: PaymentInstruction, config: RoutingConfig): { rail: Rail; reason: string } | { violation: Violation } {
  const { debtor, creditor, currency } = instruction;
  const debtorCountry = ibanCountry(debtor?.account);
  const creditorCountry = ibanCountry(creditor?.account);
  if (currency === "EUR" && debtorCountry !== undefined && creditorCountry !== undefined) {
    if (config.sepaCountries.has(debtorCountry) && config.sepaCountries.has(creditorCountry)) {
      return { rail: "SEPA", reason: `AUTO: EUR between SEPA-zone IBANs (${debtorCountry} to ${creditorCountry})` };
    }
  }
  if (currency === "USD" && debtor?.account?.scheme === "ABA" && creditor?.account?.scheme === "ABA") {
    if (instruction.urgent === true) return { rail: "FEDWIRE", reason: "AUTO: urgent USD between ABA-routed accounts" };
    const amount = readAmount(instruction.amount, "USD", "amount");
    if (!amount.ok) return { violation: amount.violation };
    const threshold = `${formatMoney(config.fedwireThresholdAmountMinor, "USD")} USD`;
    if (amount.amountMinor > config.fedwireThresholdAmountMinor) {
      return { rail: "FEDWIRE", reason: `AUTO: USD between ABA-routed accounts above the Fedwire threshold of ${threshold}` };
    }
    return { rail: "ACH", reason: `AUTO: USD between ABA-routed accounts, not urgent, at most ${threshold}` };
  }
  return { rail: "SWIFT", reason: "AUTO: neither EUR between SEPA-zone IBANs nor USD between ABA-routed accounts, so SWIFT" };
}

/**
 * Chooses the rail for an instruction and validates it against that rail. A named rail is kept,
 * never switched; AUTO picks SEPA, ACH, FEDWIRE or SWIFT by currency, accounts, urgency and amount.
 */
export function chooseRail(instruction: PaymentInstruction, config: RoutingConfig = defaultRoutingConfig): RailChoice {
  const requested: unknown = typeof instruction === "object" && instruction !== null ? instruction.requestedRail : undefined;
  if (isRail(requested)) {
    return { rail: requested, reason: `requested rail ${requested}`, violations: validatePayment(instruction, requested, config) };
  }
  if (requested !== "AUTO") {
    const message = "requestedRail must be one of SWIFT, SEPA, ACH, FEDWIRE, AUTO";
    return { rail: null, reason: "no rail: requestedRail is not a rail", violations: [violation("requestedRail", "rail", message)] };
  }
  const auto = autoRail(instruction, config);
  if ("violation" in auto) {
    return { rail: null, reason: "no rail: the amount is needed to choose between ACH and Fedwire", violations: [auto.violation] };
  }
  return { ...auto, violations: validatePayment(instruction, auto.rail, config) };
}
