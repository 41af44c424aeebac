// NACHA's receiving DFI ids and check digits use the package's one ABA implementation.
export { abaCheckDigit, isValidAbaRoutingNumber as isValidRoutingNumber } from "../../aba.js";
