// Opaque page tokens for List RPCs: base64url of the last key a page ended with. A token
// decodes only if the key passes the caller's check and encodes back to the same token, so
// a token this server never issued is refused rather than trusted.

export function encodePageToken(key: string): string {
  return Buffer.from(key, "utf8").toString("base64url");
}

/** The key to list after: "" for the first page, undefined for a token we never issued. */
export function decodePageToken(token: string, isValid: (key: string) => boolean): string | undefined {
  if (token === "") return "";
  const key = Buffer.from(token, "base64url").toString("utf8");
  return isValid(key) && encodePageToken(key) === token ? key : undefined;
}
