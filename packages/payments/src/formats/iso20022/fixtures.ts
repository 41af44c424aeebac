// Test support: well-formed example messages, one per type, built to pass SEPA,
// CBPR+ or Fedwire as named. IBANs and BICs are the published check vectors.
import type { Pacs002 } from "./pacs002.js";
import type { Pacs004 } from "./pacs004.js";
import type { CreditTransfer, Pacs008 } from "./pacs008.js";
import type { Pain001 } from "./pain001.js";

export const uetr = "8a562c67-ca16-48ba-b074-65581be6f011";
export const uetr2 = "3f2b7a4e-9c1d-4e5f-a6b7-c8d9e0f1a2b3";

export const sepaTransfer: CreditTransfer = {
  instructionId: "INSTR-1",
  endToEndId: "E2E-1",
  transactionId: "TX-1",
  uetr,
  paymentType: { serviceLevelCode: "SEPA" },
  interbankSettlementAmount: { currency: "EUR", amount: "1250.50" },
  interbankSettlementDate: "2026-03-02",
  chargeBearer: "SLEV",
  instructingAgent: { bicfi: "DEUTDEFFXXX" },
  instructedAgent: { bicfi: "ABNANL2A" },
  debtor: { name: "Erika Mustermann", postalAddress: { townName: "Berlin", country: "DE" } },
  debtorAccount: { kind: "iban", iban: "DE89370400440532013000" },
  debtorAgent: { bicfi: "DEUTDEFFXXX" },
  creditorAgent: { bicfi: "ABNANL2A" },
  creditor: { name: "Jan de Vries" },
  creditorAccount: { kind: "iban", iban: "NL91ABNA0417164300" },
  remittanceInformation: ["Invoice 2026-001"],
};

export const sepaPacs008: Pacs008 = {
  messageId: "MSG-2026-0001",
  createdAt: "2026-03-02T10:15:30Z",
  settlementMethod: "CLRG",
  transactions: [sepaTransfer],
};

/** The smallest valid pacs.008: only the elements the XSD requires. */
export const minimalPacs008: Pacs008 = {
  messageId: "M1",
  createdAt: "2026-03-02T10:15:30",
  settlementMethod: "INDA",
  transactions: [
    {
      endToEndId: "NOTPROVIDED",
      interbankSettlementAmount: { currency: "JPY", amount: "1000" },
      chargeBearer: "SHAR",
      debtor: {},
      debtorAgent: { bicfi: "BOTKJPJT" },
      creditorAgent: { clearingSystemMember: { memberId: "12345" } },
      creditor: {},
    },
  ],
};

export const fedwirePacs008: Pacs008 = {
  messageId: "20260302B1QDRCQR000001",
  createdAt: "2026-03-02T09:00:00-05:00",
  settlementMethod: "CLRG",
  clearingSystemCode: "FDW",
  transactions: [
    {
      instructionId: "Scenario01InstrId001",
      endToEndId: "Scenario01EtoEId001",
      uetr,
      paymentType: { localInstrument: { proprietary: "CTRC" } },
      interbankSettlementAmount: { currency: "USD", amount: "510000.74" },
      interbankSettlementDate: "2026-03-02",
      instructedAmount: { currency: "USD", amount: "510000.74" },
      chargeBearer: "SLEV",
      instructingAgent: { clearingSystemMember: { systemCode: "USABA", memberId: "011104238" } },
      instructedAgent: { clearingSystemMember: { systemCode: "USABA", memberId: "021040078" } },
      debtor: { name: "Corporation A", postalAddress: { streetName: "Avenue A", buildingNumber: "66", country: "US" } },
      debtorAccount: { kind: "other", id: "5647772655" },
      debtorAgent: { clearingSystemMember: { systemCode: "USABA", memberId: "011104238" }, name: "Bank A" },
      creditorAgent: { clearingSystemMember: { systemCode: "USABA", memberId: "021040078" } },
      creditor: { name: "Corporation B", postalAddress: { addressLines: ["1 Desert View Street", "Palm Springs CA"] } },
      creditorAccount: { kind: "other", id: "567876543" },
    },
  ],
};

export const cbprPacs008: Pacs008 = {
  messageId: "CBPR-0001",
  createdAt: "2026-03-02T10:15:30+01:00",
  settlementMethod: "INDA",
  transactions: [
    {
      instructionId: "CBPR-INSTR-1",
      endToEndId: "CBPR-E2E-1",
      uetr: uetr2,
      interbankSettlementAmount: { currency: "GBP", amount: "99.99" },
      interbankSettlementDate: "2026-03-02",
      chargeBearer: "SHAR",
      instructingAgent: { bicfi: "DEUTDEFF" },
      instructedAgent: { bicfi: "NWBKGB2L" },
      debtor: { name: "Müller & Söhne <GmbH>" },
      debtorAccount: { kind: "iban", iban: "DE89370400440532013000" },
      debtorAgent: { bicfi: "DEUTDEFF" },
      creditorAgent: { bicfi: "NWBKGB2L" },
      creditor: { name: 'O\'Brien "Trading" Ltd' },
      creditorAccount: { kind: "iban", iban: "GB82WEST12345698765432" },
      remittanceInformation: ["Ref: A&B <2026> 'x' \"y\"", "second line"],
    },
  ],
};

