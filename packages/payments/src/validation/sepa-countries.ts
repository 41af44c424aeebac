// The SEPA zone by IBAN country code, as data: AUTO routing and the SEPA rail both read it.

/**
 * The 37 IBAN country codes of the EPC SEPA schemes' geographical scope, the same set
 * ibantools 4.5.4 flags as SEPA (a test holds the two together): the EU 27, the EEA
 * (IS, LI, NO), and AD, CH, GB, GI, MC, SM, VA. Accounts in territories in scope (French overseas
 * departments, Åland, the Crown Dependencies) carry FR, FI or GB IBANs in practice.
 * Albania, Moldova, Montenegro and North Macedonia joined the schemes' scope in 2024–25 (not
 * checked against the EPC list); they stay out until confirmed — pass a wider set in the config.
 */
export const sepaCountries: ReadonlySet<string> = new Set([
  "AD",
  "AT",
  "BE",
  "BG",
  "CH",
  "CY",
  "CZ",
  "DE",
  "DK",
  "EE",
  "ES",
  "FI",
  "FR",
  "GB",
  "GI",
  "GR",
  "HR",
  "HU",
  "IE",
  "IS",
  "IT",
  "LI",
  "LT",
  "LU",
  "LV",
  "MC",
  "MT",
  "NL",
  "NO",
  "PL",
  "PT",
  "RO",
  "SE",
  "SI",
  "SK",
  "SM",
  "VA",
]);
