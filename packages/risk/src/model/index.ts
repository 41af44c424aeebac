// The model's public surface, for the package's index.ts to re-export.

export {
  defaultScoreThreshold,
  type IsolationForest,
  type IsolationForestJson,
  type IsolationForestOptions,
  type IsolationTreeJson,
  isolationForestDefaults,
  isolationForestFromJson,
  isolationForestLimits,
  trainIsolationForest,
  upperQuantile,
} from "./isolation-forest.js";
export { type Confusion, confusionAt, type Label, metricsRowsMax, precisionRecallAt, precisionRecallOf, rocAuc } from "./metrics.js";
export { ModelError, type ModelErrorCode } from "./model-error.js";
export { type LabelledData, parseLabelledCsv, splitTrainTest } from "./odds.js";
export { averagePathLength, harmonic } from "./path-length.js";
export { createRandom, type Random } from "./random.js";
