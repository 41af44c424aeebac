// ISO 20022 messages: typed models, render to XML, parse back, scheme validators.
export type {
  Account,
  Agent,
  ChargeBearer,
  LocalInstrument,
  Money,
  OriginalGroup,
  Party,
  PaymentType,
  PostalAddress,
  SettledGroupHeader,
  SettlementMethod,
} from "./common.js";
export {
  checkPacs002,
  type OriginalGroupStatus,
  type Pacs002,
  pacs002Namespace,
  parsePacs002,
  renderPacs002,
  type StatusReason,
  type TransactionStatus,
  type TransactionStatusEntry,
  transactionStatuses,
} from "./pacs002.js";
export {
  checkPacs004,
  type Pacs004,
  pacs004Namespace,
  parsePacs004,
  type ReturnedTransaction,
  type ReturnReason,
  renderPacs004,
} from "./pacs004.js";
export {
  type CreditTransfer,
  checkPacs008,
  type Pacs008,
  pacs008Namespace,
  parsePacs008,
  renderPacs008,
} from "./pacs008.js";
export {
  checkPain001,
  type InitiationTransfer,
  type Pain001,
  type PaymentInstruction,
  type PaymentMethod,
  pain001Namespace,
  parsePain001,
  renderPain001,
} from "./pain001.js";
export {
  validateCbprPacs002,
  validateCbprPacs004,
  validateCbprPacs008,
  validateFedwirePacs004,
  validateFedwirePacs008,
  validateSepaPacs008,
  validateSepaPain001,
} from "./schemes.js";
export { Iso20022Error, type Violation } from "./violations.js";
export { repeatedElementsMax, xmlCharsMax } from "./xml.js";
