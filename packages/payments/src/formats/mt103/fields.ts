// The model's block 4 as FIN fields (tag + lines), in MT103 order: shared by render and parse.
import type { Mt103BicParty, Mt103NamedParty, Mt103Text } from "./model.js";

export interface Mt103Field {
  tag: string;
  lines: string[];
}

const fieldSlot: Readonly<Record<string, number>> = {
  "20": 0,
  "23B": 1,
  "32A": 2,
  "50A": 3,
  "50K": 3,
  "52A": 4,
  "57A": 5,
  "59": 6,
  "59A": 6,
  "70": 7,
  "71A": 8,
  "71F": 9,
};

/** Position of a tag in MT103 order (50A/50K and 59/59A share one), or undefined when unsupported. */
export function fieldRank(tag: string): number | undefined {
  return fieldSlot[tag];
}

function accountLine(account: string | undefined): string[] {
  return account === undefined ? [] : [`/${account}`];
}

function bicPartyLines(party: Mt103BicParty): string[] {
  return [...accountLine(party.account), party.bic];
}

function namedPartyLines(party: Mt103NamedParty): string[] {
  return [...accountLine(party.account), ...party.nameAndAddress];
}

/** YYYY-MM-DD → YYMMDD; the caller has validated the date. */
function swiftDate(isoDate: string): string {
  return isoDate.slice(2, 4) + isoDate.slice(5, 7) + isoDate.slice(8, 10);
}

/** Maps the model to fields; `amounts` are the already-encoded 15d strings (32A, then each 71F). */
export function textToFields(text: Mt103Text, amounts: { settlement: string; charges: string[] }): Mt103Field[] {
  const fields: Mt103Field[] = [
    { tag: "20", lines: [text.sendersReference] },
    { tag: "23B", lines: [text.bankOperationCode] },
    { tag: "32A", lines: [`${swiftDate(text.valueDate)}${text.interbankSettlement.currency}${amounts.settlement}`] },
  ];
  const ordering = text.orderingCustomer;
  fields.push(ordering.option === "A" ? { tag: "50A", lines: bicPartyLines(ordering) } : { tag: "50K", lines: namedPartyLines(ordering) });
  if (text.orderingInstitution) fields.push({ tag: "52A", lines: bicPartyLines(text.orderingInstitution) });
  if (text.accountWithInstitution) fields.push({ tag: "57A", lines: bicPartyLines(text.accountWithInstitution) });
  const beneficiary = text.beneficiary;
  fields.push(
    beneficiary.option === "A" ? { tag: "59A", lines: bicPartyLines(beneficiary) } : { tag: "59", lines: namedPartyLines(beneficiary) },
  );
  if (text.remittanceInformation) fields.push({ tag: "70", lines: [...text.remittanceInformation] });
  fields.push({ tag: "71A", lines: [text.detailsOfCharges] });
  (text.sendersCharges ?? []).forEach((charge, index) => {
    fields.push({ tag: "71F", lines: [`${charge.currency}${amounts.charges[index] ?? ""}`] });
  });
  return fields;
}
