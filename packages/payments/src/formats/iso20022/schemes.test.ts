import { describe, expect, it } from "vitest";
import { cbprPacs008, fedwirePacs008, pacs002Example, pacs004Example, sepaPacs008, sepaPain001, sepaTransfer } from "./fixtures.js";
import type { Pacs008 } from "./pacs008.js";
import type { Pain001 } from "./pain001.js";
import {
  validateCbprPacs002,
  validateCbprPacs004,
  validateCbprPacs008,
  validateFedwirePacs004,
  validateFedwirePacs008,
  validateSepaPacs008,
  validateSepaPain001,
} from "./schemes.js";
import type { Violation } from "./violations.js";

const tx0 = "FIToFICstmrCdtTrf/CdtTrfTxInf[0]";

function withTransfer(patch: Partial<Pacs008["transactions"][number]>): Pacs008 {
  return { ...sepaPacs008, transactions: [{ ...sepaTransfer, ...patch }] };
}

function paths(violations: readonly Violation[]): string[] {
  return violations.map((v) => v.path);
}

describe("SEPA", () => {
  it("accepts a SEPA pacs.008 and a SEPA pain.001", () => {
    expect(validateSepaPacs008(sepaPacs008)).toEqual([]);
    expect(validateSepaPain001(sepaPain001)).toEqual([]);
  });

  it("rejects a currency other than EUR", () => {
    const violations = validateSepaPacs008(withTransfer({ interbankSettlementAmount: { currency: "USD", amount: "10.00" } }));
    expect(violations).toEqual([{ path: `${tx0}/IntrBkSttlmAmt/@Ccy`, reason: "SEPA credit transfers are in EUR only, not USD" }]);
  });

  it("rejects amounts outside 0.01 to 999,999,999.99 EUR", () => {
    expect(paths(validateSepaPacs008(withTransfer({ interbankSettlementAmount: { currency: "EUR", amount: "1000000000.00" } })))).toEqual([
      `${tx0}/IntrBkSttlmAmt`,
    ]);
    expect(paths(validateSepaPacs008(withTransfer({ interbankSettlementAmount: { currency: "EUR", amount: "0.00" } })))).toEqual([
      `${tx0}/IntrBkSttlmAmt`,
    ]);
  });

  it("rejects characters outside the EPC Latin set, naming the element and the characters", () => {
    const violations = validateSepaPacs008(
      withTransfer({ creditor: { name: "Jürgen Ωmega" }, remittanceInformation: ["Invoice #12 & co"] }),
    );
    expect(violations).toEqual([
      { path: `${tx0}/Cdtr/Nm`, reason: 'characters outside the SEPA Latin set: "ü" "Ω"' },
      { path: `${tx0}/RmtInf/Ustrd[0]`, reason: 'characters outside the SEPA Latin set: "#" "&"' },
    ]);
  });

  it("rejects non-IBAN or invalid IBAN accounts, a charge bearer other than SLEV and missing BICs", () => {
    const violations = validateSepaPacs008(
      withTransfer({
        debtorAccount: { kind: "other", id: "12345" },
        creditorAccount: { kind: "iban", iban: "NL91ABNA0417164301" },
        chargeBearer: "SHAR",
        creditorAgent: { clearingSystemMember: { memberId: "1" } },
      }),
    );
    expect(paths(violations)).toEqual([
      `${tx0}/ChrgBr`,
      `${tx0}/DbtrAcct/Id`,
      `${tx0}/CdtrAcct/Id/IBAN`,
      `${tx0}/CdtrAgt/FinInstnId/BICFI`,
    ]);
  });

  it("applies SEPA's shorter limits: names of 70, one Ustrd line, ids without // or a leading /", () => {
    const violations = validateSepaPacs008({
      ...withTransfer({ debtor: { name: "A".repeat(71) }, remittanceInformation: ["one", "two"], endToEndId: "/E2E" }),
      messageId: "MSG//1",
    });
    expect(paths(violations)).toEqual([
      `${tx0}/RmtInf/Ustrd`,
      "FIToFICstmrCdtTrf/GrpHdr/MsgId",
      `${tx0}/PmtId/EndToEndId`,
      `${tx0}/Dbtr/Nm`,
    ]);
  });

  it("checks pain.001 instructed amounts, creditor IBANs and charge bearer", () => {
    const [first, second] = sepaPain001.paymentInstructions;
    if (first === undefined || second === undefined) throw new Error("fixture changed");
    const [tx] = first.transactions;
    if (tx === undefined) throw new Error("fixture changed");
    const bad: Pain001 = {
      ...sepaPain001,
      paymentInstructions: [
        {
          ...first,
          chargeBearer: "DEBT",
          transactions: [{ ...tx, instructedAmount: { currency: "CHF", amount: "1.00" }, creditorAccount: { kind: "other", id: "9" } }],
        },
        second,
      ],
    };
    expect(paths(validateSepaPain001(bad))).toEqual([
      "CstmrCdtTrfInitn/PmtInf[0]/ChrgBr",
      "CstmrCdtTrfInitn/PmtInf[0]/CdtTrfTxInf[0]/Amt/InstdAmt/@Ccy",
      "CstmrCdtTrfInitn/PmtInf[0]/CdtTrfTxInf[0]/CdtrAcct/Id",
    ]);
  });

  it("reports schema violations first instead of scheme rules", () => {
    expect(validateSepaPacs008({ ...sepaPacs008, messageId: "" })).toEqual([
      { path: "FIToFICstmrCdtTrf/GrpHdr/MsgId", reason: "must not be empty" },
    ]);
  });
});

