// validatePayment: every rule a rail imposes on an instruction, as one list of violations.
import { currencyDigits } from "@qenex/platform";
import { validateAbaRouting } from "./aba.js";
import { readAmount, validateAmount, validateCurrency } from "./amount.js";
import { validateBic } from "./bic.js";
import { validateText } from "./charset.js";
import { normalizeIban, validateIban } from "./iban.js";
import type { PaymentInstruction } from "./instruction.js";
import { type AmountLimits, defaultAmountLimits, isRail, type Rail, type RailProfile, railProfiles } from "./rails.js";
import { sepaCountries } from "./sepa-countries.js";
import { readText, type Violation, violation } from "./violation.js";

export interface ValidationConfig {
  readonly limits: AmountLimits;
  /** IBAN country codes SEPA reaches. */
  readonly sepaCountries: ReadonlySet<string>;
}

export const defaultValidationConfig: ValidationConfig = { limits: defaultAmountLimits, sepaCountries };

type Fields = Readonly<Record<string, unknown>>;

function asFields(value: unknown): Fields | undefined {
  return typeof value === "object" && value !== null ? (value as Fields) : undefined;
}

function validateIbanAccount(account: Fields, field: string, rail: Rail, config: ValidationConfig): Violation[] {
  if (railProfiles[rail].accountScheme === "ABA") {
    return [violation(field, "account-scheme", `${rail} needs an account number with an ABA routing number, not an IBAN`)];
  }
  const violations = validateIban(account.iban, `${field}.iban`);
  const country = normalizeIban(String(account.iban)).slice(0, 2);
  if (violations.length === 0 && rail === "SEPA" && !config.sepaCountries.has(country)) {
    violations.push(violation(`${field}.iban`, "sepa-zone", `${field}.iban is from ${country}, outside the SEPA zone`));
  }
  return violations;
}

function validateAbaAccount(account: Fields, field: string, rail: Rail, profile: RailProfile): Violation[] {
  if (profile.accountScheme === "IBAN") {
    return [violation(field, "account-scheme", `${rail} needs an IBAN, not an account number with an ABA routing number`)];
  }
  return [
    ...validateText(account.accountNumber, `${field}.accountNumber`, profile.accountNumberLengthMax, profile.charset),
    ...validateAbaRouting(account.abaRouting, `${field}.abaRouting`),
  ];
}

function validateAccount(value: unknown, field: string, rail: Rail, config: ValidationConfig): Violation[] {
  const account = asFields(value);
  if (account === undefined) return [violation(field, "required", `${field} is required`)];
  if (account.scheme === "IBAN") return validateIbanAccount(account, field, rail, config);
  if (account.scheme === "ABA") return validateAbaAccount(account, field, rail, railProfiles[rail]);
  return [violation(`${field}.scheme`, "account-scheme", `${field}.scheme must be "IBAN" or "ABA"`)];
}

function validateParty(value: unknown, field: string, rail: Rail, config: ValidationConfig): Violation[] {
  const party = asFields(value);
  if (party === undefined) return [violation(field, "required", `${field} is required`)];
  const profile = railProfiles[rail];
  // A bank paying from or to its own books (SEED.md's source_bic/destination_bic alone): SWIFT
  // names such a party by its BIC (MT103 :50A: / :59A:), with no name or account.
  if (rail === "SWIFT" && party.account === undefined && (party.name === undefined || party.name === "") && party.agentBic !== undefined) {
    return validateBic(party.agentBic, `${field}.agentBic`);
  }
  const violations = [
    ...validateText(party.name, `${field}.name`, profile.nameLengthMax, profile.charset),
    ...validateAccount(party.account, `${field}.account`, rail, config),
  ];
  if (party.agentBic !== undefined) {
    violations.push(...validateBic(party.agentBic, `${field}.agentBic`));
  } else if (profile.agentBicRequired) {
    violations.push(violation(`${field}.agentBic`, "required", `${rail} needs ${field}.agentBic`));
  }
  return violations;
}

function validateReference(value: unknown, profile: RailProfile): Violation[] {
  const violations = validateText(value, "reference", profile.referenceLengthMax, profile.charset);
  const read = readText(value, "reference");
  if (profile.referenceSlashRule && read.ok && (read.text.startsWith("/") || read.text.endsWith("/") || read.text.includes("//"))) {
    violations.push(violation("reference", "reference-slash", `reference must not start or end with "/" nor contain "//"`));
  }
  return violations;
}

function validateMoney(input: Fields, rail: Rail, config: ValidationConfig): Violation[] {
  const currencyViolations = validateCurrency(input.currency, rail, "currency");
  const currency = String(input.currency);
  if (currencyViolations.length === 0) {
    return validateAmount(input.amount, currency, rail, input.urgent === true, config.limits, "amount");
  }
  // A currency the rail refuses can still tell us whether the amount text is readable.
  const amount = currencyDigits(currency) === undefined ? undefined : readAmount(input.amount, currency, "amount");
  return amount === undefined || amount.ok ? currencyViolations : [...currencyViolations, amount.violation];
}

/** Checks an instruction against one rail's rules. Never throws; an empty list means valid. */
export function validatePayment(
  instruction: PaymentInstruction,
  rail: Rail,
  config: ValidationConfig = defaultValidationConfig,
): Violation[] {
  if (!isRail(rail)) return [violation("rail", "rail", `rail must be one of SWIFT, SEPA, ACH, FEDWIRE`)];
  const input = asFields(instruction);
  if (input === undefined) return [violation("instruction", "required", "instruction is required")];
  const violations = [
    ...validateParty(input.debtor, "debtor", rail, config),
    ...validateParty(input.creditor, "creditor", rail, config),
    ...validateMoney(input, rail, config),
    ...validateReference(input.reference, railProfiles[rail]),
  ];
  if (typeof input.urgent !== "boolean") violations.push(violation("urgent", "required", "urgent must be true or false"));
  return violations;
}
