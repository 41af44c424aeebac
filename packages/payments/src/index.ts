// The Payments service (qenex.payments.v1.PaymentsService) and its libraries: message formats
// (each a namespace, since they share names like `parse` and `render`), validation of payment
// instructions and rail routing.
import type { Migration } from "@qenex/platform";
import { simulatedNetworkMigrations } from "./rails/simulated-network.js";
import { paymentsMigrations as serviceMigrations } from "./store/migrations.js";

export { abaCheckDigit, isValidAbaRoutingNumber } from "./aba.js";
export { canTransition, finalStates } from "./domain/lifecycle.js";
export type { PaymentRecord, PaymentState } from "./domain/payment.js";
export * as fedwire from "./formats/fedwire/index.js";
export * as iso20022 from "./formats/iso20022/index.js";
export * as mt103 from "./formats/mt103/index.js";
export * as nacha from "./formats/nacha/index.js";
export { chooseRail, defaultRoutingConfig, type RailChoice, type RoutingConfig } from "./routing/choose-rail.js";
export { bindPayments, type PaymentsOptions } from "./service/bind.js";
export { validateBic } from "./validation/bic.js";
export { validateIban } from "./validation/iban.js";
export type { PaymentInstruction } from "./validation/instruction.js";
export { type Rail, type RequestedRail, railProfiles } from "./validation/rails.js";
export { defaultValidationConfig, type ValidationConfig, validatePayment } from "./validation/validate-payment.js";
export type { Violation } from "./validation/violation.js";

/** The service's tables and its simulated networks' tables (versions 100 and up), applied as one list. */
export const paymentsMigrations: readonly Migration[] = [...serviceMigrations, ...simulatedNetworkMigrations];
