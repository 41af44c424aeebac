// Reading a CreatePayment request into the payment to store: parties, rail (named or AUTO,
// with the reason), message format, debtor account, and the rail's message built once as a
// dry run, so every rule of the rail and its scheme refuses bad input before anything moves.
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { Code } from "@connectrpc/connect";
import { type CreatePaymentRequest, MessageFormat, type Party } from "@qenex/gen/qenex/payments/v1/payments_pb.js";
import { DomainError, formatMoney, type PaymentsConfig, parseMoney } from "@qenex/platform";
import type { Charges, MessageFormat as FormatName, PartyRecord } from "../domain/payment.js";
import { buildAchFile, buildCreditTransfer, isMessageRefusal } from "../rails/messages.js";
import { chooseRail, defaultRoutingConfig } from "../routing/choose-rail.js";
import type { NewPayment } from "../store/payment-store.js";
import type { Account, PaymentInstruction } from "../validation/instruction.js";
import type { Rail as RailName, RequestedRail } from "../validation/rails.js";

/** The ledger's account id pattern. */
export const ledgerAccountId = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function badInput(message: string, field?: string): DomainError {
  return new DomainError(Code.InvalidArgument, message, field);
}

const railNames: Readonly<Record<string, RequestedRail>> = {
  "": "AUTO",
  auto: "AUTO",
  swift: "SWIFT",
  sepa: "SEPA",
  ach: "ACH",
  fedwire: "FEDWIRE",
};
function partyRecord(party: Party | undefined, bic: string): PartyRecord {
  const iban = (party?.iban ?? "").replace(/\s+/g, "").toUpperCase();
  const country = party?.country || iban.slice(0, 2) || bic.slice(4, 6);
  return {
    name: party?.name ?? "",
    iban,
    accountNumber: party?.accountNumber ?? "",
    routingNumber: party?.routingNumber ?? "",
    bic,
    country,
  };
}

function accountOf(party: PartyRecord): Account | undefined {
  if (party.iban) return { scheme: "IBAN", iban: party.iban };
  if (party.accountNumber || party.routingNumber)
    return { scheme: "ABA", accountNumber: party.accountNumber, abaRouting: party.routingNumber };
  return undefined;
}

function bicOf(partyBic: string | undefined, seedBic: string, field: string): string {
  const party = partyBic ?? "";
  if (party !== "" && seedBic !== "" && party !== seedBic) {
    throw badInput(
      `${field}.bic (${party}) and ${field === "debtor" ? "source_bic" : "destination_bic"} (${seedBic}) differ`,
      `${field}.bic`,
    );
  }
  return party || seedBic;
}

function messageFormatFor(rail: RailName, requested: FormatName | undefined): FormatName {
  const allowed: Readonly<Record<RailName, readonly FormatName[]>> = {
    SWIFT: ["ISO20022", "MT103"],
    SEPA: ["ISO20022"],
    ACH: ["NACHA"],
    FEDWIRE: ["ISO20022", "FEDWIRE_TAGS"],
  };
  const formats = allowed[rail];
  if (requested === undefined) return formats[0] ?? "ISO20022";
  if (!formats.includes(requested)) {
    throw badInput(`${rail} sends ${formats.join(" or ")}, not ${requested}`, "message_format");
  }
  return requested;
}

function generatedPaymentId(): string {
  return `pay_${randomBytes(15)
    .toString("base64url")
    .replace(/[^A-Za-z0-9]/g, "x")}`;
}

function instructionOf(
  req: CreatePaymentRequest,
  debtor: PartyRecord,
  creditor: PartyRecord,
  amountMinor: bigint,
  requestedRail: RequestedRail,
): PaymentInstruction {
  const party = (record: PartyRecord) => {
    const account = accountOf(record);
    return { name: record.name, ...(account ? { account } : {}), ...(record.bic ? { agentBic: record.bic } : {}) };
  };
  return {
    debtor: party(debtor),
    creditor: party(creditor),
    amount: formatMoney(amountMinor, req.currency),
    currency: req.currency,
    reference: req.reference,
    urgent: req.urgent,
    requestedRail,
  };
}

