// Outbound messages built from a PaymentRecord: pacs.008 (CBPR+, SEPA, Fedwire), MT103,
// Fedwire tags, NACHA credit files and returns (pacs.004, NACHA R-code). Deterministic: the
// same payment and context give the same bytes.
//
// Ids (see ids.ts): pacs.008 MsgId and TxId = transactionIds(paymentId).transactionId, InstrId
// carries the rest of a long paymentId, so a pacs.002/pacs.004 echoing OrgnlInstrId and
// OrgnlTxId maps back to the paymentId. EndToEndId is the payment's reference (or NOTPROVIDED).
// MT103 :20: and Fedwire {3320} are a 16-character digest of the paymentId.
import { formatMoney } from "@qenex/platform";
import type { Charges, PartyRecord, PaymentRecord } from "../domain/payment.js";
import * as fedwire from "../formats/fedwire/index.js";
import * as iso20022 from "../formats/iso20022/index.js";
import { throwIfAny } from "../formats/iso20022/violations.js";
import * as mt103 from "../formats/mt103/index.js";
import * as nacha from "../formats/nacha/index.js";
import { derivedMessageId, digestHex, isoDate, isoSeconds, shortReference, transactionIds } from "./ids.js";
import { achReturnFile, paymentReturn } from "./replies.js";
import type { WireMessage } from "./types.js";

export const endToEndIdNotProvided = "NOTPROVIDED";
/** Most payments in one NACHA file. */
export const achFilePaymentsMax = 10_000;
/** Most entries in one batch: keeps batches a readable size, far inside the format's limits. */
export const achBatchEntriesMax = 1_000;
/** The ACH Operator a file is addressed to unless the context names another (FRB Boston, 011000015). */
export const defaultAchOperatorRouting = "011000015";
const nachaReceiverNameMax = 22;
const nachaIdentificationMax = 15;

export interface CreditTransferContext {
  readonly now: Date;
  readonly ourBic: string;
}

export class MessageBuildError extends Error {
  override readonly name = "MessageBuildError";
}

/** Whether building a message failed because of the payment itself (a rule of the format or scheme), not a fault. */
export function isMessageRefusal(error: unknown): error is Error {
  return (
    error instanceof MessageBuildError ||
    error instanceof iso20022.Iso20022Error ||
    error instanceof mt103.Mt103Error ||
    error instanceof fedwire.FedwireError ||
    error instanceof nacha.NachaError
  );
}

export function buildCreditTransfer(payment: PaymentRecord, ctx: CreditTransferContext): WireMessage {
  switch (payment.rail) {
    case "SWIFT":
      if (payment.messageFormat === "MT103") return buildMt103(payment, ctx);
      if (payment.messageFormat === "ISO20022") return buildPacs008(payment, ctx, iso20022.validateCbprPacs008);
      break;
    case "SEPA":
      if (payment.messageFormat === "ISO20022") return buildPacs008(payment, ctx, iso20022.validateSepaPacs008);
      break;
    case "FEDWIRE":
      if (payment.messageFormat === "ISO20022") return buildPacs008(payment, ctx, iso20022.validateFedwirePacs008);
      if (payment.messageFormat === "FEDWIRE_TAGS") return buildFedwireTags(payment, ctx);
      break;
    case "ACH":
      throw new MessageBuildError(`payment ${payment.paymentId}: ACH payments go out in a NACHA file (buildAchFile)`);
  }
  throw new MessageBuildError(`payment ${payment.paymentId}: ${payment.rail} does not carry format ${payment.messageFormat}`);
}

const chargeBearers: Readonly<Record<Charges, iso20022.ChargeBearer>> = { SHA: "SHAR", OUR: "DEBT", BEN: "CRED" };

function account(party: PartyRecord): iso20022.Account | undefined {
  if (party.iban !== "") return { kind: "iban", iban: party.iban };
  if (party.accountNumber !== "") return { kind: "other", id: party.accountNumber };
  return undefined;
}

function party(record: PartyRecord): iso20022.Party {
  return {
    ...(record.name === "" ? {} : { name: record.name }),
    ...(record.country === "" ? {} : { postalAddress: { country: record.country } }),
  };
}

function bicAgent(bic: string): iso20022.Agent {
  return { bicfi: bic };
}

function abaAgent(routingNumber: string): iso20022.Agent {
  return { clearingSystemMember: { systemCode: "USABA", memberId: routingNumber } };
}