export const pacs002Example: Pacs002 = {
  messageId: "STS-0001",
  createdAt: "2026-03-02T10:20:00Z",
  originalGroups: [
    {
      originalMessageId: "MSG-2026-0001",
      originalMessageNameId: "pacs.008.001.08",
      originalCreatedAt: "2026-03-02T10:15:30Z",
      groupStatus: "PART",
    },
  ],
  transactions: [
    {
      statusId: "STS-1",
      originalGroup: { messageId: "MSG-2026-0001", messageNameId: "pacs.008.001.08" },
      originalInstructionId: "INSTR-1",
      originalEndToEndId: "E2E-1",
      originalTransactionId: "TX-1",
      originalUetr: uetr,
      status: "ACSC",
      acceptedAt: "2026-03-02T10:19:00Z",
      instructingAgent: { bicfi: "ABNANL2A" },
      instructedAgent: { bicfi: "DEUTDEFFXXX" },
      originalInterbankSettlementAmount: { currency: "EUR", amount: "1250.50" },
    },
    {
      originalEndToEndId: "E2E-2",
      originalUetr: uetr2,
      status: "RJCT",
      statusReasons: [{ reason: { code: "AC04" }, additionalInformation: ["Account closed"] }, { reason: { code: "AM04" } }],
    },
    { originalEndToEndId: "E2E-3", originalUetr: uetr2, status: "PDNG" },
    { originalEndToEndId: "E2E-4", originalUetr: uetr, status: "ACCP", statusReasons: [{ reason: { proprietary: "X1" } }] },
  ],
};

export const pacs004Example: Pacs004 = {
  messageId: "RTR-0001",
  createdAt: "2026-03-03T08:00:00Z",
  settlementMethod: "CLRG",
  clearingSystemCode: "FDW",
  transactions: [
    {
      returnId: "RTR-1",
      originalGroup: { messageId: "20260302B1QDRCQR000001", messageNameId: "pacs.008.001.08" },
      originalInstructionId: "Scenario01InstrId001",
      originalEndToEndId: "Scenario01EtoEId001",
      originalTransactionId: "TX-9",
      originalUetr: uetr,
      originalInterbankSettlementAmount: { currency: "USD", amount: "510000.74" },
      returnedInterbankSettlementAmount: { currency: "USD", amount: "510000.74" },
      interbankSettlementDate: "2026-03-03",
      chargeBearer: "SLEV",
      instructingAgent: { clearingSystemMember: { systemCode: "USABA", memberId: "021040078" } },
      instructedAgent: { clearingSystemMember: { systemCode: "USABA", memberId: "011104238" } },
      returnReasons: [{ reason: { code: "AC04" }, additionalInformation: ["Closed 2026-02-28"] }],
    },
    {
      originalEndToEndId: "E2E-2",
      originalUetr: uetr2,
      returnedInterbankSettlementAmount: { currency: "USD", amount: "0.01" },
      returnReasons: [{ reason: { code: "DUPL" } }],
    },
  ],
};

export const sepaPain001: Pain001 = {
  messageId: "PAIN-0001",
  createdAt: "2026-03-01T16:00:00+01:00",
  initiatingParty: { name: "Erika Mustermann" },
  paymentInstructions: [
    {
      paymentInformationId: "PMT-1",
      paymentMethod: "TRF",
      batchBooking: false,
      paymentType: { serviceLevelCode: "SEPA" },
      requestedExecutionDate: "2026-03-02",
      debtor: { name: "Erika Mustermann" },
      debtorAccount: { kind: "iban", iban: "DE89370400440532013000" },
      debtorAgent: { bicfi: "DEUTDEFFXXX" },
      chargeBearer: "SLEV",
      transactions: [
        {
          instructionId: "I-1",
          endToEndId: "E-1",
          instructedAmount: { currency: "EUR", amount: "100.00" },
          creditorAgent: { bicfi: "ABNANL2A" },
          creditor: { name: "Jan de Vries" },
          creditorAccount: { kind: "iban", iban: "NL91ABNA0417164300" },
          remittanceInformation: ["Rent March"],
        },
        {
          endToEndId: "E-2",
          uetr: uetr2,
          instructedAmount: { currency: "EUR", amount: "999999999.99" },
          creditor: { name: "Societe Generale (client)" },
          creditorAccount: { kind: "iban", iban: "FR1420041010050500013M02606" },
        },
      ],
    },
    {
      paymentInformationId: "PMT-2",
      paymentMethod: "TRF",
      requestedExecutionDate: "2026-03-05T09:00:00Z",
      debtor: { name: "Erika Mustermann" },
      debtorAccount: { kind: "iban", iban: "DE89370400440532013000" },
      debtorAgent: { clearingSystemMember: { memberId: "37040044" } },
      transactions: [
        {
          endToEndId: "E-3",
          instructedAmount: { currency: "EUR", amount: "0.01" },
          creditor: { name: "Jan de Vries" },
          creditorAccount: { kind: "iban", iban: "NL91ABNA0417164300" },
        },
      ],
    },
  ],
};
