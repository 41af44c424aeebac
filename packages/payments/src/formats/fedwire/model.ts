// Typed model of a legacy Fedwire Funds (FAIM tag format) message, the subset this codec supports.

export type FedwireBusinessFunctionCode = "BTR" | "CKS" | "CTP" | "CTR" | "DEP" | "DRB" | "DRC" | "DRW" | "FFR" | "FFS" | "SVC";

/** Party ID codes of {4200}/{5000}: B BIC, C CHIPS participant, D DDA account, F Fed RTN, T BIC/BEI + account, U CHIPS ID, 1-5 and 9 personal/corporate IDs. */
export type FedwireIdentificationCode = "B" | "C" | "D" | "F" | "T" | "U" | "1" | "2" | "3" | "4" | "5" | "9";

/** {1500}: format version 30, user request correlation (≤8), test/production, duplication ("" original, R, P). */
export interface FedwireSenderSupplied {
  formatVersion: "30";
  userRequestCorrelation: string;
  testProductionCode: "T" | "P";
  messageDuplicationCode: "" | "R" | "P";
}

/** {1510}: type code (2 digits) and subtype code (2 digits), e.g. 10 and 00. */
export interface FedwireTypeSubtype {
  typeCode: string;
  subtypeCode: string;
}

/** {1520} IMAD: cycle date (YYYY-MM-DD in the model, CCYYMMDD on the wire) + input source (8) + sequence (6 digits). */
export interface FedwireImad {
  cycleDate: string;
  inputSource: string;
  inputSequenceNumber: string;
}

/** {3100} / {3400}: ABA routing number + short name (≤18). */
export interface FedwireDepositoryInstitution {
  routingNumber: string;
  shortName: string;
}

/** {3600}: business function code + optional transaction type code (3). */
export interface FedwireBusinessFunction {
  code: FedwireBusinessFunctionCode;
  transactionTypeCode?: string;
}

/** {4200} / {5000}: ID code + identifier (≤34) + name (≤35) + up to 3 address lines (≤35). */
export interface FedwireParty {
  identificationCode: FedwireIdentificationCode;
  identifier: string;
  name: string;
  addressLines: string[];
}

export interface FedwireMessage {
  senderSupplied: FedwireSenderSupplied;
  typeSubtype: FedwireTypeSubtype;
  imad: FedwireImad;
  /** {2000}: US dollars as a decimal string ("1000.00"); USD only, never a JS number. */
  amountUsd: string;
  senderDepositoryInstitution: FedwireDepositoryInstitution;
  /** {3320}: sender reference (≤16). */
  senderReference?: string;
  receiverDepositoryInstitution: FedwireDepositoryInstitution;
  businessFunction: FedwireBusinessFunction;
  /** {4200}: mandatory for CTR. */
  beneficiary?: FedwireParty;
  /** {5000}: mandatory for CTR. */
  originator?: FedwireParty;
  /** {6000}: originator to beneficiary information, up to 4 lines of 35. */
  originatorToBeneficiary?: string[];
}