export function money(amountMinor: bigint, currency: string): iso20022.Money {
  return { currency, amount: formatMoney(amountMinor, currency) };
}

export function endToEndId(payment: PaymentRecord): string {
  return payment.reference === "" ? endToEndIdNotProvided : payment.reference;
}

function pacs008Model(payment: PaymentRecord, ctx: CreditTransferContext): iso20022.Pacs008 {
  const ids = transactionIds(payment.paymentId);
  const fedwireRail = payment.rail === "FEDWIRE";
  const agent = (record: PartyRecord, fallbackBic: string) =>
    fedwireRail ? abaAgent(record.routingNumber) : bicAgent(record.bic === "" ? fallbackBic : record.bic);
  const debtorAgent = agent(payment.debtor, ctx.ourBic);
  const creditorAgent = agent(payment.creditor, "");
  const debtorAccount = account(payment.debtor);
  const creditorAccount = account(payment.creditor);
  const transfer: iso20022.CreditTransfer = {
    instructionId: ids.instructionId,
    endToEndId: endToEndId(payment),
    transactionId: ids.transactionId,
    uetr: payment.uetr,
    ...(payment.rail === "SEPA" ? { paymentType: { serviceLevelCode: "SEPA" } } : {}),
    ...(fedwireRail ? { paymentType: { localInstrument: { proprietary: "CTRC" } } } : {}),
    interbankSettlementAmount: money(payment.amountMinor, payment.currency),
    interbankSettlementDate: isoDate(ctx.now),
    chargeBearer: payment.rail === "SWIFT" ? chargeBearers[payment.charges] : "SLEV",
    instructingAgent: fedwireRail ? debtorAgent : bicAgent(ctx.ourBic),
    instructedAgent: creditorAgent,
    debtor: party(payment.debtor),
    ...(debtorAccount === undefined ? {} : { debtorAccount }),
    debtorAgent,
    creditorAgent,
    creditor: party(payment.creditor),
    ...(creditorAccount === undefined ? {} : { creditorAccount }),
  };
  return {
    messageId: ids.transactionId,
    createdAt: isoSeconds(ctx.now),
    settlementMethod: payment.rail === "SWIFT" ? "INDA" : "CLRG",
    ...(fedwireRail ? { clearingSystemCode: "FDW" } : {}),
    transactions: [transfer],
  };
}

function buildPacs008(
  payment: PaymentRecord,
  ctx: CreditTransferContext,
  schemeRules: (message: iso20022.Pacs008) => iso20022.Violation[],
): WireMessage {
  if (payment.rail !== "FEDWIRE" && payment.creditor.bic === "") {
    throw new MessageBuildError(`payment ${payment.paymentId}: ${payment.rail} pacs.008 needs the creditor agent's BIC`);
  }
  const model = pacs008Model(payment, ctx);
  throwIfAny(schemeRules(model));
  return { messageId: model.messageId, format: "ISO20022", messageType: "pacs.008.001.08", content: iso20022.renderPacs008(model) };
}

/** BIC8 or BIC11 → the 12-character logical terminal address (BIC8 + "A" + branch, XXX when none). */
function ltAddress(bic: string): string {
  return `${bic.slice(0, 8)}A${bic.length === 11 ? bic.slice(8) : "XXX"}`;
}

function partyAccount(record: PartyRecord): string | undefined {
  const value = record.iban !== "" ? record.iban : record.accountNumber;
  return value === "" ? undefined : value;
}

/** :50K:/:59: with name and account when the party has a name, else :50A:/:59A: with its bank's BIC. */
function mtParty(record: PartyRecord, tag: string, paymentId: string): mt103.Mt103NamedParty | mt103.Mt103BicParty {
  const accountValue = partyAccount(record);
  const withAccount = accountValue === undefined ? {} : { account: accountValue };
  if (record.name !== "") return { ...withAccount, nameAndAddress: mt103.wrapSwiftLines(record.name, tag) };
  if (record.bic === "") throw new MessageBuildError(`payment ${paymentId}: field ${tag} needs a name or the bank's BIC`);
  return { ...withAccount, bic: record.bic };
}

export function mt103MessageId(sendersReference: string, uetr: string): string {
  return `${sendersReference}/${uetr}`;
}

