// Sample models shared by the NACHA tests (not exported from the package).

import type { EntryDetail, NachaFile } from "./model.js";
import { createReturnEntry } from "./returns.js";

const payrollCredit: EntryDetail = {
  transactionCode: "22",
  receivingDfiRoutingNumber: "231380104",
  dfiAccountNumber: "12345678",
  amountMinor: 150_000n,
  identificationNumber: "EMP001",
  receiverName: "JANE DOE",
  discretionaryData: "",
  traceNumber: "121042880000001",
  addenda: [{ typeCode: "05", paymentRelatedInformation: "PAYROLL NOV 2026" }],
};

const vendorDebitSavings: EntryDetail = {
  transactionCode: "37",
  receivingDfiRoutingNumber: "231380104",
  dfiAccountNumber: "SAV-42",
  amountMinor: 9_999n,
  identificationNumber: "INV-7",
  receiverName: "BOLT LLC",
  discretionaryData: "",
  traceNumber: "121042880000005",
  addenda: [],
};

/** A PPD payroll batch (credits) and a CCD vendor batch (debits) from ODFI 12104288. */
export function sampleFile(): NachaFile {
  // A fresh copy each call: tests mutate what they get.
  return structuredClone({
    header: {
      immediateDestination: "231380104",
      immediateOrigin: "121042882",
      fileCreationDate: "261126",
      fileCreationTime: "0931",
      fileIdModifier: "A",
      immediateDestinationName: "FEDERAL RESERVE BANK",
      immediateOriginName: "QENEX PAYMENTS",
      referenceCode: "",
    },
    batches: [
      {
        header: {
          serviceClassCode: "220",
          companyName: "QENEX PAYROLL",
          companyDiscretionaryData: "",
          companyIdentification: "1234567890",
          secCode: "PPD",
          companyEntryDescription: "PAYROLL",
          companyDescriptiveDate: "NOV 26",
          effectiveEntryDate: "261127",
          settlementDate: "",
          originatorStatusCode: "1",
          odfiIdentification: "12104288",
          batchNumber: 1,
        },
        entries: [
          payrollCredit,
          {
            transactionCode: "32",
            receivingDfiRoutingNumber: "011104238",
            dfiAccountNumber: "987654321",
            amountMinor: 275_050n,
            identificationNumber: "EMP002",
            receiverName: "JOHN ROE",
            discretionaryData: "",
            traceNumber: "121042880000002",
            addenda: [],
          },
          {
            transactionCode: "23",
            receivingDfiRoutingNumber: "021040078",
            dfiAccountNumber: "5555",
            amountMinor: 0n,
            identificationNumber: "EMP003",
            receiverName: "ANN LEE",
            discretionaryData: "",
            traceNumber: "121042880000003",
            addenda: [],
          },
        ],
      },
      {
        header: {
          serviceClassCode: "225",
          companyName: "QENEX TREASURY",
          companyDiscretionaryData: "",
          companyIdentification: "1234567890",
          secCode: "CCD",
          companyEntryDescription: "VENDORPAY",
          companyDescriptiveDate: "",
          effectiveEntryDate: "261127",
          settlementDate: "",
          originatorStatusCode: "1",
          odfiIdentification: "12104288",
          batchNumber: 2,
        },
        entries: [
          {
            transactionCode: "27",
            receivingDfiRoutingNumber: "021040078",
            dfiAccountNumber: "CORP-001",
            amountMinor: 1_234_567n,
            identificationNumber: "INV-6",
            receiverName: "ACME SUPPLY CO",
            discretionaryData: "",
            traceNumber: "121042880000004",
            addenda: [],
          },
          vendorDebitSavings,
        ],
      },
    ],
  } satisfies NachaFile);
}

/**
 * RDFI 231380104 returns two entries of sampleFile to ODFI 121042882: the PPD payroll credit
 * (R03, no account) and the CCD savings debit (R01, insufficient funds). Returns keep the
 * original SEC code, so each sits in its own batch.
 */
export function sampleReturnFile(): NachaFile {
  const returnedCredit = createReturnEntry({ original: payrollCredit, returnCode: "R03", traceNumber: "231380100000001" });
  const returnedDebit = createReturnEntry({
    original: vendorDebitSavings,
    returnCode: "R01",
    traceNumber: "231380100000002",
    addendaInformation: "NSF",
  });
  const batchHeader = {
    companyDiscretionaryData: "",
    companyIdentification: "1234567890",
    companyDescriptiveDate: "",
    effectiveEntryDate: "261201",
    settlementDate: "",
    originatorStatusCode: "1",
    odfiIdentification: "23138010",
  } as const;
  return {
    header: {
      immediateDestination: "121042882",
      immediateOrigin: "231380104",
      fileCreationDate: "261130",
      fileCreationTime: "1700",
      fileIdModifier: "R",
      immediateDestinationName: "WELLS FARGO",
      immediateOriginName: "CITADEL",
      referenceCode: "RETURNS",
    },
    batches: [
      {
        header: {
          ...batchHeader,
          serviceClassCode: "220",
          companyName: "QENEX PAYROLL",
          secCode: "PPD",
          companyEntryDescription: "PAYROLL",
          batchNumber: 1,
        },
        entries: [returnedCredit],
      },
      {
        header: {
          ...batchHeader,
          serviceClassCode: "225",
          companyName: "QENEX TREASURY",
          secCode: "CCD",
          companyEntryDescription: "VENDORPAY",
          batchNumber: 2,
        },
        entries: [returnedDebit],
      },
    ],
  };
}
