// Name normalisation for screening: both the list and the query go through the same steps, so
// "Vladímir Pútin", "PUTIN, Vladimir" and "putin vladimir" end as the same tokens.

/** Longest token kept (longer ones are cut) and most tokens per name, so one name costs bounded work. */
export const tokenLengthMax = 64;
export const nameTokensMax = 24;

// Letters that NFKD does not decompose into a base letter plus marks.
const extraFolds: Record<string, string> = {
  ß: "ss",
  æ: "ae",
  œ: "oe",
  ø: "o",
  đ: "d",
  ð: "d",
  þ: "th",
  ł: "l",
  ı: "i",
  ħ: "h",
  ŧ: "t",
  ŋ: "n",
  ſ: "s",
  ς: "σ",
};
const extraFoldPattern = new RegExp(`[${Object.keys(extraFolds).join("")}]`, "g");

/**
 * Case-folded, NFKD with combining marks removed, apostrophes dropped ("O'Brien" → "obrien"),
 * dotted abbreviations joined ("S.A." → "sa"), any other non-letter non-digit run → one space, trimmed.
 */
export function foldText(text: string): string {
  return text
    .replace(/['’ʼʻ`´]/g, "")
    .normalize("NFKD")
    .toLowerCase()
    .replace(/\p{M}+/gu, "")
    .replace(extraFoldPattern, (letter) => extraFolds[letter] ?? letter)
    .replace(/(?<![\p{L}\p{N}])(?:\p{L}\.){2,}/gu, (abbreviation) => abbreviation.replaceAll(".", ""))
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim();
}

/** Legal-form words and phrases removed from the end of a name (after folding). */
export const entitySuffixes: readonly string[] = [
  "llc",
  "ltd",
  "limited",
  "inc",
  "incorporated",
  "corp",
  "corporation",
  "co",
  "company",
  "gmbh",
  "mbh",
  "ag",
  "kg",
  "sa",
  "sas",
  "sarl",
  "srl",
  "spa",
  "sl",
  "bv",
  "nv",
  "plc",
  "llp",
  "lp",
  "jsc",
  "pjsc",
  "ojsc",
  "cjsc",
  "ooo",
  "zao",
  "oao",
  "pao",
  "ao",
  "tov",
  "pte",
  "pty",
  "bhd",
  "sdn bhd",
  "fze",
  "fzco",
  "fzc",
  "fz llc",
  "limited liability company",
  "limited liability partnership",
  "joint stock company",
  "open joint stock company",
  "closed joint stock company",
  "public joint stock company",
];

/** Legal forms also removed from the start of a name, where Russian and CIS names put them ("OOO ROMASHKA"). */
export const entityPrefixes: readonly string[] = [
  "ooo",
  "zao",
  "oao",
  "pao",
  "ao",
  "jsc",
  "pjsc",
  "ojsc",
  "cjsc",
  "tov",
  "limited liability company",
  "joint stock company",
  "open joint stock company",
  "closed joint stock company",
  "public joint stock company",
];

// Longest phrase first, so "open joint stock company" wins over "company".
const suffixPhrases = entitySuffixes.map((phrase) => phrase.split(" ")).sort((a, b) => b.length - a.length);
const prefixPhrases = entityPrefixes.map((phrase) => phrase.split(" ")).sort((a, b) => b.length - a.length);
const suffixWords = new Set(entitySuffixes.flatMap((phrase) => phrase.split(" ")));

function endsWith(tokens: readonly string[], end: number, phrase: readonly string[]): boolean {
  if (phrase.length > end) return false;
  return phrase.every((word, i) => tokens[end - phrase.length + i] === word);
}

function startsWith(tokens: readonly string[], start: number, phrase: readonly string[]): boolean {
  return phrase.every((word, i) => tokens[start + i] === word);
}

/** Removes legal forms at the end (repeatedly: "co ltd") and at the start, never the last remaining token. */
export function stripLegalForms(tokens: readonly string[]): string[] {
  let start = 0;
  let end = tokens.length;
  let changed = true;
  while (changed) {
    changed = false;
    for (const phrase of suffixPhrases) {
      if (end - start > phrase.length && endsWith(tokens, end, phrase)) {
        end -= phrase.length;
        changed = true;
        break;
      }
    }
  }
  for (const phrase of prefixPhrases) {
    if (end - start > phrase.length && startsWith(tokens, start, phrase)) {
      start += phrase.length;
      break;
    }
  }
  return tokens.slice(start, end);
}

/**
 * OFAC writes individuals "LAST, First Middle": with exactly one comma, the part after it goes first.
 * A comma before a legal form only ("ACME TRADING, LLC") is not a name inversion, unless the name is a person's.
 */
export function uninvertName(name: string, kind?: NameKind): string {
  const parts = name.split(",");
  if (parts.length !== 2) return name;
  const [before = "", after = ""] = parts;
  const afterTokens = foldText(after).split(" ").filter(Boolean);
  const legalForm = kind !== "individual" && afterTokens.every((token) => suffixWords.has(token));
  if (afterTokens.length === 0 || legalForm) return `${before} ${after}`;
  return `${after} ${before}`;
}

export type NameKind = "individual" | "entity" | "vessel" | "aircraft";

/**
 * The tokens a name is compared by. Legal forms are stripped unless the name is known to be a
 * person's (a person may be called "Sa" or "Ao"); an unknown kind is treated like an entity.
 */
export function nameTokens(name: string, kind?: NameKind): string[] {
  const folded = foldText(uninvertName(name, kind));
  if (folded === "") return [];
  let tokens = folded.split(" ");
  if (kind !== "individual") tokens = stripLegalForms(tokens);
  return tokens.slice(0, nameTokensMax).map((token) => token.slice(0, tokenLengthMax));
}

/** The normalised form of a name, tokens in order, for display and tests. */
export function normalizeName(name: string, kind?: NameKind): string {
  return nameTokens(name, kind).join(" ");
}
