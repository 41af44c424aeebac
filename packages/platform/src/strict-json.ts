// The text decoder connect-es uses for JSON request bodies, made strict: a body that is not
// UTF-8 is refused (the default decoder stores U+FFFD in its place), and so is an object that
// names a key twice (JSON.parse keeps the last, silently). Both INVALID_ARGUMENT, named.
import { Code, ConnectError } from "@connectrpc/connect";

const utf8 = new TextDecoder("utf-8", { fatal: true });

export const strictJsonDecoder = {
  decode(bytes: Uint8Array): string {
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      throw new ConnectError("request body is not valid UTF-8", Code.InvalidArgument);
    }
    const duplicate = duplicateKey(text);
    if (duplicate !== undefined)
      throw new ConnectError(`request body names the key "${duplicate}" twice in one object`, Code.InvalidArgument);
    return text;
  },
};

type Scope = { keys: Set<string> | undefined; expectKey: boolean };

/** The first key an object in this JSON text repeats; undefined when none does (or the text is not JSON: the parser says why). */
export function duplicateKey(text: string): string | undefined {
  const scopes: Scope[] = [];
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    const top = scopes[scopes.length - 1];
    if (char === "{") scopes.push({ keys: new Set(), expectKey: true });
    else if (char === "[") scopes.push({ keys: undefined, expectKey: false });
    else if (char === "}" || char === "]") scopes.pop();
    else if (char === "," && top?.keys) top.expectKey = true;
    else if (char === '"') {
      const end = stringEnd(text, i);
      if (end === undefined) return undefined;
      if (top?.keys && top.expectKey) {
        const key = decodeKey(text.slice(i, end + 1));
        if (key === undefined) return undefined;
        if (top.keys.has(key)) return key;
        top.keys.add(key);
        top.expectKey = false;
      }
      i = end;
    }
  }
  return undefined;
}

/** Index of the quote closing the string that opens at `start`. */
function stringEnd(text: string, start: number): number | undefined {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === '"') return i;
  }
  return undefined;
}

function decodeKey(literal: string): string | undefined {
  try {
    return JSON.parse(literal) as string;
  } catch {
    return undefined;
  }
}
