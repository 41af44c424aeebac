// Screening a name against a sanctions list. Blocking keeps a query from comparing against every
// entry: each query token is compared only with the list's distinct tokens (the vocabulary), most of
// them ruled out by a letter-set bound, and only names holding a close token are scored in full.

import { jaroWinkler, prefixLengthMax, prefixScaleDefault } from "./jaro-winkler.js";
import { foldText, type NameKind, nameTokens } from "./normalize.js";
import type { DateOfBirth } from "./remarks.js";
import { ScreeningError } from "./screening-error.js";

/** What an index is built from; an `SdnEntry` from `parseSdnList` is one. */
export type ScreeningEntryInput = {
  id: number;
  name: string;
  type: NameKind;
  aliases?: readonly { name: string }[];
  countries?: readonly string[];
  datesOfBirth?: readonly DateOfBirth[];
};

export const screeningLimits = {
  entriesMax: 2_000_000,
  namesPerEntryMax: 1000,
} as const;

export type IndexedEntry = {
  id: number;
  name: string;
  type: NameKind;
  countryKeys: string[][];
  datesOfBirth: readonly DateOfBirth[];
};

const data = Symbol("screening index data");

export type IndexData = {
  entries: IndexedEntry[];
  nameEntry: Int32Array;
  nameText: string[];
  nameTokenStart: Int32Array;
  nameTokenIds: Int32Array;
  vocabulary: string[];
  vocabularyMasks: Int32Array;
  postings: Int32Array[];
  nameStamps: Uint32Array;
  epoch: number;
};

/** The arrays behind an index, for the screening functions in this folder only. */
export function indexDataOf(index: ScreeningIndex): IndexData {
  return index[data];
}

export type ScreeningIndex = {
  readonly entryCount: number;
  readonly nameCount: number;
  /** Distinct normalised tokens across all names. */
  readonly tokenCount: number;
  readonly [data]: IndexData;
};

/** 32 letter classes: a–z one bit each, digits and other letters folded onto the last six bits. */
function tokenMask(token: string): number {
  let mask = 0;
  for (let i = 0; i < token.length; i++) {
    const code = token.charCodeAt(i);
    const bit = code >= 97 && code <= 122 ? code - 97 : code >= 48 && code <= 57 ? 26 + ((code - 48) % 3) : 29 + (code % 3);
    mask |= 1 << bit;
  }
  return mask;
}

