// What a query says besides the name (type, country, date of birth) and how it moves the score.

import { type NameKind, nameTokens } from "./normalize.js";
import type { DateOfBirth } from "./remarks.js";
import { ScreeningError } from "./screening-error.js";
import { countryKey, type IndexedEntry } from "./screening-index.js";

export type ScreeningQuery = {
  name: string;
  type?: NameKind;
  /** ISO 3166-1 alpha-2 ("RU") or an English name ("Russia"). */
  country?: string;
  /** "1952-10-07", "1952-10" or "1952". */
  dateOfBirth?: string;
};

export type ScreeningReason = {
  kind: "name" | "type" | "country" | "dateOfBirth";
  /** The name score itself for "name"; the amount added to it for the others. */
  effect: number;
  detail: string;
};

export const queryLimits = { nameLengthMax: 512, countryLengthMax: 64 } as const;

/** Score effects of the optional query fields, added to the name score; the sum is clamped to [0, 1]. */
export const adjustments = {
  /** Query and list both say the type and they differ (individual vs entity, vessel, aircraft). */
  typeMismatch: -0.1,
  /** A listed country (address, nationality, citizenship, flag) agrees with the query's. */
  countryMatch: 0.02,
  /** The list names countries and none agrees. */
  countryMismatch: -0.03,
  /** Year, month and day equal a listed date of birth. */
  dateOfBirthExact: 0.05,
  /** The year falls in a listed date's range and month/day, where both give them, agree. */
  dateOfBirthYear: 0.02,
  /** The year is more than `dateOfBirthYearTolerance` from every listed date of birth. */
  dateOfBirthMismatch: -0.1,
  dateOfBirthYearTolerance: 1,
} as const;

type QueryDate = { year: number; month?: number; day?: number };

/** A validated query, normalised once. */
export type PreparedQuery = {
  tokens: string[];
  type?: NameKind;
  country?: { text: string; key: string[] };
  dateOfBirth?: QueryDate;
  /** The most the optional fields can add, so blocking knows how low a name score may still end above the threshold. */
  boostMax: number;
};

const nameKinds: readonly NameKind[] = ["individual", "entity", "vessel", "aircraft"];
const regionNames = new Intl.DisplayNames(["en"], { type: "region" });

function invalid(message: string): never {
  throw new ScreeningError("invalid_input", message);
}

function parseQueryDate(text: string): QueryDate {
  const match = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/.exec(text);
  if (!match) invalid(`dateOfBirth must be YYYY-MM-DD, YYYY-MM or YYYY, got ${JSON.stringify(text)}`);
  const year = Number(match[1]);
  if (match[2] === undefined) return { year };
  const month = Number(match[2]);
  if (month < 1 || month > 12) invalid(`dateOfBirth month must be 01–12, got ${match[2]}`);
  if (match[3] === undefined) return { year, month };
  const day = Number(match[3]);
  if (day < 1 || day > new Date(Date.UTC(year, month, 0)).getUTCDate()) invalid(`dateOfBirth ${text} is not a date`);
  return { year, month, day };
}

function queryCountry(text: string): { text: string; key: string[] } {
  if (text.length > queryLimits.countryLengthMax) invalid(`country is longer than ${queryLimits.countryLengthMax} characters`);
  const name = /^[A-Za-z]{2}$/.test(text) ? (regionNames.of(text.toUpperCase()) ?? text) : text;
  const key = countryKey(name);
  if (key.length === 0) invalid(`country ${JSON.stringify(text)} has no letters`);
  return { text: name, key };
}

export function prepareQuery(query: ScreeningQuery): PreparedQuery {
  if (typeof query.name !== "string" || query.name.length > queryLimits.nameLengthMax) {
    invalid(`name must be a string of at most ${queryLimits.nameLengthMax} characters`);
  }
  if (query.type !== undefined && !nameKinds.includes(query.type)) invalid(`type must be one of ${nameKinds.join(", ")}`);
  const tokens = nameTokens(query.name, query.type);
  if (tokens.length === 0) invalid("name has no letters or digits");
  const prepared: PreparedQuery = { tokens, boostMax: 0 };
  if (query.type !== undefined) prepared.type = query.type;
  if (query.country !== undefined) {
    prepared.country = queryCountry(query.country);
    prepared.boostMax += adjustments.countryMatch;
  }
  if (query.dateOfBirth !== undefined) {
    prepared.dateOfBirth = parseQueryDate(query.dateOfBirth);
    prepared.boostMax += adjustments.dateOfBirthExact;
  }
  return prepared;
}

function typeReason(query: PreparedQuery, entry: IndexedEntry): ScreeningReason | undefined {
  if (query.type === undefined) return undefined;
  const agree = query.type === entry.type;
  const detail = `query ${query.type}, listed ${entry.type}`;
  return { kind: "type", effect: agree ? 0 : adjustments.typeMismatch, detail };
}

function countryReason(query: PreparedQuery, entry: IndexedEntry): ScreeningReason | undefined {
  if (query.country === undefined) return undefined;
  if (entry.countryKeys.length === 0) return { kind: "country", effect: 0, detail: "no country listed" };
  const wanted = query.country.key;
  // One key's tokens within the other's: "Burma" agrees with "Myanmar (Burma)".
  const agrees = entry.countryKeys.some((key) => wanted.every((t) => key.includes(t)) || key.every((t) => wanted.includes(t)));
  return agrees
    ? { kind: "country", effect: adjustments.countryMatch, detail: `${query.country.text} is listed` }
    : { kind: "country", effect: adjustments.countryMismatch, detail: `${query.country.text} is not among the listed countries` };
}

function dateAgrees(date: QueryDate, listed: DateOfBirth): boolean {
  if (date.year < listed.yearFrom || date.year > listed.yearTo) return false;
  if (date.month !== undefined && listed.month !== undefined && date.month !== listed.month) return false;
  return date.day === undefined || listed.day === undefined || date.day === listed.day;
}

function dateOfBirthReason(query: PreparedQuery, entry: IndexedEntry): ScreeningReason | undefined {
  const date = query.dateOfBirth;
  if (date === undefined) return undefined;
  const listed = entry.datesOfBirth;
  if (listed.length === 0) return { kind: "dateOfBirth", effect: 0, detail: "no date of birth listed" };
  if (listed.some((d) => d.day !== undefined && date.day !== undefined && dateAgrees(date, d))) {
    return { kind: "dateOfBirth", effect: adjustments.dateOfBirthExact, detail: "same date of birth" };
  }
  if (listed.some((d) => dateAgrees(date, d))) {
    return { kind: "dateOfBirth", effect: adjustments.dateOfBirthYear, detail: "year of birth agrees" };
  }
  const tolerance = adjustments.dateOfBirthYearTolerance;
  if (listed.some((d) => date.year >= d.yearFrom - tolerance && date.year <= d.yearTo + tolerance)) {
    return { kind: "dateOfBirth", effect: 0, detail: "date of birth close to a listed one" };
  }
  return { kind: "dateOfBirth", effect: adjustments.dateOfBirthMismatch, detail: "date of birth differs from every listed one" };
}

/** The type, country and date-of-birth reasons for one entry, in that order, only for fields the query gave. */
export function evidenceReasons(query: PreparedQuery, entry: IndexedEntry): ScreeningReason[] {
  return [typeReason(query, entry), countryReason(query, entry), dateOfBirthReason(query, entry)].filter(
    (reason): reason is ScreeningReason => reason !== undefined,
  );
}
