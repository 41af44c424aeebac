// Building blocks shared by the four messages: amounts, agents, parties, accounts,
// payment type, dates. Each has a model type, a check, a renderer and a reader.
import { currencyDigits, formatMoney, parseMoney } from "@qenex/platform";
import { bicPattern } from "../../validation/bic.js";
import type { Checker } from "./violations.js";
import { Iso20022Error } from "./violations.js";
import {
  attribute,
  children,
  el,
  invalidXmlChar,
  optEl,
  optional,
  optionalText,
  required,
  requiredText,
  texts,
  type XmlElement,
  type XmlNode,
} from "./xml.js";

/** An amount as on the wire: ISO 4217 code and a decimal string, never a JS number. */
export interface Money {
  readonly currency: string;
  readonly amount: string;
}

export type Account = { readonly kind: "iban"; readonly iban: string } | { readonly kind: "other"; readonly id: string };

/** A financial institution: BICFI, a clearing-system member id (e.g. USABA), or both. */
export interface Agent {
  readonly bicfi?: string;
  readonly clearingSystemMember?: { readonly systemCode?: string; readonly memberId: string };
  readonly name?: string;
}

export interface PostalAddress {
  readonly streetName?: string;
  readonly buildingNumber?: string;
  readonly postCode?: string;
  readonly townName?: string;
  readonly countrySubDivision?: string;
  readonly country?: string;
  readonly addressLines?: readonly string[];
}

export interface Party {
  readonly name?: string;
  readonly postalAddress?: PostalAddress;
}

export type ChargeBearer = "DEBT" | "CRED" | "SHAR" | "SLEV";
export const chargeBearers: readonly ChargeBearer[] = ["DEBT", "CRED", "SHAR", "SLEV"];

export type LocalInstrument = { readonly code: string } | { readonly proprietary: string };

/** PmtTpInf subset: service level code (e.g. SEPA) and local instrument. */
export interface PaymentType {
  readonly serviceLevelCode?: string;
  readonly localInstrument?: LocalInstrument;
}

/** StsRsnInf / RtrRsnInf: an ISO reason code (AC04 closed account, AM04 insufficient funds, DUPL) or a proprietary one. */
export interface Reason {
  readonly reason?: { readonly code: string } | { readonly proprietary: string };
  readonly additionalInformation?: readonly string[];
}

export type ReasonElement = "StsRsnInf" | "RtrRsnInf";

/** The message an entry of a status report or return refers to (OrgnlGrpInf). */
export interface OriginalGroup {
  readonly messageId: string;
  /** e.g. "pacs.008.001.08". */
  readonly messageNameId: string;
  readonly createdAt?: string;
}

// Patterns copied from the XSDs (see testdata/iso20022/*.xsd); BICFI's is validation/bic.ts's bicPattern.
const ibanPattern = /^[A-Z]{2}[0-9]{2}[a-zA-Z0-9]{1,30}$/;
export const uetrPattern = /^[a-f0-9]{8}-[a-f0-9]{4}-4[a-f0-9]{3}-[89ab][a-f0-9]{3}-[a-f0-9]{12}$/;
const currencyPattern = /^[A-Z]{3}$/;
const countryPattern = /^[A-Z]{2}$/;
const datePattern = /^(\d{4})-(\d{2})-(\d{2})$/;
const dateTimePattern = /^(\d{4}-\d{2}-\d{2})T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?(Z|[+-](0\d|1[0-4]):[0-5]\d)?$/;
const decimalPattern = /^[0-9]+(\.[0-9]+)?$/;
/** ActiveCurrencyAndAmount: totalDigits 18. */
const amountTotalDigitsMax = 18;

/** MaxNText: 1..N characters (XSD length counts code points). */
export function checkText(c: Checker, path: string, value: string | undefined, maxChars: number): void {
  if (value === undefined) return;
  const chars = [...value].length;
  if (invalidXmlChar.test(value)) c.add(path, "holds a control character XML 1.0 cannot carry");
  if (chars === 0) c.add(path, "must not be empty");
  else if (chars > maxChars) c.add(path, `is ${chars} characters; at most ${maxChars} allowed`);
}