function popcount(value: number): number {
  let v = value - ((value >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** A country's comparison key: its folded tokens, sorted ("Korea, North" and "North Korea" agree). */
export function countryKey(country: string): string[] {
  return [...new Set(foldText(country).split(" ").filter(Boolean))].sort();
}

type Builder = {
  vocabularyIds: Map<string, number>;
  vocabulary: string[];
  postings: number[][];
  nameEntry: number[];
  nameText: string[];
  nameTokenStart: number[];
  nameTokenIds: number[];
};

function addName(builder: Builder, entryIndex: number, text: string, tokens: readonly string[]): void {
  const nameId = builder.nameText.length;
  builder.nameEntry.push(entryIndex);
  builder.nameText.push(text);
  builder.nameTokenStart.push(builder.nameTokenIds.length);
  for (const token of tokens) {
    let tokenId = builder.vocabularyIds.get(token);
    if (tokenId === undefined) {
      tokenId = builder.vocabulary.length;
      builder.vocabularyIds.set(token, tokenId);
      builder.vocabulary.push(token);
      builder.postings.push([]);
    }
    builder.nameTokenIds.push(tokenId);
    const posting = builder.postings[tokenId] as number[];
    if (posting[posting.length - 1] !== nameId) posting.push(nameId);
  }
}

function indexEntry(builder: Builder, entries: IndexedEntry[], input: ScreeningEntryInput): void {
  const aliases = input.aliases ?? [];
  if (aliases.length + 1 > screeningLimits.namesPerEntryMax) {
    throw new ScreeningError("limit_exceeded", `entry ${input.id} has more than ${screeningLimits.namesPerEntryMax} names`);
  }
  const entryIndex = entries.length;
  entries.push({
    id: input.id,
    name: input.name,
    type: input.type,
    countryKeys: (input.countries ?? []).map(countryKey).filter((key) => key.length > 0),
    datesOfBirth: input.datesOfBirth ?? [],
  });
  // The primary name first, so it is the one reported when an alias normalises to the same tokens.
  const seen = new Set<string>();
  for (const text of [input.name, ...aliases.map((alias) => alias.name)]) {
    const tokens = nameTokens(text, input.type);
    const key = tokens.join(" ");
    if (tokens.length === 0 || seen.has(key)) continue;
    seen.add(key);
    addName(builder, entryIndex, text, tokens);
  }
}

/** Normalises every name and alias once and indexes their tokens. Entry ids must be unique. */
export function createScreeningIndex(inputs: readonly ScreeningEntryInput[]): ScreeningIndex {
  if (inputs.length > screeningLimits.entriesMax) {
    throw new ScreeningError("limit_exceeded", `${inputs.length} entries, more than ${screeningLimits.entriesMax}`);
  }
  const builder: Builder = {
    vocabularyIds: new Map(),
    vocabulary: [],
    postings: [],
    nameEntry: [],
    nameText: [],
    nameTokenStart: [],
    nameTokenIds: [],
  };
  const entries: IndexedEntry[] = [];
  const ids = new Set<number>();
  for (const input of inputs) {
    if (ids.has(input.id)) throw new ScreeningError("invalid_input", `entry id ${input.id} appears twice`);
    ids.add(input.id);
    indexEntry(builder, entries, input);
  }
  builder.nameTokenStart.push(builder.nameTokenIds.length);
  const indexData: IndexData = {
    entries,
    nameEntry: Int32Array.from(builder.nameEntry),
    nameText: builder.nameText,
    nameTokenStart: Int32Array.from(builder.nameTokenStart),
    nameTokenIds: Int32Array.from(builder.nameTokenIds),
    vocabulary: builder.vocabulary,
    vocabularyMasks: Int32Array.from(builder.vocabulary, tokenMask),
    postings: builder.postings.map((posting) => Int32Array.from(posting)),
    nameStamps: new Uint32Array(builder.nameText.length),
    epoch: 0,
  };
  return {
    entryCount: entries.length,
    nameCount: builder.nameText.length,
    tokenCount: builder.vocabulary.length,
    [data]: indexData,
  };
}

/**
 * Vocabulary tokens whose Jaro–Winkler similarity to `token` may reach `floor`. Lossless: with
 * `onlyQuery` letter classes of the query token absent from a list token (and `onlyList` the
 * reverse), at most min(|q| − onlyQuery, |t| − onlyList) characters can match, which bounds Jaro,
 * and the largest prefix bonus bounds Jaro–Winkler; only tokens within the bound are compared.
 */
export function closeTokens(indexData: IndexData, token: string, floor: number, similarities: Map<number, number>): number[] {
  const mask = tokenMask(token);
  const length = token.length;
  const prefixBonusMax = prefixLengthMax * prefixScaleDefault;
  const close: number[] = [];
  const { vocabulary, vocabularyMasks } = indexData;
  for (let id = 0; id < vocabulary.length; id++) {
    const other = vocabulary[id] as string;
    const otherMask = vocabularyMasks[id] as number;
    const matchesMax = Math.min(length - popcount(mask & ~otherMask), other.length - popcount(otherMask & ~mask));
    if (matchesMax <= 0) continue;
    const jaroMax = (matchesMax / length + matchesMax / other.length + 1) / 3;
    if (jaroMax + prefixBonusMax * (1 - jaroMax) < floor) continue;
    const similarity = jaroWinkler(token, other);
    similarities.set(id, similarity);
    if (similarity >= floor) close.push(id);
  }
  return close;
}
