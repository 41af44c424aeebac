import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { upstreamWentAway } from "./upstream-lost.js";

describe("upstreamWentAway", () => {
  it("recognises a stream reset by a closing session, unless the caller cancelled", () => {
    const reset = new ConnectError("http/2 stream closed with error code CANCEL (0x8)", Code.Canceled);
    expect(upstreamWentAway(reset)).toBe(true);
    expect(upstreamWentAway(reset, true)).toBe(false);
  });

  it("recognises a connection reset under the call", () => {
    const cause = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
    expect(upstreamWentAway(new ConnectError("read ECONNRESET", Code.Aborted, undefined, undefined, cause))).toBe(true);
  });

  it("leaves what a service sent itself alone", () => {
    expect(upstreamWentAway(new ConnectError("the client went away", Code.Canceled))).toBe(false);
    expect(upstreamWentAway(new ConnectError("conflict, retry", Code.Aborted))).toBe(false);
    expect(upstreamWentAway(new ConnectError("down", Code.Unavailable))).toBe(false);
    expect(upstreamWentAway(new Error("ECONNRESET"))).toBe(false);
  });
});
