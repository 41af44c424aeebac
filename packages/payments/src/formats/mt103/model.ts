// Typed model of an MT103 (single customer credit transfer), the subset this codec supports.

export type Mt103Priority = "N" | "U" | "S";
export type BankOperationCode = "CRED" | "CRTS" | "SPAY" | "SPRI" | "SSTD";
export type DetailsOfCharges = "OUR" | "SHA" | "BEN";

/** Block 1: `F01` + sender LT address (BIC8 + LT code + branch3) + session (4n) + sequence (6n). */
export interface Mt103BasicHeader {
  senderLtAddress: string;
  sessionNumber: string;
  sequenceNumber: string;
}

/** Block 2, input form only: `I103` + receiver LT address + priority [+ delivery monitoring][+ obsolescence]. */
export interface Mt103ApplicationHeader {
  receiverLtAddress: string;
  priority: Mt103Priority;
  deliveryMonitoring?: "1" | "2" | "3";
  obsolescencePeriod?: string;
}

/** Block 3: {108:MUR}, {119:STP}, {121:UETR}. */
export interface Mt103UserHeader {
  uetr: string;
  stp?: boolean;
  messageUserReference?: string;
}

/** Option A party: [/account] + BIC. */
export interface Mt103BicParty {
  account?: string;
  bic: string;
}

/** Option K (50K) or no-letter (59) party: [/account] + 1 to 4 lines of name and address. */
export interface Mt103NamedParty {
  account?: string;
  nameAndAddress: string[];
}

export type Mt103OrderingCustomer = ({ option: "K" } & Mt103NamedParty) | ({ option: "A" } & Mt103BicParty);
export type Mt103Beneficiary = ({ option: "none" } & Mt103NamedParty) | ({ option: "A" } & Mt103BicParty);

/** An amount in a currency: a decimal string with a '.' ("1000.00"), never a JS number. */
export interface Mt103Money {
  currency: string;
  amount: string;
}

/** Block 4 fields, in MT103 order. */
export interface Mt103Text {
  /** :20: 16x. */
  sendersReference: string;
  /** :23B:. */
  bankOperationCode: BankOperationCode;
  /** :32A: date as YYYY-MM-DD (rendered YYMMDD; years 2000-2099 only). */
  valueDate: string;
  /** :32A: currency and amount. */
  interbankSettlement: Mt103Money;
  /** :50A: or :50K:. */
  orderingCustomer: Mt103OrderingCustomer;
  /** :52A:. */
  orderingInstitution?: Mt103BicParty;
  /** :57A:. */
  accountWithInstitution?: Mt103BicParty;
  /** :59: or :59A:. */
  beneficiary: Mt103Beneficiary;
  /** :70: 1 to 4 lines of 35; build them with `wrapSwiftLines`. */
  remittanceInformation?: string[];
  /** :71A:. */
  detailsOfCharges: DetailsOfCharges;
  /** :71F: (repeatable): charges deducted by a sender. */
  sendersCharges?: Mt103Money[];
}

/** Block 5 tag such as {CHK:123456789ABC}. */
export interface Mt103TrailerTag {
  tag: string;
  value: string;
}

export interface Mt103Message {
  basicHeader: Mt103BasicHeader;
  applicationHeader: Mt103ApplicationHeader;
  userHeader: Mt103UserHeader;
  text: Mt103Text;
  trailer?: Mt103TrailerTag[];
}
