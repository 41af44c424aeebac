// screen(): a name (and optionally type, country, date of birth) against an index, best candidates first.

import { evidenceReasons, type PreparedQuery, prepareQuery, type ScreeningQuery, type ScreeningReason } from "./evidence.js";
import { jaroWinkler } from "./jaro-winkler.js";
import { scoreNameTokens } from "./name-score.js";
import type { NameKind } from "./normalize.js";
import { ScreeningError } from "./screening-error.js";
import { closeTokens, type IndexData, indexDataOf, type ScreeningIndex } from "./screening-index.js";

export const thresholdDefault = 0.88;
export const limitDefault = 10;
export const limitMax = 1000;

export type ScreeningOptions = {
  /** Lowest score reported, in [0, 1]; default 0.88. */
  threshold?: number;
  /** Most candidates returned, 1–1000; default 10. */
  limit?: number;
};

export type ScreeningCandidate = {
  /** ent_num */
  id: number;
  name: string;
  type: NameKind;
  /** The listed name or alias that scored best, as listed. */
  matchedAlias: string;
  matchedPrimaryName: boolean;
  /** In [0, 1]: the name score plus the reasons' effects. */
  score: number;
  nameScore: number;
  reasons: ScreeningReason[];
};

type Bounds = { threshold: number; limit: number };

function bounds(options: ScreeningOptions): Bounds {
  const threshold = options.threshold ?? thresholdDefault;
  const limit = options.limit ?? limitDefault;
  if (!(threshold >= 0 && threshold <= 1)) throw new ScreeningError("invalid_input", `threshold must be in [0, 1], got ${threshold}`);
  if (!Number.isInteger(limit) || limit < 1 || limit > limitMax) {
    throw new ScreeningError("invalid_input", `limit must be an integer in 1..${limitMax}, got ${limit}`);
  }
  return { threshold, limit };
}

/** Token similarities for one query, each pair computed at most once. */
type Similarities = Map<number, number>[];

function nameScorer(indexData: IndexData, query: PreparedQuery, similarities: Similarities): (nameId: number) => number {
  const { nameTokenStart, nameTokenIds, vocabulary } = indexData;
  let start = 0;
  // One array reused for every name: scoring tens of thousands of names allocates nothing per name.
  const tokens: string[] = [];
  const similarity = (queryIndex: number, candidateIndex: number): number => {
    const tokenId = nameTokenIds[start + candidateIndex] as number;
    const cache = similarities[queryIndex] as Map<number, number>;
    let value = cache.get(tokenId);
    if (value === undefined) {
      value = jaroWinkler(query.tokens[queryIndex] as string, vocabulary[tokenId] as string);
      cache.set(tokenId, value);
    }
    return value;
  };
  return (nameId) => {
    start = nameTokenStart[nameId] as number;
    const end = nameTokenStart[nameId + 1] as number;
    tokens.length = 0;
    for (let i = start; i < end; i++) tokens.push(vocabulary[nameTokenIds[i] as number] as string);
    return scoreNameTokens(query.tokens, tokens, similarity);
  };
}

/**
 * Names holding a token within `floor` of some query token. Lossless: a name scores at most the
 * length-weighted mean of its token pairs' similarities, so a name with no such token scores below
 * `floor`; `floor` is the threshold less the most the query's country and date of birth can add.
 */
function blockedNames(indexData: IndexData, query: PreparedQuery, floor: number, similarities: Similarities): number[] {
  indexData.epoch = (indexData.epoch + 1) >>> 0;
  if (indexData.epoch === 0) {
    indexData.nameStamps.fill(0);
    indexData.epoch = 1;
  }
  const { epoch, nameStamps, postings } = indexData;
  const names: number[] = [];
  query.tokens.forEach((token, queryIndex) => {
    for (const tokenId of closeTokens(indexData, token, floor, similarities[queryIndex] as Map<number, number>)) {
      for (const nameId of postings[tokenId] as Int32Array) {
        if (nameStamps[nameId] === epoch) continue;
        nameStamps[nameId] = epoch;
        names.push(nameId);
      }
    }
  });
  return names;
}

function rank(
  indexData: IndexData,
  query: PreparedQuery,
  nameIds: ArrayLike<number>,
  similarities: Similarities,
  { threshold, limit }: Bounds,
): ScreeningCandidate[] {
  const floor = threshold - query.boostMax;
  const score = nameScorer(indexData, query, similarities);
  const bestByEntry = new Map<number, { nameId: number; nameScore: number }>();
  for (let i = 0; i < nameIds.length; i++) {
    const nameId = nameIds[i] as number;
    const nameScore = score(nameId);
    if (nameScore < floor) continue;
    const entryIndex = indexData.nameEntry[nameId] as number;
    const best = bestByEntry.get(entryIndex);
    if (best === undefined || nameScore > best.nameScore) bestByEntry.set(entryIndex, { nameId, nameScore });
  }
  const candidates: ScreeningCandidate[] = [];
  for (const [entryIndex, { nameId, nameScore }] of bestByEntry) {
    const entry = indexData.entries[entryIndex] as (typeof indexData.entries)[number];
    const evidence = evidenceReasons(query, entry);
    const total = Math.min(
      1,
      Math.max(
        0,
        evidence.reduce((sum, reason) => sum + reason.effect, nameScore),
      ),
    );
    if (total < threshold) continue;
    const matchedAlias = indexData.nameText[nameId] as string;
    const nameReason: ScreeningReason = { kind: "name", effect: nameScore, detail: `"${query.tokens.join(" ")}" ~ "${matchedAlias}"` };
    candidates.push({
      id: entry.id,
      name: entry.name,
      type: entry.type,
      matchedAlias,
      matchedPrimaryName: matchedAlias === entry.name,
      score: total,
      nameScore,
      reasons: [nameReason, ...evidence],
    });
  }
  candidates.sort((a, b) => b.score - a.score || a.id - b.id);
  return candidates.slice(0, limit);
}

/** Candidates scoring at least the threshold, best first (ties by id), at most `limit`. */
export function screen(index: ScreeningIndex, query: ScreeningQuery, options: ScreeningOptions = {}): ScreeningCandidate[] {
  const limits = bounds(options);
  const prepared = prepareQuery(query);
  const indexData = indexDataOf(index);
  const similarities: Similarities = prepared.tokens.map(() => new Map());
  const names = blockedNames(indexData, prepared, limits.threshold - prepared.boostMax, similarities);
  return rank(indexData, prepared, names, similarities, limits);
}

/** The same scoring over every name in the index, no blocking: the baseline `screen` must agree with. */
export function screenExhaustive(index: ScreeningIndex, query: ScreeningQuery, options: ScreeningOptions = {}): ScreeningCandidate[] {
  const limits = bounds(options);
  const prepared = prepareQuery(query);
  const indexData = indexDataOf(index);
  const similarities: Similarities = prepared.tokens.map(() => new Map());
  const allNames = Int32Array.from({ length: indexData.nameText.length }, (_, id) => id);
  return rank(indexData, prepared, allNames, similarities, limits);
}
