// The seam between the payments service and a clearing network: the messages it sends and
// receives, and the adapter a real bank connection would implement in place of the simulator.
import type { Queryable } from "@qenex/platform";
import type { MessageFormat } from "../domain/payment.js";
import type { Rail } from "../validation/rails.js";

/** A message as exchanged with a network: exactly these bytes are stored and sent. */
export interface WireMessage {
  /** The message's own id: pacs MsgId, MT103 :20: plus UETR, or the NACHA file id. Unique per network. */
  readonly messageId: string;
  readonly format: MessageFormat;
  /** "pacs.008.001.08", "pacs.002.001.10", "pacs.004.001.09", "MT103", "NACHA", "NACHA return", "Fedwire tags". */
  readonly messageType: string;
  readonly content: string;
}

/** What a network says about one payment, in a message it sent us. */
export type NetworkEventKind = "ACCEPTED" | "SETTLED" | "REJECTED" | "RETURNED";

export interface NetworkEvent {
  readonly eventId: string;
  readonly rail: Rail;
  readonly paymentId: string;
  readonly kind: NetworkEventKind;
  /** ISO 20022 status reason (AC04, AM04, ...) or ACH return code (R01, ...); empty when accepted or settled. */
  readonly reasonCode: string;
  readonly reasonText: string;
  /** The message that carried it (pacs.002, pacs.004, a NACHA return file), as received; absent for Fedwire's immediate settlement. */
  readonly message?: WireMessage;
}

export interface ClearingNetwork {
  readonly rail: Rail;
  /**
   * Hands a message to the network. Idempotent by messageId: the same message again (a retry
   * after a crash) is recognised as a duplicate and not processed twice.
   */
  submit(message: WireMessage, paymentIds: readonly string[]): Promise<{ duplicate: boolean }>;
  /**
   * Delivers events that are due, at most `limit`, inside one transaction: `apply` runs with
   * that transaction, and the events count as delivered only if it commits. Safe with several
   * replicas polling (claims use FOR UPDATE SKIP LOCKED). Returns how many were delivered.
   */
  deliverDue(limit: number, apply: (events: readonly NetworkEvent[], tx: Queryable) => Promise<void>): Promise<number>;
  /**
   * Optional: calls `wake` whenever events may have become due (a message arrived, an answer's
   * time came), so deliverDue runs at once instead of at the next poll. Returns the unsubscribe.
   */
  watchDue?(wake: () => void): () => void;
}
