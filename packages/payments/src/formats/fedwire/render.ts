import { encodeFedwireAmount } from "./amount.js";
import { FedwireError } from "./errors.js";
import type { FedwireMessage, FedwireParty } from "./model.js";
import { validateFedwire } from "./validate.js";

function partyElements(party: FedwireParty): string {
  const address = [0, 1, 2].map((index) => `${party.addressLines[index] ?? ""}*`).join("");
  return `${party.identificationCode}${party.identifier}*${party.name}*${address}`;
}

/**
 * Writes the tags in ascending order, one per line, with '*'-delimited variable-length elements
 * (the form of moov-io/wire's variable-length output); throws FedwireError listing every problem.
 */
export function renderFedwire(message: FedwireMessage): string {
  const issues = validateFedwire(message);
  if (issues.length > 0) throw new FedwireError(issues);
  const amount = encodeFedwireAmount(message.amountUsd);
  // validateFedwire has already rejected every amount that fails here.
  if (!amount.ok) throw new Error(`unreachable: ${amount.reason}`);
  const { senderSupplied: s, typeSubtype, imad, senderDepositoryInstitution: sender, receiverDepositoryInstitution: receiver } = message;
  const tags = [
    `{1500}${s.formatVersion}${s.userRequestCorrelation.padEnd(8, " ")}${s.testProductionCode}${s.messageDuplicationCode || " "}`,
    `{1510}${typeSubtype.typeCode}${typeSubtype.subtypeCode}`,
    `{1520}${imad.cycleDate.replaceAll("-", "")}${imad.inputSource}${imad.inputSequenceNumber}`,
    `{2000}${amount.value}`,
    `{3100}${sender.routingNumber}${sender.shortName}*`,
  ];
  if (message.senderReference !== undefined) tags.push(`{3320}${message.senderReference}*`);
  tags.push(`{3400}${receiver.routingNumber}${receiver.shortName}*`);
  tags.push(`{3600}${message.businessFunction.code}${(message.businessFunction.transactionTypeCode ?? "").padEnd(3, " ")}*`);
  if (message.beneficiary) tags.push(`{4200}${partyElements(message.beneficiary)}`);
  if (message.originator) tags.push(`{5000}${partyElements(message.originator)}`);
  if (message.originatorToBeneficiary) tags.push(`{6000}${message.originatorToBeneficiary.map((line) => `${line}*`).join("")}`);
  return tags.join("\n");
}
