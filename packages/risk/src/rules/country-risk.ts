// Country risk from the FATF public lists, as data. The lists change at every FATF plenary
// (February, June, October): whoever owns AML compliance must update them after each one.
import type { CountryRiskLevel } from "../features/feature-set.js";

/** Date of the FATF publication the lists below reproduce (plenary outcome, 13 February 2026). */
export const fatfListsAsOf = "2026-02-13";

/**
 * FATF "High-Risk Jurisdictions subject to a Call for Action" (the black list) → "prohibited".
 * https://www.fatf-gafi.org/en/countries/black-and-grey-lists.html
 */
export const fatfCallForAction: ReadonlyMap<string, string> = new Map([
  ["KP", "Democratic People's Republic of Korea"],
  ["IR", "Iran"],
  ["MM", "Myanmar"],
]);

/**
 * FATF "Jurisdictions under Increased Monitoring" (the grey list) → "high". As of February 2026:
 * the October 2025 list (Burkina Faso, Mozambique, Nigeria and South Africa removed) plus
 * Kuwait and Papua New Guinea, added in February 2026.
 */
export const fatfIncreasedMonitoring: ReadonlyMap<string, string> = new Map([
  ["DZ", "Algeria"],
  ["AO", "Angola"],
  ["BO", "Bolivia"],
  ["BG", "Bulgaria"],
  ["CM", "Cameroon"],
  ["CI", "Côte d'Ivoire"],
  ["CD", "Democratic Republic of the Congo"],
  ["HT", "Haiti"],
  ["KE", "Kenya"],
  ["KW", "Kuwait"],
  ["LA", "Lao PDR"],
  ["LB", "Lebanon"],
  ["MC", "Monaco"],
  ["NA", "Namibia"],
  ["NP", "Nepal"],
  ["PG", "Papua New Guinea"],
  ["SS", "South Sudan"],
  ["SY", "Syria"],
  ["VE", "Venezuela"],
  ["VN", "Vietnam"],
  ["VG", "Virgin Islands (UK)"],
  ["YE", "Yemen"],
]);

/**
 * Risk level of an ISO 3166-1 alpha-2 code (upper case): "prohibited" for the FATF black
 * list, "high" for the grey list, "low" otherwise. "medium" is never returned from the FATF
 * data; it is left for the operator's own assessments (e.g. a national list).
 */
export function countryRisk(code: string): CountryRiskLevel {
  if (!/^[A-Z]{2}$/.test(code))
    throw new RangeError(`country code must be ISO 3166-1 alpha-2 in upper case, got ${JSON.stringify(code.slice(0, 16))}`);
  if (fatfCallForAction.has(code)) return "prohibited";
  if (fatfIncreasedMonitoring.has(code)) return "high";
  return "low";
}
