// The one state machine of a payment. Every change goes through `checkTransition`, so an
// impossible transition (SETTLED → CANCELLED, a second settlement) is refused wherever it
// is attempted: by an RPC, a worker or a network event.
import type { PaymentState } from "./payment.js";

const allowed: Readonly<Record<PaymentState, readonly PaymentState[]>> = {
  RECEIVED: ["VALIDATED", "REJECTED"],
  VALIDATED: ["SCREENED", "HELD_FOR_REVIEW", "REJECTED", "CANCELLED"],
  HELD_FOR_REVIEW: ["SCREENED", "REJECTED", "CANCELLED"],
  SCREENED: ["FUNDS_RESERVED", "REJECTED", "CANCELLED"],
  FUNDS_RESERVED: ["SUBMITTED", "REJECTED", "CANCELLED"],
  SUBMITTED: ["ACCEPTED", "REJECTED"],
  ACCEPTED: ["SETTLED", "REJECTED"],
  SETTLED: ["RETURNED"],
  REJECTED: [],
  RETURNED: [],
  CANCELLED: [],
};

/** No transition leaves these. SETTLED is not among them: a return may still come. */
export const finalStates: ReadonlySet<PaymentState> = new Set(["REJECTED", "RETURNED", "CANCELLED"]);

/** States in which the sender may still cancel: nothing has gone to the network yet. */
export const cancellableStates: ReadonlySet<PaymentState> = new Set(["VALIDATED", "HELD_FOR_REVIEW", "SCREENED", "FUNDS_RESERVED"]);

export function canTransition(from: PaymentState, to: PaymentState): boolean {
  return allowed[from].includes(to);
}

export class TransitionError extends Error {
  constructor(
    readonly from: PaymentState,
    readonly to: PaymentState,
  ) {
    super(`a payment in state ${from} cannot become ${to}`);
  }
}

export function checkTransition(from: PaymentState, to: PaymentState): void {
  if (!canTransition(from, to)) throw new TransitionError(from, to);
}

export const paymentStates = Object.keys(allowed) as PaymentState[];