export function checkPattern(c: Checker, path: string, value: string | undefined, pattern: RegExp, what: string): void {
  if (value !== undefined && !pattern.test(value)) c.add(path, `"${value}" is not a valid ${what}`);
}

export function checkDate(c: Checker, path: string, value: string | undefined): void {
  if (value === undefined) return;
  const match = datePattern.exec(value);
  const [, y = "", m = "", d = ""] = match ?? [];
  const date = new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)));
  if (!match || date.getUTCMonth() !== Number(m) - 1 || date.getUTCDate() !== Number(d)) {
    c.add(path, `"${value}" is not an ISO date (YYYY-MM-DD)`);
  }
}

export function checkDateTime(c: Checker, path: string, value: string | undefined): void {
  if (value === undefined) return;
  const match = dateTimePattern.exec(value);
  if (!match) c.add(path, `"${value}" is not an ISO date-time (YYYY-MM-DDThh:mm:ss[.s][Z|±hh:mm])`);
  else checkDate(c, path, match[1]);
}

export function checkCode<T extends string>(c: Checker, path: string, value: string | undefined, codes: readonly T[]) {
  if (value !== undefined && !(codes as readonly string[]).includes(value)) {
    c.add(path, `"${value}" is not one of ${codes.join(", ")}`);
  }
}

/** The amount in minor units, or undefined after recording why it is unusable. */
export function checkMoney(c: Checker, path: string, money: Money | undefined): bigint | undefined {
  if (money === undefined) return undefined;
  if (!currencyPattern.test(money.currency) || currencyDigits(money.currency) === undefined) {
    c.add(`${path}/@Ccy`, `"${money.currency}" is not an ISO 4217 currency with minor units`);
    return undefined;
  }
  if (!decimalPattern.test(money.amount)) {
    c.add(path, `"${money.amount}" is not a non-negative decimal amount`);
    return undefined;
  }
  const parsed = parseMoney(money.amount, money.currency);
  if (!parsed.ok) {
    c.add(path, parsed.reason);
    return undefined;
  }
  if (parsed.amountMinor.toString().length > amountTotalDigitsMax) {
    c.add(path, `has more than ${amountTotalDigitsMax} digits`);
    return undefined;
  }
  return parsed.amountMinor;
}

export function checkAgent(c: Checker, path: string, agent: Agent | undefined): void {
  if (agent === undefined) return;
  const fi = `${path}/FinInstnId`;
  if (agent.bicfi === undefined && agent.clearingSystemMember === undefined && agent.name === undefined) {
    c.add(fi, "needs a BICFI, a clearing-system member id or a name");
  }
  checkPattern(c, `${fi}/BICFI`, agent.bicfi, bicPattern, "BICFI (uppercase BIC8 or BIC11)");
  const member = agent.clearingSystemMember;
  if (member !== undefined) {
    checkText(c, `${fi}/ClrSysMmbId/ClrSysId/Cd`, member.systemCode, 5);
    checkText(c, `${fi}/ClrSysMmbId/MmbId`, member.memberId, 35);
  }
  checkText(c, `${fi}/Nm`, agent.name, 140);
}

export function checkParty(c: Checker, path: string, party: Party | undefined): void {
  if (party === undefined) return;
  checkText(c, `${path}/Nm`, party.name, 140);
  const address = party.postalAddress;
  if (address === undefined) return;
  const a = `${path}/PstlAdr`;
  checkText(c, `${a}/StrtNm`, address.streetName, 70);
  checkText(c, `${a}/BldgNb`, address.buildingNumber, 16);
  checkText(c, `${a}/PstCd`, address.postCode, 16);
  checkText(c, `${a}/TwnNm`, address.townName, 35);
  checkText(c, `${a}/CtrySubDvsn`, address.countrySubDivision, 35);
  checkPattern(c, `${a}/Ctry`, address.country, countryPattern, "ISO 3166 country code");
  const lines = address.addressLines ?? [];
  if (lines.length > 7) c.add(`${a}/AdrLine`, "at most 7 address lines");
  lines.forEach((line, i) => {
    checkText(c, `${a}/AdrLine[${i}]`, line, 70);
  });
}

