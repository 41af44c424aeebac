// OFAC's legacy CSV files of the SDN list (treasury.gov "SDN.CSV", "ALT.CSV", "ADD.CSV"): no header
// row, fields quoted with doubled quotes inside, the literal -0- (often "-0- ") for an empty field,
// CRLF line ends, and a DOS end-of-file byte (0x1A) on the last line.

import { type Info, parse } from "csv-parse/sync";
import type { NameKind } from "./normalize.js";
import { countriesFromRemarks, type DateOfBirth, datesOfBirthFromRemarks } from "./remarks.js";
import { ScreeningError } from "./screening-error.js";

export type SdnLimits = {
  /** Most entries in sdn.csv (the real list holds about 18,000). */
  entriesMax: number;
  /** Longest field, in characters. */
  fieldLengthMax: number;
  /** Most aliases, and most addresses, per entry. */
  perEntryMax: number;
};

export const sdnLimitsDefault: SdnLimits = { entriesMax: 2_000_000, fieldLengthMax: 4096, perEntryMax: 1000 };

export type SdnAlias = { altNum: number; type: string; name: string; remarks?: string };
export type SdnAddress = { addNum: number; address?: string; cityStatePostal?: string; country?: string; remarks?: string };
export type SdnVessel = {
  callSign?: string;
  vesselType?: string;
  tonnage?: string;
  grossRegisteredTonnage?: string;
  flag?: string;
  owner?: string;
};

/** One SDN entry with its aliases and addresses, and what its Remarks say about birth dates and countries. */
export type SdnEntry = {
  /** ent_num */
  id: number;
  name: string;
  /** SDN_Type; OFAC leaves it -0- for entities. */
  type: NameKind;
  programs: string[];
  title?: string;
  remarks?: string;
  vessel?: SdnVessel;
  aliases: SdnAlias[];
  addresses: SdnAddress[];
  /** Address countries, nationality, citizenship and a vessel's flag, as OFAC spells them, without repeats. */
  countries: string[];
  datesOfBirth: DateOfBirth[];
};

export type SdnFiles = { sdn: string; alt?: string; add?: string };

type Row = { line: number; fields: (string | undefined)[] };

function fail(file: string, line: number, reason: string): never {
  throw new ScreeningError("malformed_list", `${file} line ${line}: ${reason}`);
}

/** Rows of one file with -0- fields as undefined; every row has exactly `columns` fields. */
function readRows(file: string, text: string, columns: number, rowsMax: number, limits: SdnLimits): Row[] {
  const trimmed = text.trimEnd();
  const body = trimmed.endsWith("\u001a") ? trimmed.slice(0, -1) : text;
  let records: { record: string[]; info: Info }[];
  try {
    records = parse(body, {
      info: true,
      bom: true,
      relax_column_count: true,
      skip_empty_lines: true,
      max_record_size: columns * (limits.fieldLengthMax + 3) + 16,
      on_record: (record, context) => {
        if (context.records > rowsMax) fail(file, context.lines, `more than ${rowsMax} rows`);
        return record;
      },
      // csv-parse's types do not model `info: true`, which wraps each record with its position.
    }) as unknown as { record: string[]; info: Info }[];
  } catch (error) {
    if (error instanceof ScreeningError) throw error;
    const csvError = error as { lines?: number; message?: string };
    fail(file, csvError.lines ?? 0, `not valid CSV (${csvError.message ?? String(error)})`);
  }
  return records.map(({ record, info }) => {
    // info.lines is where the record ends; a quoted field may hold line breaks.
    const line = info.lines - record.reduce((breaks, field) => breaks + (field.match(/\n/g)?.length ?? 0), 0);
    if (record.length !== columns) fail(file, line, `expected ${columns} fields, got ${record.length}`);
    const fields = record.map((field, i) => {
      if (field.length > limits.fieldLengthMax) {
        fail(file, line, `field ${i + 1} is ${field.length} characters, more than ${limits.fieldLengthMax}`);
      }
      const value = field.trim();
      return value === "-0-" || value === "" ? undefined : value;
    });
    return { line, fields };
  });
}

function positiveInteger(file: string, row: Row, index: number, column: string): number {
  const value = row.fields[index];
  if (value === undefined || !/^\d{1,9}$/.test(value) || Number(value) === 0) {
    fail(file, row.line, `${column} must be a positive integer, got ${JSON.stringify(value ?? "-0-")}`);
  }
  return Number(value);
}

/** Copies the defined values only: optional fields stay absent rather than undefined. */
function defined<T extends object>(value: { [K in keyof T]: T[K] | undefined }): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

