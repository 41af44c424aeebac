// Fedwire names routing numbers as the rest of the package does: one implementation.
export { abaCheckDigit, isValidAbaRoutingNumber } from "../../aba.js";