export function checkAccount(c: Checker, path: string, account: Account | undefined): void {
  if (account === undefined) return;
  if (account.kind === "iban") checkPattern(c, `${path}/Id/IBAN`, account.iban, ibanPattern, "IBAN");
  else checkText(c, `${path}/Id/Othr/Id`, account.id, 34);
}

export function checkPaymentType(c: Checker, path: string, type: PaymentType | undefined): void {
  if (type === undefined) return;
  checkText(c, `${path}/SvcLvl/Cd`, type.serviceLevelCode, 4);
  const local = type.localInstrument;
  if (local !== undefined && "code" in local) checkText(c, `${path}/LclInstrm/Cd`, local.code, 35);
  if (local !== undefined && "proprietary" in local) checkText(c, `${path}/LclInstrm/Prtry`, local.proprietary, 35);
}

export function checkOriginalGroup(c: Checker, path: string, group: OriginalGroup | undefined): void {
  if (group === undefined) return;
  checkText(c, `${path}/OrgnlMsgId`, group.messageId, 35);
  checkText(c, `${path}/OrgnlMsgNmId`, group.messageNameId, 35);
  checkDateTime(c, `${path}/OrgnlCreDtTm`, group.createdAt);
}

export function checkUnstructured(c: Checker, path: string, lines: readonly string[] | undefined): void {
  (lines ?? []).forEach((line, i) => {
    checkText(c, `${path}/Ustrd[${i}]`, line, 140);
  });
}

export function checkReasons(c: Checker, path: string, element: ReasonElement, reasons: readonly Reason[] | undefined) {
  (reasons ?? []).forEach((r, i) => {
    const p = `${path}/${element}[${i}]`;
    if (r.reason !== undefined && "code" in r.reason) checkText(c, `${p}/Rsn/Cd`, r.reason.code, 4);
    if (r.reason !== undefined && "proprietary" in r.reason) checkText(c, `${p}/Rsn/Prtry`, r.reason.proprietary, 35);
    (r.additionalInformation ?? []).forEach((line, j) => {
      checkText(c, `${p}/AddtlInf[${j}]`, line, 105);
    });
  });
}

// --- rendering --------------------------------------------------------------------

/** Writes the amount with exactly the currency's minor digits; call only after checkMoney. */
export function moneyEl(name: string, money: Money): XmlElement {
  const parsed = parseMoney(money.amount, money.currency);
  if (!parsed.ok) throw Iso20022Error.at(name, parsed.reason);
  return el(name, formatMoney(parsed.amountMinor, money.currency), { Ccy: money.currency });
}

export function agentEl(name: string, agent: Agent | undefined): XmlElement | undefined {
  if (agent === undefined) return undefined;
  const member = agent.clearingSystemMember;
  return el(name, [
    el("FinInstnId", [
      optEl("BICFI", agent.bicfi),
      member === undefined
        ? undefined
        : el("ClrSysMmbId", [
            member.systemCode === undefined ? undefined : el("ClrSysId", [el("Cd", member.systemCode)]),
            el("MmbId", member.memberId),
          ]),
      optEl("Nm", agent.name),
    ]),
  ]);
}