/** Builds the rail's message and throws it away: a refusal by the format or scheme is a 400. */
function dryBuild(fields: Omit<NewPayment, "requestHash" | "createdBy">, config: PaymentsConfig): void {
  try {
    const draft = { ...fields, state: "VALIDATED", stateReason: "", createdAt: new Date() } as const;
    if (draft.rail === "ACH")
      buildAchFile([draft], { now: draft.createdAt, fileIdModifier: "A", originRouting: config.abaRouting, originName: "QENEX" });
    else buildCreditTransfer(draft, { now: draft.createdAt, ourBic: config.bic });
  } catch (error) {
    if (isMessageRefusal(error)) throw badInput(`payment refused for ${fields.rail}: ${error.message}`);
    throw error;
  }
}

/**
 * The payment a request describes, and the hash of what a retry must repeat (everything the
 * caller chose, not the generated id or UETR). Throws InvalidArgument naming the field.
 */
export function readPaymentRequest(
  req: CreatePaymentRequest,
  config: PaymentsConfig,
): { fields: Omit<NewPayment, "requestHash" | "createdBy">; requestHash: string } {
  const requestedRail = railNames[req.rail.toLowerCase()];
  if (requestedRail === undefined) throw badInput(`rail must be swift, sepa, ach, fedwire or auto, not "${req.rail}"`, "rail");
  const amount = parseMoney(req.amount, req.currency);
  if (!amount.ok) throw badInput(`amount: ${amount.reason}`, "amount");
  if (amount.amountMinor <= 0n) throw badInput("amount must be above zero", "amount");
  const debtor = partyRecord(req.debtor, bicOf(req.debtor?.bic, req.sourceBic, "debtor"));
  const creditor = partyRecord(req.creditor, bicOf(req.creditor?.bic, req.destinationBic, "creditor"));
  const instruction = instructionOf(req, debtor, creditor, amount.amountMinor, requestedRail);
  const choice = chooseRail(instruction, { ...defaultRoutingConfig, fedwireThresholdAmountMinor: config.fedwireThresholdMinor });
  if (choice.rail === null || choice.violations.length > 0) {
    const reasons = choice.violations.map((v) => v.message).join("; ");
    throw badInput(`payment refused${choice.rail ? ` for ${choice.rail}` : ""}: ${reasons}`, choice.violations[0]?.field);
  }
  const debtorAccount = req.debtorAccount || (debtor.bic ? `bank-${debtor.bic}-${req.currency}` : "");
  if (debtorAccount === "") throw badInput("debtor_account is required (or source_bic, for a bank's own payment)", "debtor_account");
  if (!ledgerAccountId.test(debtorAccount))
    throw badInput(`debtor_account "${debtorAccount}" is not a ledger account id`, "debtor_account");
  const fields = {
    paymentId: req.paymentId || generatedPaymentId(),
    rail: choice.rail,
    railReason: choice.reason,
    debtorAccount,
    amountMinor: amount.amountMinor,
    currency: req.currency,
    reference: req.reference,
    debtor,
    creditor,
    urgent: req.urgent,
    charges: (req.charges || "SHA") as Charges,
    messageFormat: messageFormatFor(
      choice.rail,
      req.messageFormat === MessageFormat.UNSPECIFIED ? undefined : (MessageFormat[req.messageFormat] as FormatName),
    ),
    uetr: randomUUID(),
  };
  dryBuild(fields, config);
  const { paymentId: _id, uetr: _uetr, railReason: _reason, ...chosen } = fields;
  const requestHash = createHash("sha256")
    .update(JSON.stringify({ ...chosen, amountMinor: chosen.amountMinor.toString(), requestedRail }))
    .digest("hex");
  return { fields, requestHash };
}
