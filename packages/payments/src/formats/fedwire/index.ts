// Fedwire Funds legacy tag format (FAIM): typed model, render, parse, validation. Legacy only: live Fedwire is ISO 20022.
export { decodeFedwireAmount, encodeFedwireAmount, type FedwireAmountResult, fedwireAmountMinorMax } from "./amount.js";
export { FedwireError, type FedwireIssue, type FedwireIssueCode } from "./errors.js";
export type * from "./model.js";
export { fedwireLengthMax, fedwireSupportedTags, parseFedwire } from "./parse.js";
export { renderFedwire } from "./render.js";
export { fedwireLineLengthMax, validateFedwire } from "./validate.js";
