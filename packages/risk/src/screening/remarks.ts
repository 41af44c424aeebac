// Facts OFAC writes into the free-text Remarks column: "DOB 07 Oct 1952; POB Leningrad, Russia;
// nationality Russia; citizen Russia; Gender Male; ...". Unreadable fragments are skipped, not errors:
// the column is prose, and a name is still screenable without them.

/** A listed date of birth: a year range (one year when exact), with month and day when OFAC gives them. */
export type DateOfBirth = {
  yearFrom: number;
  yearTo: number;
  month?: number;
  day?: number;
};

/** "circa 1960" covers this many years either side. */
export const circaYears = 2;

const months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

function monthNumber(name: string): number | undefined {
  const index = months.indexOf(name.slice(0, 3).toLowerCase());
  return index < 0 ? undefined : index + 1;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function plausibleYear(year: number): boolean {
  return year >= 1800 && year <= 2200;
}

/** One OFAC date: "07 Oct 1952", "Oct 1952", "1952", "circa 1952", "1950 to 1953". */
export function parseOfacDate(text: string): DateOfBirth | undefined {
  const value = text.trim().replace(/\s+/g, " ");
  let match = /^(circa )?(\d{4})$/i.exec(value);
  if (match) {
    const year = Number(match[2]);
    if (!plausibleYear(year)) return undefined;
    const spread = match[1] ? circaYears : 0;
    return { yearFrom: year - spread, yearTo: year + spread };
  }
  match = /^(\d{1,2}) ([A-Za-z]{3,9}) (\d{4})$/.exec(value);
  if (match) {
    const day = Number(match[1]);
    const month = monthNumber(match[2] ?? "");
    const year = Number(match[3]);
    if (month === undefined || !plausibleYear(year) || day < 1 || day > daysInMonth(year, month)) return undefined;
    return { yearFrom: year, yearTo: year, month, day };
  }
  match = /^([A-Za-z]{3,9}) (\d{4})$/.exec(value);
  if (match) {
    const month = monthNumber(match[1] ?? "");
    const year = Number(match[2]);
    if (month === undefined || !plausibleYear(year)) return undefined;
    return { yearFrom: year, yearTo: year, month };
  }
  match = /^(?:\d{1,2} )?(?:[A-Za-z]{3,9} )?(\d{4}) to (?:\d{1,2} )?(?:[A-Za-z]{3,9} )?(\d{4})$/.exec(value);
  if (match) {
    const yearFrom = Number(match[1]);
    const yearTo = Number(match[2]);
    if (!plausibleYear(yearFrom) || !plausibleYear(yearTo) || yearFrom > yearTo) return undefined;
    return { yearFrom, yearTo };
  }
  return undefined;
}

function clauses(remarks: string): string[] {
  return remarks
    .split(";")
    .map((clause) => clause.trim().replace(/^alt\.\s*/i, ""))
    .filter(Boolean);
}

/** Every "DOB …" and "alt. DOB …" clause that reads as a date. */
export function datesOfBirthFromRemarks(remarks: string): DateOfBirth[] {
  const dates: DateOfBirth[] = [];
  for (const clause of clauses(remarks)) {
    const match = /^DOB\s+(.+)$/i.exec(clause);
    const date = match?.[1] === undefined ? undefined : parseOfacDate(match[1]);
    if (date) dates.push(date);
  }
  return dates;
}

/** Countries from "nationality X" and "citizen X" clauses ("Nationality of Registration" is a vessel's flag, skipped). */
export function countriesFromRemarks(remarks: string): string[] {
  const countries: string[] = [];
  for (const clause of clauses(remarks)) {
    const match = /^(?:nationality|citizen)\s+(?!of\b)(.+)$/i.exec(clause);
    const country = match?.[1]?.trim();
    if (country && country.length <= 64) countries.push(country);
  }
  return countries;
}
