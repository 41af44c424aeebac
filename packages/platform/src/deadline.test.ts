import { describe, expect, it } from "vitest";
import { remainingMs, requestTimeoutMs, runWithDeadline, runWithTimeout } from "./deadline.js";

describe("deadline", () => {
  it("has no deadline outside a call", () => {
    expect(remainingMs()).toBeUndefined();
  });

  it("carries a deadline across awaits, and keeps an earlier one when nested", async () => {
    await runWithTimeout(1_000, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      const outer = remainingMs() ?? 0;
      expect(outer).toBeGreaterThan(0);
      expect(outer).toBeLessThanOrEqual(1_000);
      await runWithTimeout(60_000, async () => {
        expect(remainingMs() ?? Number.POSITIVE_INFINITY).toBeLessThanOrEqual(1_000);
      });
      await runWithDeadline(Date.now() + 10, async () => {
        expect(remainingMs() ?? Number.POSITIVE_INFINITY).toBeLessThanOrEqual(10);
      });
    });
  });

  it("reads gRPC and Connect timeout headers", () => {
    expect(requestTimeoutMs(new Headers({ "grpc-timeout": "1500m" }))).toBe(1_500);
    expect(requestTimeoutMs(new Headers({ "grpc-timeout": "2S" }))).toBe(2_000);
    expect(requestTimeoutMs(new Headers({ "grpc-timeout": "1M" }))).toBe(60_000);
    expect(requestTimeoutMs(new Headers({ "grpc-timeout": "250000u" }))).toBe(250);
    expect(requestTimeoutMs(new Headers({ "connect-timeout-ms": "700" }))).toBe(700);
    expect(requestTimeoutMs(new Headers({ "grpc-timeout": "soon" }))).toBeUndefined();
    expect(requestTimeoutMs(new Headers())).toBeUndefined();
  });
});
