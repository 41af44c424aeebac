import { createContextValues } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { clientAddressHeader, clientAddressSignatureHeader, createClientAddresses, peerAddressKey } from "./client-address.js";

const secret = "mesh-secret-mesh-secret-mesh-secret-0123";
const addresses = createClientAddresses(secret);

function call(headers: Record<string, string>, peer = "10.0.0.5") {
  return { requestHeader: new Headers(headers), values: createContextValues().set(peerAddressKey, peer) };
}

describe("the client address behind a call", () => {
  it("is the address the edge signed", () => {
    expect(addresses.of(call(addresses.sign("203.0.113.7")))).toBe("203.0.113.7");
    expect(addresses.of(call(addresses.sign("2001:db8::7")))).toBe("2001:db8::7");
  });

  it("is the TCP peer when the call carries no address, or one the edge did not sign", () => {
    const signed = addresses.sign("203.0.113.7");
    const forged = { ...signed, [clientAddressHeader]: "203.0.113.8" };
    const otherMesh = createClientAddresses("another-secret-another-secret-another-0").sign("203.0.113.7");
    const unsigned = { [clientAddressHeader]: "203.0.113.7", "x-forwarded-for": "203.0.113.7" };
    const truncated = { ...signed, [clientAddressSignatureHeader]: (signed[clientAddressSignatureHeader] ?? "").slice(0, 20) };
    for (const headers of [{}, forged, otherMesh, unsigned, truncated]) expect(addresses.of(call(headers))).toBe("10.0.0.5");
  });

  it("is the TCP peer when the signed value is not an IP address", () => {
    expect(addresses.of(call(addresses.sign("unknown")))).toBe("10.0.0.5");
  });
});