export function partyEl(name: string, party: Party | undefined): XmlElement | undefined {
  if (party === undefined) return undefined;
  const a = party.postalAddress;
  return el(name, [
    optEl("Nm", party.name),
    a === undefined
      ? undefined
      : el("PstlAdr", [
          optEl("StrtNm", a.streetName),
          optEl("BldgNb", a.buildingNumber),
          optEl("PstCd", a.postCode),
          optEl("TwnNm", a.townName),
          optEl("CtrySubDvsn", a.countrySubDivision),
          optEl("Ctry", a.country),
          ...(a.addressLines ?? []).map((line) => el("AdrLine", line)),
        ]),
  ]);
}

export function accountEl(name: string, account: Account | undefined): XmlElement | undefined {
  if (account === undefined) return undefined;
  const id = account.kind === "iban" ? el("IBAN", account.iban) : el("Othr", [el("Id", account.id)]);
  return el(name, [el("Id", [id])]);
}

export function paymentTypeEl(name: string, type: PaymentType | undefined): XmlElement | undefined {
  if (type === undefined) return undefined;
  const local = type.localInstrument;
  return el(name, [
    type.serviceLevelCode === undefined ? undefined : el("SvcLvl", [el("Cd", type.serviceLevelCode)]),
    local === undefined ? undefined : el("LclInstrm", ["code" in local ? el("Cd", local.code) : el("Prtry", local.proprietary)]),
  ]);
}

export function originalGroupEl(name: string, group: OriginalGroup | undefined): XmlElement | undefined {
  if (group === undefined) return undefined;
  return el(name, [el("OrgnlMsgId", group.messageId), el("OrgnlMsgNmId", group.messageNameId), optEl("OrgnlCreDtTm", group.createdAt)]);
}

export function remittanceEl(lines: readonly string[] | undefined): XmlElement | undefined {
  if (lines === undefined || lines.length === 0) return undefined;
  return el(
    "RmtInf",
    lines.map((line) => el("Ustrd", line)),
  );
}

export function reasonEls(element: ReasonElement, reasons: readonly Reason[] | undefined): XmlElement[] {
  return (reasons ?? []).map((r) =>
    el(element, [
      r.reason === undefined ? undefined : el("Rsn", ["code" in r.reason ? el("Cd", r.reason.code) : el("Prtry", r.reason.proprietary)]),
      ...(r.additionalInformation ?? []).map((line) => el("AddtlInf", line)),
    ]),
  );
}

// --- reading ------------------------------------------------------------------------
// Readers take what the model holds and ignore other elements; check…() runs afterwards.

/** Every key of T; optional ones may be undefined. */
export type Loose<T> = { [K in keyof T]-?: Record<never, never> extends Pick<T, K> ? T[K] | undefined : T[K] };

/** Drops undefined values, so optional fields stay absent (exactOptionalPropertyTypes). */
export function defined<T extends object>(value: Loose<T>): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

export function readMoney(node: XmlNode, name: string, path: string): Money | undefined {
  const amount = optionalText(node, name, path);
  if (amount === undefined) return undefined;
  const currency = attribute(node, name, "Ccy", path);
  if (currency === undefined) throw Iso20022Error.at(`${path}/${name}/@Ccy`, "is required");
  const parsed = parseMoney(amount, currency);
  // Canonical form: exactly the currency's digits ("10.5" EUR reads as "10.50").
  return { currency, amount: parsed.ok ? formatMoney(parsed.amountMinor, currency) : amount };
}

export function readRequiredMoney(node: XmlNode, name: string, path: string): Money {
  const money = readMoney(node, name, path);
  if (money === undefined) throw Iso20022Error.at(`${path}/${name}`, "is required");
  return money;
}

export function readAgent(node: XmlNode, name: string, path: string): Agent | undefined {
  const agent = optional(node, name, path);
  if (agent === undefined) return undefined;
  const p = `${path}/${name}/FinInstnId`;
  const fi = required(agent, "FinInstnId", `${path}/${name}`);
  const member = optional(fi, "ClrSysMmbId", p);
  const systemId = member && optional(member, "ClrSysId", `${p}/ClrSysMmbId`);
  return defined<Agent>({
    bicfi: optionalText(fi, "BICFI", p),
    clearingSystemMember:
      member === undefined
        ? undefined
        : defined<NonNullable<Agent["clearingSystemMember"]>>({
            systemCode: systemId && requiredText(systemId, "Cd", `${p}/ClrSysMmbId/ClrSysId`),
            memberId: requiredText(member, "MmbId", `${p}/ClrSysMmbId`),
          }),
    name: optionalText(fi, "Nm", p),
  });
}