function buildMt103(payment: PaymentRecord, ctx: CreditTransferContext): WireMessage {
  const { paymentId, debtor, creditor } = payment;
  if (creditor.bic === "") throw new MessageBuildError(`payment ${paymentId}: MT103 is addressed to the creditor's bank BIC`);
  const ordering = mtParty(debtor, "50K", paymentId);
  const beneficiary = mtParty(creditor, "59", paymentId);
  const sendersReference = shortReference(paymentId);
  const message: mt103.Mt103Message = {
    basicHeader: { senderLtAddress: ltAddress(ctx.ourBic), sessionNumber: "0000", sequenceNumber: "000000" },
    applicationHeader: { receiverLtAddress: ltAddress(creditor.bic), priority: payment.urgent ? "U" : "N" },
    userHeader: { uetr: payment.uetr },
    text: {
      sendersReference,
      bankOperationCode: "CRED",
      valueDate: isoDate(ctx.now),
      interbankSettlement: { currency: payment.currency, amount: formatMoney(payment.amountMinor, payment.currency) },
      orderingCustomer: "bic" in ordering ? { option: "A", ...ordering } : { option: "K", ...ordering },
      ...(debtor.bic === "" ? {} : { orderingInstitution: { bic: debtor.bic } }),
      accountWithInstitution: { bic: creditor.bic },
      beneficiary: "bic" in beneficiary ? { option: "A", ...beneficiary } : { option: "none", ...beneficiary },
      ...(payment.reference === "" ? {} : { remittanceInformation: mt103.wrapSwiftLines(payment.reference, "70") }),
      detailsOfCharges: payment.charges,
    },
  };
  return {
    messageId: mt103MessageId(sendersReference, payment.uetr),
    format: "MT103",
    messageType: "MT103",
    content: mt103.renderMt103(message),
  };
}

function fedwireParty(record: PartyRecord, role: string, paymentId: string): fedwire.FedwireParty {
  const identifier = partyAccount(record);
  if (identifier === undefined || record.name === "") {
    throw new MessageBuildError(`payment ${paymentId}: Fedwire CTR needs the ${role}'s account and name`);
  }
  return { identificationCode: "D", identifier, name: record.name, addressLines: [] };
}

function buildFedwireTags(payment: PaymentRecord, ctx: CreditTransferContext): WireMessage {
  const { paymentId } = payment;
  const reference = shortReference(paymentId);
  const message: fedwire.FedwireMessage = {
    senderSupplied: {
      formatVersion: "30",
      userRequestCorrelation: reference.slice(0, 8),
      testProductionCode: "P",
      messageDuplicationCode: "",
    },
    typeSubtype: { typeCode: "10", subtypeCode: "00" },
    imad: {
      cycleDate: isoDate(ctx.now),
      inputSource: ctx.ourBic.slice(0, 8),
      inputSequenceNumber: (BigInt(`0x${reference}`) % 1_000_000n).toString().padStart(6, "0"),
    },
    amountUsd: formatMoney(payment.amountMinor, payment.currency),
    senderDepositoryInstitution: { routingNumber: payment.debtor.routingNumber, shortName: ctx.ourBic },
    senderReference: reference,
    receiverDepositoryInstitution: {
      routingNumber: payment.creditor.routingNumber,
      shortName: payment.creditor.bic === "" ? "BENEFICIARY BANK" : payment.creditor.bic,
    },
    businessFunction: { code: "CTR" },
    beneficiary: fedwireParty(payment.creditor, "creditor", paymentId),
    originator: fedwireParty(payment.debtor, "debtor", paymentId),
    ...(payment.reference === "" ? {} : { originatorToBeneficiary: mt103.wrapSwiftLines(payment.reference, "6000") }),
  };
  if (payment.currency !== "USD") throw new MessageBuildError(`payment ${paymentId}: Fedwire settles USD only, not ${payment.currency}`);
  return { messageId: reference, format: "FEDWIRE_TAGS", messageType: "Fedwire tags", content: fedwire.renderFedwire(message) };
}

// --- NACHA ---------------------------------------------------------------------------

export interface AchFileContext {
  readonly now: Date;
  /** A-Z or 0-9: tells apart files created the same minute. */
  readonly fileIdModifier: string;
  /** Our (the ODFI's) 9-digit routing number. */
  readonly originRouting: string;
  readonly originName: string;
  /** The ACH Operator's routing number; defaults to defaultAchOperatorRouting. */
  readonly destinationRouting?: string;
  /** Batch header company id (10 characters); defaults to "1" + originRouting. */
  readonly companyIdentification?: string;
}

