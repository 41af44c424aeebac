import { describe, expect, it } from "vitest";
import { canTransition, checkTransition, finalStates, paymentStates, TransitionError } from "./lifecycle.js";
import type { PaymentState } from "./payment.js";

describe("payment lifecycle", () => {
  it("walks the happy path and the documented exits", () => {
    const happy: PaymentState[] = ["RECEIVED", "VALIDATED", "SCREENED", "FUNDS_RESERVED", "SUBMITTED", "ACCEPTED", "SETTLED", "RETURNED"];
    for (let i = 1; i < happy.length; i++) expect(canTransition(happy[i - 1] as PaymentState, happy[i] as PaymentState)).toBe(true);
    expect(canTransition("VALIDATED", "HELD_FOR_REVIEW")).toBe(true);
    expect(canTransition("HELD_FOR_REVIEW", "SCREENED")).toBe(true);
    expect(canTransition("ACCEPTED", "REJECTED")).toBe(true);
    expect(canTransition("FUNDS_RESERVED", "CANCELLED")).toBe(true);
  });

  it("refuses what cannot happen: cancelling after submission, settling twice, leaving a final state", () => {
    expect(() => checkTransition("SUBMITTED", "CANCELLED")).toThrow(TransitionError);
    expect(() => checkTransition("SETTLED", "SETTLED")).toThrow("a payment in state SETTLED cannot become SETTLED");
    expect(() => checkTransition("SETTLED", "CANCELLED")).toThrow(TransitionError);
    expect(() => checkTransition("VALIDATED", "FUNDS_RESERVED")).toThrow(TransitionError);
    for (const final of finalStates) {
      for (const to of paymentStates) expect(canTransition(final, to)).toBe(false);
    }
  });

  it("reaches every state from RECEIVED", () => {
    const seen = new Set<PaymentState>(["RECEIVED"]);
    const queue: PaymentState[] = ["RECEIVED"];
    while (queue.length > 0) {
      const from = queue.shift() as PaymentState;
      for (const to of paymentStates) {
        if (canTransition(from, to) && !seen.has(to)) {
          seen.add(to);
          queue.push(to);
        }
      }
    }
    expect([...seen].sort()).toEqual([...paymentStates].sort());
  });
});
