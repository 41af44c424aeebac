// Stored rows to protobuf messages.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  MessageDirection,
  MessageFormat,
  type Payment,
  type PaymentMessage,
  PaymentMessageSchema,
  PaymentSchema,
  PaymentState,
  Rail,
  type Transition,
  TransitionSchema,
} from "@qenex/gen/qenex/payments/v1/payments_pb.js";
import { formatMoney } from "@qenex/platform";
import type { MessageFormat as FormatName } from "../domain/payment.js";
import type { PaymentRow, StoredMessage, TransitionRow } from "../store/payment-store.js";
import type { Rail as RailName } from "../validation/rails.js";

export const railOf: Readonly<Record<RailName, Rail>> = { SWIFT: Rail.SWIFT, SEPA: Rail.SEPA, ACH: Rail.ACH, FEDWIRE: Rail.FEDWIRE };

export const railByEnum: Readonly<Record<number, RailName>> = {
  [Rail.SWIFT]: "SWIFT",
  [Rail.SEPA]: "SEPA",
  [Rail.ACH]: "ACH",
  [Rail.FEDWIRE]: "FEDWIRE",
};

export const formatOf: Readonly<Record<FormatName, MessageFormat>> = {
  ISO20022: MessageFormat.ISO20022,
  MT103: MessageFormat.MT103,
  NACHA: MessageFormat.NACHA,
  FEDWIRE_TAGS: MessageFormat.FEDWIRE_TAGS,
};

export function paymentToProto(row: PaymentRow, transitions: readonly TransitionRow[] = []): Payment {
  return create(PaymentSchema, {
    paymentId: row.paymentId,
    rail: railOf[row.rail],
    railReason: row.railReason,
    state: PaymentState[row.state],
    stateReason: row.stateReason,
    debtorAccount: row.debtorAccount,
    amount: { currency: row.currency, amount: formatMoney(row.amountMinor, row.currency) },
    reference: row.reference,
    debtor: row.debtor,
    creditor: row.creditor,
    urgent: row.urgent,
    charges: row.charges,
    messageFormat: formatOf[row.messageFormat],
    uetr: row.uetr,
    riskScore: row.riskScore,
    riskDecision: row.riskDecision,
    alertId: row.alertId,
    reasonCode: row.reasonCode,
    holdTransferId: row.holdTransferId,
    settleTransferId: row.settleTransferId,
    returnTransferId: row.returnTransferId,
    createdBy: row.createdBy,
    createdAt: timestampFromDate(row.createdAt),
    updatedAt: timestampFromDate(row.updatedAt),
    transitions: transitions.map(transitionToProto),
  });
}

export function transitionToProto(row: TransitionRow): Transition {
  return create(TransitionSchema, {
    from: row.from === "" ? PaymentState.UNSPECIFIED : PaymentState[row.from],
    to: PaymentState[row.to],
    reason: row.reason,
    actor: row.actor,
    at: timestampFromDate(row.at),
    sequence: row.sequence,
  });
}

export function messageToProto(message: StoredMessage): PaymentMessage {
  return create(PaymentMessageSchema, {
    messageId: message.messageId,
    direction: message.direction === "SENT" ? MessageDirection.SENT : MessageDirection.RECEIVED,
    format: formatOf[message.format],
    messageType: message.messageType,
    content: new TextEncoder().encode(message.content),
    at: timestampFromDate(message.at),
  });
}