export interface AchFile extends WireMessage {
  /** Each entry's 15-digit trace number → the paymentId it carries. */
  readonly traceNumbers: ReadonlyMap<string, string>;
}

/** Words that mark a company (CCD); any other receiver is an individual (PPD). */
const businessWords = /\b(INC|LLC|LLP|LTD|CORP|CORPORATION|CO|COMPANY|GMBH|PLC|LP|BANK|TRUST|HOLDINGS|GROUP)\b\.?/i;

/** CCD when the creditor's name carries a company suffix (Inc, LLC, Ltd, Corp, ...), else PPD. */
export function achSecCode(payment: PaymentRecord): nacha.SecCode {
  return businessWords.test(payment.creditor.name) ? "CCD" : "PPD";
}

/** The NACHA file id: origin routing, creation date and time, and the modifier. */
export function achFileId(originRouting: string, now: Date, fileIdModifier: string): string {
  return `${originRouting}${yymmddHhmm(now)}${fileIdModifier}`;
}

function yymmddHhmm(now: Date): string {
  return now.toISOString().slice(2, 16).replace(/[-T:]/g, "");
}

function achEntry(payment: PaymentRecord, traceNumber: string): nacha.EntryDetail {
  const { paymentId, creditor } = payment;
  if (payment.currency !== "USD") throw new MessageBuildError(`payment ${paymentId}: ACH settles USD only, not ${payment.currency}`);
  if (payment.amountMinor <= 0n || payment.amountMinor > nacha.entryAmountMinorMax) {
    throw new MessageBuildError(`payment ${paymentId}: an ACH entry is 0.01 to ${formatMoney(nacha.entryAmountMinorMax, "USD")} USD`);
  }
  if (creditor.name.length > nachaReceiverNameMax) {
    throw new MessageBuildError(
      `payment ${paymentId}: the receiver name is ${creditor.name.length} characters; NACHA holds ${nachaReceiverNameMax}`,
    );
  }
  if (payment.reference.length > nachaIdentificationMax) {
    throw new MessageBuildError(
      `payment ${paymentId}: the reference is ${payment.reference.length} characters; NACHA holds ${nachaIdentificationMax}`,
    );
  }
  return {
    transactionCode: "22",
    receivingDfiRoutingNumber: creditor.routingNumber,
    dfiAccountNumber: creditor.accountNumber,
    amountMinor: payment.amountMinor,
    identificationNumber: payment.reference,
    receiverName: creditor.name,
    discretionaryData: "",
    traceNumber,
    // The paymentId rides in the 05 addenda, so the network (and a return's 99 addenda) can name it.
    addenda: [{ typeCode: "05", paymentRelatedInformation: payment.paymentId }],
  };
}

/**
 * One NACHA file of credit entries (transaction code 22), PPD or CCD by achSecCode(), in
 * batches of at most achBatchEntriesMax entries; the file total (and so each batch's) fits
 * the control records' 12 digits of cents or the file is refused. Trace
 * numbers are the ODFI id + a sequence over the whole file; `traceNumbers` maps them back.
 */
