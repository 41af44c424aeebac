import { describe, expect, it } from "vitest";
import { createWakeSignal } from "./wake-signal.js";

const never = new AbortController().signal;

describe("wake signal", () => {
  it("ends a wait when woken, long before its timeout", async () => {
    const signal = createWakeSignal();
    let ended = false;
    const waiting = signal.wait(60_000, never).then(() => {
      ended = true;
    });
    await Promise.resolve();
    expect(ended).toBe(false);
    signal.wake();
    await waiting;
    expect(ended).toBe(true);
  });

  it("keeps a wake that came while no one waited, for the next wait only", async () => {
    const signal = createWakeSignal();
    signal.wake();
    signal.wake();
    await signal.wait(60_000, never);
    let ended = false;
    const second = signal.wait(60_000, never).then(() => {
      ended = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(ended).toBe(false);
    signal.wake();
    await second;
  });

  it("ends a wait on abort, and returns at once once aborted", async () => {
    const signal = createWakeSignal();
    const stop = new AbortController();
    const waiting = signal.wait(60_000, stop.signal);
    stop.abort();
    await waiting;
    await signal.wait(60_000, stop.signal);
  });
});
