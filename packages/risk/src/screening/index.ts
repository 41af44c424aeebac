// Sanctions screening against OFAC's SDN list: the public surface of this folder.

export { adjustments, queryLimits, type ScreeningQuery, type ScreeningReason } from "./evidence.js";
export { jaro, jaroWinkler } from "./jaro-winkler.js";
export { type NameScoreWeights, nameScoreWeightsDefault, scoreNameTokens } from "./name-score.js";
export { entityPrefixes, entitySuffixes, foldText, type NameKind, nameTokens, normalizeName } from "./normalize.js";
export { type ReadSdnOptions, readSdnDirectory, sdnFileBytesMax } from "./read-sdn-directory.js";
export { type DateOfBirth, parseOfacDate } from "./remarks.js";
export {
  limitDefault,
  limitMax,
  type ScreeningCandidate,
  type ScreeningOptions,
  screen,
  screenExhaustive,
  thresholdDefault,
} from "./screen.js";
export { ScreeningError, type ScreeningErrorCode } from "./screening-error.js";
export {
  createScreeningIndex,
  type ScreeningEntryInput,
  type ScreeningIndex,
  screeningLimits,
} from "./screening-index.js";
export {
  parseSdnList,
  type SdnAddress,
  type SdnAlias,
  type SdnEntry,
  type SdnFiles,
  type SdnLimits,
  type SdnVessel,
  sdnLimitsDefault,
} from "./sdn-csv.js";