export function buildAchFile(payments: readonly PaymentRecord[], ctx: AchFileContext): AchFile {
  if (payments.length === 0) throw new MessageBuildError("an ACH file needs at least one payment");
  if (payments.length > achFilePaymentsMax) {
    throw new MessageBuildError(`${payments.length} payments exceed the limit of ${achFilePaymentsMax} per ACH file`);
  }
  const odfi = ctx.originRouting.slice(0, 8);
  const batches: nacha.Batch[] = [];
  const traceNumbers = new Map<string, string>();
  let sequence = 0;
  for (const secCode of ["PPD", "CCD"] as const) {
    let batch: nacha.Batch | undefined;
    for (const payment of payments.filter((p) => achSecCode(p) === secCode)) {
      if (payment.rail !== "ACH") throw new MessageBuildError(`payment ${payment.paymentId} is for ${payment.rail}, not ACH`);
      if (batch === undefined || batch.entries.length >= achBatchEntriesMax) {
        batch = { header: batchHeader(ctx, secCode, batches.length + 1), entries: [] };
        batches.push(batch);
      }
      sequence += 1;
      const traceNumber = `${odfi}${String(sequence).padStart(7, "0")}`;
      batch.entries.push(achEntry(payment, traceNumber));
      traceNumbers.set(traceNumber, payment.paymentId);
    }
  }
  const fileTotalMinor = payments.reduce((sum, p) => sum + p.amountMinor, 0n);
  if (fileTotalMinor > nacha.totalAmountMinorMax) {
    throw new MessageBuildError(
      `the file's total of ${formatMoney(fileTotalMinor, "USD")} USD exceeds the ${formatMoney(nacha.totalAmountMinorMax, "USD")} USD a NACHA file control holds`,
    );
  }
  const ids = new Set(traceNumbers.values());
  if (ids.size !== payments.length) throw new MessageBuildError("a paymentId appears twice in one ACH file");
  const file: nacha.NachaFile = {
    header: {
      immediateDestination: ctx.destinationRouting ?? defaultAchOperatorRouting,
      immediateOrigin: ctx.originRouting,
      fileCreationDate: yymmddHhmm(ctx.now).slice(0, 6),
      fileCreationTime: yymmddHhmm(ctx.now).slice(6),
      fileIdModifier: ctx.fileIdModifier,
      immediateDestinationName: "ACH OPERATOR",
      immediateOriginName: ctx.originName.slice(0, 23),
      referenceCode: "",
    },
    batches,
  };
  const content = nacha.renderNachaFile(file);
  return {
    messageId: achFileId(ctx.originRouting, ctx.now, ctx.fileIdModifier),
    format: "NACHA",
    messageType: "NACHA",
    content,
    traceNumbers,
  };
}

function batchHeader(ctx: AchFileContext, secCode: nacha.SecCode, batchNumber: number): nacha.BatchHeader {
  return {
    serviceClassCode: "220",
    companyName: ctx.originName.slice(0, 16),
    companyDiscretionaryData: "",
    companyIdentification: ctx.companyIdentification ?? `1${ctx.originRouting}`,
    secCode,
    companyEntryDescription: "PAYMENT",
    companyDescriptiveDate: "",
    effectiveEntryDate: yymmddHhmm(ctx.now).slice(0, 6),
    settlementDate: "",
    originatorStatusCode: "1",
    odfiIdentification: ctx.originRouting.slice(0, 8),
    batchNumber,
  };
}

// --- returns ---------------------------------------------------------------------------

export interface ReturnContext {
  readonly now: Date;
  readonly ourBic: string;
  /** ISO return reason (AC04, AM05, ...) or, for ACH, an R-code. */
  readonly reasonCode: string;
  /** The returned message's id (pacs.008 MsgId); for ACH, the original entry's 15-digit trace number when known. */
  readonly originalMessageId: string;
}

/**
 * The original entry's trace number: originalMessageId when it is one (15 digits), else the
 * debtor's bank id + 7 digits derived from the paymentId, so the return is still well formed.
 */
function originalTraceNumber(payment: PaymentRecord, originalMessageId: string): string {
  if (/^[0-9]{15}$/.test(originalMessageId)) return originalMessageId;
  const sequence = BigInt(`0x${digestHex(payment.paymentId).slice(0, 12)}`) % 10_000_000n;
  return `${payment.debtor.routingNumber.slice(0, 8).padStart(8, "0")}${sequence.toString().padStart(7, "0")}`;
}

/**
 * Returns a payment we received: pacs.004.001.09 (CBPR+, SEPA or Fedwire rules) back to the
 * debtor's bank, or for ACH a NACHA file with one return entry (R-code, 99 addenda carrying
 * the paymentId in its addenda information).
 */
export function buildReturn(payment: PaymentRecord, ctx: ReturnContext): WireMessage {
  if (payment.rail === "ACH") {
    const original: nacha.EntryDetail = { ...achEntry(payment, originalTraceNumber(payment, ctx.originalMessageId)), addenda: [] };
    const item = {
      paymentId: payment.paymentId,
      original,
      secCode: achSecCode(payment),
      companyIdentification: "RETURN",
      companyName: "RETURN",
    };
    return achReturnFile(item, {
      now: ctx.now,
      reasonCode: ctx.reasonCode,
      afterSettlement: true,
      messageId: derivedMessageId("RTN", payment.paymentId),
    });
  }
  return paymentReturn(payment, {
    now: ctx.now,
    ourBic: ctx.ourBic,
    reasonCode: ctx.reasonCode,
    originalMessageId: ctx.originalMessageId,
    originalEndToEndId: endToEndId(payment),
    messageId: derivedMessageId("RTN", payment.paymentId),
  });
}
