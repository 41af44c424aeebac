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
import type { PaymentRow, StoredMessage, TransitionRow } from "../store/payment-store.js";

// The generated enums' value names are the domain's names (Rail.SWIFT, MessageFormat.MT103,
// PaymentState.SETTLED), so each converts both ways by name.

export function paymentToProto(row: PaymentRow, transitions: readonly TransitionRow[] = []): Payment {
  return create(PaymentSchema, {
    paymentId: row.paymentId,
    rail: Rail[row.rail],
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
    messageFormat: MessageFormat[row.messageFormat],
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
    format: MessageFormat[message.format],
    messageType: message.messageType,
    content: new TextEncoder().encode(message.content),
    at: timestampFromDate(message.at),
  });
}
