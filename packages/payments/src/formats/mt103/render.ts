import { encodeSwiftAmount } from "./amount.js";
import { Mt103Error } from "./errors.js";
import { textToFields } from "./fields.js";
import type { Mt103Message, Mt103Money } from "./model.js";
import { validateMt103 } from "./validate.js";

function encoded(money: Mt103Money): string {
  const result = encodeSwiftAmount(money.amount, money.currency);
  // validateMt103 has already rejected every amount that fails here.
  if (!result.ok) throw new Error(`unreachable: ${result.reason}`);
  return result.value;
}

/** Writes a FIN MT103 (blocks 1-5, CRLF inside block 4); throws Mt103Error listing every problem. */
export function renderMt103(message: Mt103Message): string {
  const issues = validateMt103(message);
  if (issues.length > 0) throw new Mt103Error(issues);
  const { basicHeader: b1, applicationHeader: b2, userHeader: b3, text } = message;
  const block1 = `{1:F01${b1.senderLtAddress}${b1.sessionNumber}${b1.sequenceNumber}}`;
  const block2 = `{2:I103${b2.receiverLtAddress}${b2.priority}${b2.deliveryMonitoring ?? ""}${b2.obsolescencePeriod ?? ""}}`;
  const mur = b3.messageUserReference === undefined ? "" : `{108:${b3.messageUserReference}}`;
  const block3 = `{3:${mur}${b3.stp ? "{119:STP}" : ""}{121:${b3.uetr}}}`;
  const fields = textToFields(text, {
    settlement: encoded(text.interbankSettlement),
    charges: (text.sendersCharges ?? []).map(encoded),
  });
  const block4 = `{4:\r\n${fields.map((field) => `:${field.tag}:${field.lines.join("\r\n")}`).join("\r\n")}\r\n-}`;
  const trailer = message.trailer ?? [];
  const block5 = trailer.length === 0 ? "" : `{5:${trailer.map(({ tag, value }) => `{${tag}:${value}}`).join("")}}`;
  return block1 + block2 + block3 + block4 + block5;
}