describe("CBPR+", () => {
  it("accepts a pacs.008 with UETR and BIC-identified agents, and pacs.002/.004 with original UETRs", () => {
    expect(validateCbprPacs008(cbprPacs008)).toEqual([]);
    expect(validateCbprPacs002(pacs002Example)).toEqual([]);
    expect(validateCbprPacs004(pacs004Example)).toEqual([]);
  });

  it("rejects a missing UETR", () => {
    const [tx] = cbprPacs008.transactions;
    if (tx === undefined) throw new Error("fixture changed");
    const { uetr: _omitted, ...withoutUetr } = tx;
    expect(validateCbprPacs008({ ...cbprPacs008, transactions: [withoutUetr] })).toEqual([
      { path: `${tx0}/PmtId/UETR`, reason: "CBPR+ requires the UETR" },
    ]);
    const [entry] = pacs002Example.transactions ?? [];
    if (entry === undefined) throw new Error("fixture changed");
    const { originalUetr: _gone, ...entryWithout } = entry;
    expect(paths(validateCbprPacs002({ ...pacs002Example, transactions: [entryWithout] }))).toEqual([
      "FIToFIPmtStsRpt/TxInfAndSts[0]/OrgnlUETR",
    ]);
  });

  it("rejects agents without a BICFI, missing instructing agents and more than one transaction", () => {
    expect(paths(validateCbprPacs008(fedwirePacs008))).toEqual([
      `${tx0}/InstgAgt/FinInstnId/BICFI`,
      `${tx0}/InstdAgt/FinInstnId/BICFI`,
      `${tx0}/DbtrAgt/FinInstnId/BICFI`,
      `${tx0}/CdtrAgt/FinInstnId/BICFI`,
    ]);
    expect(paths(validateCbprPacs008(sepaPacs008))).toEqual([]);
    const two = { ...cbprPacs008, transactions: [...cbprPacs008.transactions, ...cbprPacs008.transactions] };
    expect(paths(validateCbprPacs008(two))).toEqual(["FIToFICstmrCdtTrf/GrpHdr/NbOfTxs"]);
  });
});

describe("Fedwire", () => {
  it("accepts a USD pacs.008 and pacs.004 cleared through FDW", () => {
    expect(validateFedwirePacs008(fedwirePacs008)).toEqual([]);
    expect(validateFedwirePacs004(pacs004Example)).toEqual([]);
  });

  it("rejects a currency other than USD, a missing UETR and settlement outside FDW", () => {
    expect(paths(validateFedwirePacs008(sepaPacs008))).toEqual([
      "FIToFICstmrCdtTrf/GrpHdr/SttlmInf/ClrSys/Cd",
      `${tx0}/IntrBkSttlmAmt/@Ccy`,
    ]);
    const [ret] = pacs004Example.transactions;
    if (ret === undefined) throw new Error("fixture changed");
    const euroReturn = { ...ret, returnedInterbankSettlementAmount: { currency: "EUR", amount: "1.00" } };
    expect(validateFedwirePacs004({ ...pacs004Example, transactions: [euroReturn] })).toEqual([
      { path: "PmtRtr/TxInf[0]/RtrdIntrBkSttlmAmt/@Ccy", reason: "Fedwire settles USD only, not EUR" },
    ]);
  });
});