export function readRequiredAgent(node: XmlNode, name: string, path: string): Agent {
  const agent = readAgent(node, name, path);
  if (agent === undefined) throw Iso20022Error.at(`${path}/${name}`, "is required");
  return agent;
}

export function readParty(node: XmlNode, name: string, path: string): Party | undefined {
  const party = optional(node, name, path);
  if (party === undefined) return undefined;
  const p = `${path}/${name}`;
  const a = optional(party, "PstlAdr", p);
  const ap = `${p}/PstlAdr`;
  const lines = a && texts(a, "AdrLine", ap);
  return defined<Party>({
    name: optionalText(party, "Nm", p),
    postalAddress:
      a === undefined
        ? undefined
        : defined<PostalAddress>({
            streetName: optionalText(a, "StrtNm", ap),
            buildingNumber: optionalText(a, "BldgNb", ap),
            postCode: optionalText(a, "PstCd", ap),
            townName: optionalText(a, "TwnNm", ap),
            countrySubDivision: optionalText(a, "CtrySubDvsn", ap),
            country: optionalText(a, "Ctry", ap),
            addressLines: lines && lines.length > 0 ? lines : undefined,
          }),
  });
}

export function readRequiredParty(node: XmlNode, name: string, path: string): Party {
  const party = readParty(node, name, path);
  if (party === undefined) throw Iso20022Error.at(`${path}/${name}`, "is required");
  return party;
}

export function readAccount(node: XmlNode, name: string, path: string): Account | undefined {
  const account = optional(node, name, path);
  if (account === undefined) return undefined;
  const p = `${path}/${name}/Id`;
  const id = required(account, "Id", `${path}/${name}`);
  const iban = optionalText(id, "IBAN", p);
  if (iban !== undefined) return { kind: "iban", iban };
  const other = optional(id, "Othr", p);
  if (other !== undefined) return { kind: "other", id: requiredText(other, "Id", `${p}/Othr`) };
  throw Iso20022Error.at(p, "needs IBAN or Othr");
}

export function readPaymentType(node: XmlNode, name: string, path: string): PaymentType | undefined {
  const type = optional(node, name, path);
  if (type === undefined) return undefined;
  const p = `${path}/${name}`;
  const serviceLevel = optional(type, "SvcLvl", p);
  const local = optional(type, "LclInstrm", p);
  let localInstrument: LocalInstrument | undefined;
  if (local !== undefined) {
    const code = optionalText(local, "Cd", `${p}/LclInstrm`);
    localInstrument = code !== undefined ? { code } : { proprietary: requiredText(local, "Prtry", `${p}/LclInstrm`) };
  }
  return defined<PaymentType>({
    serviceLevelCode: serviceLevel && optionalText(serviceLevel, "Cd", `${p}/SvcLvl`),
    localInstrument,
  });
}

export function readOriginalGroup(node: XmlNode, name: string, path: string): OriginalGroup | undefined {
  const group = optional(node, name, path);
  if (group === undefined) return undefined;
  const p = `${path}/${name}`;
  return defined<OriginalGroup>({
    messageId: requiredText(group, "OrgnlMsgId", p),
    messageNameId: requiredText(group, "OrgnlMsgNmId", p),
    createdAt: optionalText(group, "OrgnlCreDtTm", p),
  });
}

export function readUnstructured(node: XmlNode, path: string): string[] | undefined {
  const remittance = optional(node, "RmtInf", path);
  if (remittance === undefined) return undefined;
  const lines = texts(remittance, "Ustrd", `${path}/RmtInf`);
  return lines.length > 0 ? lines : undefined;
}

