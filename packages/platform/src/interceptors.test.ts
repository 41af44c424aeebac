import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { toConnectError } from "./interceptors.js";
import { createLogger } from "./logger.js";

describe("toConnectError", () => {
  it("puts U+FFFD in place of a lone surrogate, which no grpc-message header can carry", () => {
    const quoted = new ConnectError('no account "A\ud83d"', Code.NotFound, { "x-qenex-field": "account_id" });
    const sent = toConnectError(quoted, createLogger("test", "silent"), "test/Method");
    expect(sent.rawMessage).toBe('no account "A\uFFFD"');
    expect(sent.code).toBe(Code.NotFound);
    expect(sent.metadata.get("x-qenex-field")).toBe("account_id");
    // What connect-es does with the message on the way out must not throw.
    expect(() => encodeURIComponent(sent.rawMessage)).not.toThrow();
  });
});