const sdnTypes: Record<string, NameKind> = { individual: "individual", vessel: "vessel", aircraft: "aircraft" };

function sdnEntry(row: Row): SdnEntry {
  const id = positiveInteger("sdn.csv", row, 0, "ent_num");
  const [, name, rawType, program, title, callSign, vesselType, tonnage, grt, flag, owner, remarks] = row.fields;
  if (name === undefined) fail("sdn.csv", row.line, "SDN_Name is empty");
  const type = rawType === undefined ? "entity" : sdnTypes[rawType.toLowerCase()];
  if (type === undefined) fail("sdn.csv", row.line, `unknown SDN_Type ${JSON.stringify(rawType)}`);
  // Several programs print as "SDGT] [IRGC": the file drops only the outermost brackets.
  const programs = (program ?? "").split(/\]\s*\[/).map((p) => p.replace(/[[\]]/g, "").trim());
  const vessel = defined<SdnVessel>({ callSign, vesselType, tonnage, grossRegisteredTonnage: grt, flag, owner });
  return defined<SdnEntry>({
    id,
    name,
    type,
    programs: programs.filter(Boolean),
    title,
    remarks,
    vessel: Object.keys(vessel).length > 0 ? vessel : undefined,
    aliases: [],
    addresses: [],
    countries: [],
    datesOfBirth: remarks === undefined ? [] : datesOfBirthFromRemarks(remarks),
  });
}

function owner(file: "alt.csv" | "add.csv", row: Row, byId: Map<number, SdnEntry>, limits: SdnLimits): SdnEntry {
  const id = positiveInteger(file, row, 0, "ent_num");
  const entry = byId.get(id);
  if (entry === undefined) fail(file, row.line, `ent_num ${id} is not in sdn.csv`);
  const rows = file === "alt.csv" ? entry.aliases : entry.addresses;
  if (rows.length >= limits.perEntryMax) fail(file, row.line, `ent_num ${id} has more than ${limits.perEntryMax} rows`);
  return entry;
}

function addAliases(text: string, byId: Map<number, SdnEntry>, limits: SdnLimits): void {
  const rowsMax = limits.entriesMax * limits.perEntryMax;
  for (const row of readRows("alt.csv", text, 5, rowsMax, limits)) {
    const entry = owner("alt.csv", row, byId, limits);
    const altNum = positiveInteger("alt.csv", row, 1, "alt_num");
    const [, , type, name, remarks] = row.fields;
    if (name === undefined) fail("alt.csv", row.line, "alt_name is empty");
    entry.aliases.push(defined<SdnAlias>({ altNum, type: type ?? "aka", name, remarks }));
  }
}

function addAddresses(text: string, byId: Map<number, SdnEntry>, limits: SdnLimits): void {
  const rowsMax = limits.entriesMax * limits.perEntryMax;
  for (const row of readRows("add.csv", text, 6, rowsMax, limits)) {
    const entry = owner("add.csv", row, byId, limits);
    const addNum = positiveInteger("add.csv", row, 1, "add_num");
    const [, , address, cityStatePostal, country, remarks] = row.fields;
    entry.addresses.push(defined<SdnAddress>({ addNum, address, cityStatePostal, country, remarks }));
  }
}

function countriesOf(entry: SdnEntry): string[] {
  const all = [
    ...entry.addresses.map((address) => address.country),
    ...(entry.remarks === undefined ? [] : countriesFromRemarks(entry.remarks)),
    entry.vessel?.flag,
  ];
  return [...new Set(all.filter((country): country is string => country !== undefined))];
}

/**
 * The SDN list from the text of sdn.csv and, when given, alt.csv and add.csv. Malformed input is
 * refused whole with the file, the line and the reason; nothing is half-loaded.
 */
export function parseSdnList(files: SdnFiles, limits: Partial<SdnLimits> = {}): SdnEntry[] {
  const bounds = { ...sdnLimitsDefault, ...limits };
  const byId = new Map<number, SdnEntry>();
  for (const row of readRows("sdn.csv", files.sdn, 12, bounds.entriesMax, bounds)) {
    const entry = sdnEntry(row);
    if (byId.has(entry.id)) fail("sdn.csv", row.line, `ent_num ${entry.id} appears twice`);
    byId.set(entry.id, entry);
  }
  if (files.alt !== undefined) addAliases(files.alt, byId, bounds);
  if (files.add !== undefined) addAddresses(files.add, byId, bounds);
  const entries = [...byId.values()];
  for (const entry of entries) entry.countries = countriesOf(entry);
  return entries;
}