/** NbOfTxs must match the count of entries we read; a mismatch means a truncated or forged message. */
export function checkCount(path: string, declared: string | undefined, actual: number): void {
  if (declared !== undefined && declared !== String(actual)) {
    throw Iso20022Error.at(path, `says ${declared} transactions; the message holds ${actual}`);
  }
}

export function readReasons(node: XmlNode, element: ReasonElement, path: string): Reason[] | undefined {
  const reasons = children(node, element, path).map((r, i) => {
    const p = `${path}/${element}[${i}]`;
    const rsn = optional(r, "Rsn", p);
    const code = rsn && optionalText(rsn, "Cd", `${p}/Rsn`);
    const lines = texts(r, "AddtlInf", p);
    return defined<Reason>({
      reason: rsn === undefined ? undefined : code !== undefined ? { code } : { proprietary: requiredText(rsn, "Prtry", `${p}/Rsn`) },
      additionalInformation: lines.length > 0 ? lines : undefined,
    });
  });
  return reasons.length > 0 ? reasons : undefined;
}

export type SettlementMethod = "INDA" | "INGA" | "COVE" | "CLRG";
const settlementMethods: readonly SettlementMethod[] = ["INDA", "INGA", "COVE", "CLRG"];

/** The group header pacs.008 and pacs.004 share: id, time and how the batch settles. */
export interface SettledGroupHeader {
  readonly messageId: string;
  /** ISO date-time, e.g. 2025-03-10T09:00:00-04:00. */
  readonly createdAt: string;
  readonly settlementMethod: SettlementMethod;
  /** SttlmInf/ClrSys/Cd, e.g. FDW for Fedwire. */
  readonly clearingSystemCode?: string;
}

export function checkSettledGroupHeader(c: Checker, root: string, header: SettledGroupHeader): void {
  checkText(c, `${root}/GrpHdr/MsgId`, header.messageId, 35);
  checkDateTime(c, `${root}/GrpHdr/CreDtTm`, header.createdAt);
  checkCode(c, `${root}/GrpHdr/SttlmInf/SttlmMtd`, header.settlementMethod, settlementMethods);
  checkText(c, `${root}/GrpHdr/SttlmInf/ClrSys/Cd`, header.clearingSystemCode, 3);
}

/** GrpHdr with NbOfTxs derived from the transactions, never stored. */
export function settledGroupHeaderEl(header: SettledGroupHeader, transactionCount: number): XmlElement {
  return el("GrpHdr", [
    el("MsgId", header.messageId),
    el("CreDtTm", header.createdAt),
    el("NbOfTxs", String(transactionCount)),
    el("SttlmInf", [
      el("SttlmMtd", header.settlementMethod),
      header.clearingSystemCode === undefined ? undefined : el("ClrSys", [el("Cd", header.clearingSystemCode)]),
    ]),
  ]);
}

/** Reads GrpHdr and checks its NbOfTxs against the transactions actually read. */
export function readSettledGroupHeader(message: XmlNode, root: string, transactionCount: number): SettledGroupHeader {
  const h = `${root}/GrpHdr`;
  const header = required(message, "GrpHdr", root);
  const settlement = required(header, "SttlmInf", h);
  const clearingSystem = optional(settlement, "ClrSys", `${h}/SttlmInf`);
  checkCount(`${h}/NbOfTxs`, requiredText(header, "NbOfTxs", h), transactionCount);
  return defined<SettledGroupHeader>({
    messageId: requiredText(header, "MsgId", h),
    createdAt: requiredText(header, "CreDtTm", h),
    settlementMethod: requiredText(settlement, "SttlmMtd", `${h}/SttlmInf`) as SettlementMethod,
    clearingSystemCode: clearingSystem && optionalText(clearingSystem, "Cd", `${h}/SttlmInf/ClrSys`),
  });
}
