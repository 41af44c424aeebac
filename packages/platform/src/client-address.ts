// The address of the client behind a call. Called directly, it is the TCP peer. Called through
// the edge, the peer is the edge, so the edge sends the address it saw in a header signed with
// a key derived from the mesh's secret: a client cannot claim another address by sending the
// header itself, as it could with X-Forwarded-For, which anyone may write.
import { createHmac, timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";
import { createContextKey, type HandlerContext } from "@connectrpc/connect";

/** The client's address as the edge saw it, and the signature that shows the edge sent it. */
export const clientAddressHeader = "x-qenex-client-address";
export const clientAddressSignatureHeader = "x-qenex-client-address-signature";

/** The TCP peer of a call, set by serve() for every request. */
export const peerAddressKey = createContextKey<string | undefined>(undefined, { description: "the TCP peer's address" });

export type ClientAddresses = {
  /** The two headers that carry `address` from the edge to a service. */
  sign(address: string): Record<string, string>;
  /** The signed address when the call carries a valid one, else the TCP peer's address. */
  of(ctx: Pick<HandlerContext, "requestHeader" | "values">): string | undefined;
};

/** `meshSecret` is the secret every process of the mesh holds (QENEX_JWT_SECRET). */
export function createClientAddresses(meshSecret: string): ClientAddresses {
  // A key of its own, so a signature here can never pass for a token's signature, nor the reverse.
  const key = createHmac("sha256", meshSecret).update("qenex client address v1").digest();
  const signatureOf = (address: string) => createHmac("sha256", key).update(address).digest();
  return {
    sign: (address) => ({
      [clientAddressHeader]: address,
      [clientAddressSignatureHeader]: signatureOf(address).toString("base64url"),
    }),
    of: (ctx) => {
      const peer = ctx.values.get(peerAddressKey);
      const address = ctx.requestHeader.get(clientAddressHeader);
      const signature = ctx.requestHeader.get(clientAddressSignatureHeader);
      if (address === null || signature === null || isIP(address) === 0) return peer;
      const given = Buffer.from(signature, "base64url");
      const expected = signatureOf(address);
      return given.length === expected.length && timingSafeEqual(given, expected) ? address : peer;
    },
  };
}
