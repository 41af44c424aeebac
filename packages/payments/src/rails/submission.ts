// What the simulated network reads from a submitted message: one entry per payment, with the
// facts its replies need. Parsing proves the message well formed; a malformed one throws.
import { formatMoney } from "@qenex/platform";
import * as fedwire from "../formats/fedwire/index.js";
import * as iso20022 from "../formats/iso20022/index.js";
import * as mt103 from "../formats/mt103/index.js";
import * as nacha from "../formats/nacha/index.js";
import type { Rail } from "../validation/rails.js";
import { paymentIdFrom } from "./ids.js";
import { endToEndIdNotProvided, mt103MessageId } from "./messages.js";
import type { AchReturnItem, ReplySubject } from "./replies.js";
import type { WireMessage } from "./types.js";

export interface SubmittedPayment {
  readonly paymentId: string;
  readonly subject: ReplySubject;
  /** ACH only: the entry as sent, for a return file. */
  readonly achItem?: AchReturnItem;
}

export class SubmissionError extends Error {
  override readonly name = "SubmissionError";
}

function refuse(message: WireMessage, reason: string): never {
  throw new SubmissionError(`${message.messageType} ${message.messageId}: ${reason}`);
}

/** Reads the message for `rail`; its payments must be exactly `paymentIds`, in order for ISO, MT and Fedwire. */
export function readSubmission(rail: Rail, message: WireMessage, paymentIds: readonly string[]): SubmittedPayment[] {
  const kind = `${message.format} ${message.messageType}`;
  let payments: SubmittedPayment[];
  try {
    if (kind === "ISO20022 pacs.008.001.08" && rail !== "ACH") payments = readPacs008(rail, message, paymentIds);
    else if (kind === "MT103 MT103" && rail === "SWIFT") payments = readMt103(message, paymentIds);
    else if (kind === "FEDWIRE_TAGS Fedwire tags" && rail === "FEDWIRE") payments = readFedwireTags(message, paymentIds);
    else if (kind === "NACHA NACHA" && rail === "ACH") payments = readAchFile(message, paymentIds);
    else refuse(message, `${rail} does not take ${kind}`);
  } catch (error) {
    if (error instanceof SubmissionError) throw error;
    refuse(message, `malformed: ${(error as Error).message}`);
  }
  return payments;
}

function expectCount(message: WireMessage, found: number, paymentIds: readonly string[]): void {
  if (found !== paymentIds.length) refuse(message, `carries ${found} payments, but ${paymentIds.length} paymentIds were given`);
}

function readPacs008(rail: Rail, message: WireMessage, paymentIds: readonly string[]): SubmittedPayment[] {
  const model = iso20022.parsePacs008(message.content);
  if (model.messageId !== message.messageId) refuse(message, `the document's MsgId is ${model.messageId}`);
  expectCount(message, model.transactions.length, paymentIds);
  return model.transactions.map((tx, i) => {
    const paymentId = paymentIds[i] as string;
    const named = paymentIdFrom(tx.instructionId, tx.transactionId);
    if (named !== undefined && named !== paymentId) refuse(message, `transaction ${i} carries payment ${named}, not ${paymentId}`);
    const subject: ReplySubject = {
      rail,
      paymentId,
      ...(tx.uetr === undefined ? {} : { uetr: tx.uetr }),
      amount: tx.interbankSettlementAmount,
      originalMessageId: model.messageId,
      originalMessageNameId: "pacs.008.001.08",
      originalEndToEndId: tx.endToEndId,
      instructingAgent: tx.creditorAgent,
      instructedAgent: tx.debtorAgent,
    };
    return { paymentId, subject };
  });
}

function readMt103(message: WireMessage, paymentIds: readonly string[]): SubmittedPayment[] {
  const model = mt103.parseMt103(message.content);
  expectCount(message, 1, paymentIds);
  const { text, userHeader } = model;
  if (mt103MessageId(text.sendersReference, userHeader.uetr) !== message.messageId) {
    refuse(message, `the message's :20: and UETR make ${mt103MessageId(text.sendersReference, userHeader.uetr)}`);
  }
  const paymentId = paymentIds[0] as string;
  const subject: ReplySubject = {
    rail: "SWIFT",
    paymentId,
    uetr: userHeader.uetr,
    amount: text.interbankSettlement,
    originalMessageId: text.sendersReference,
    originalMessageNameId: "MT103",
    originalEndToEndId: endToEndIdNotProvided,
    ...(text.accountWithInstitution === undefined ? {} : { instructingAgent: { bicfi: text.accountWithInstitution.bic } }),
  };
  return [{ paymentId, subject }];
}

function readFedwireTags(message: WireMessage, paymentIds: readonly string[]): SubmittedPayment[] {
  const model = fedwire.parseFedwire(message.content);
  expectCount(message, 1, paymentIds);
  const paymentId = paymentIds[0] as string;
  const subject: ReplySubject = {
    rail: "FEDWIRE",
    paymentId,
    amount: { currency: "USD", amount: model.amountUsd },
    originalMessageId: model.senderReference ?? message.messageId.slice(0, 35),
    originalMessageNameId: "Fedwire tags",
    originalEndToEndId: endToEndIdNotProvided,
    instructingAgent: { clearingSystemMember: { systemCode: "USABA", memberId: model.receiverDepositoryInstitution.routingNumber } },
    instructedAgent: { clearingSystemMember: { systemCode: "USABA", memberId: model.senderDepositoryInstitution.routingNumber } },
  };
  return [{ paymentId, subject }];
}

/** Entries name their payment in a 05 addenda (as buildAchFile writes them); the set must match paymentIds. */
function readAchFile(message: WireMessage, paymentIds: readonly string[]): SubmittedPayment[] {
  const file = nacha.parseNachaFile(message.content);
  const expected = new Set(paymentIds);
  const payments: SubmittedPayment[] = [];
  for (const batch of file.batches) {
    for (const entry of batch.entries) {
      const addenda = entry.addenda[0];
      const paymentId = addenda?.typeCode === "05" ? addenda.paymentRelatedInformation : "";
      if (!expected.has(paymentId)) refuse(message, `entry ${entry.traceNumber} names payment "${paymentId}", which was not given`);
      expected.delete(paymentId);
      const subject: ReplySubject = {
        rail: "ACH",
        paymentId,
        amount: { currency: "USD", amount: formatMoney(entry.amountMinor, "USD") },
        originalMessageId: message.messageId,
        originalMessageNameId: "NACHA",
        originalEndToEndId: entry.traceNumber,
      };
      const achItem: AchReturnItem = {
        paymentId,
        original: entry,
        secCode: batch.header.secCode,
        companyIdentification: batch.header.companyIdentification,
        companyName: batch.header.companyName,
      };
      payments.push({ paymentId, subject, achItem });
    }
  }
  if (expected.size > 0) refuse(message, `payments ${[...expected].slice(0, 5).join(", ")} are not in the file`);
  return payments;
}
