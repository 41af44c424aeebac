// The Payments service's libraries so far: message formats (each a namespace, since they
// share names like `parse` and `render`), validation of payment instructions and rail routing.
// The service itself (lifecycle, outbox, adapters) is not built yet.
export { abaCheckDigit, isValidAbaRoutingNumber } from "./aba.js";
export * as fedwire from "./formats/fedwire/index.js";
export * as iso20022 from "./formats/iso20022/index.js";
export * as mt103 from "./formats/mt103/index.js";
export * as nacha from "./formats/nacha/index.js";
export { chooseRail, defaultRoutingConfig, type RailChoice, type RoutingConfig } from "./routing/choose-rail.js";
export { validateBic } from "./validation/bic.js";
export { validateIban } from "./validation/iban.js";
export type { PaymentInstruction } from "./validation/instruction.js";
export { type Rail, type RequestedRail, railProfiles } from "./validation/rails.js";
export { defaultValidationConfig, type ValidationConfig, validatePayment } from "./validation/validate-payment.js";
export type { Violation } from "./validation/violation.js";
