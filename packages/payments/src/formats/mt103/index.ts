// SWIFT MT103 (legacy FIN): typed model, render, parse, validation.
export { decodeSwiftAmount, encodeSwiftAmount, type SwiftAmountResult, swiftAmountLengthMax } from "./amount.js";
export { findNonXCharacter } from "./charset.js";
export { Mt103Error, type Mt103Issue, type Mt103IssueCode } from "./errors.js";
export type * from "./model.js";
export { mt103LengthMax, parseMt103 } from "./parse.js";
export { renderMt103 } from "./render.js";
export { validateMt103 } from "./validate.js";
export { swiftLineLengthMax, wrapSwiftLines } from "./wrap.js";
