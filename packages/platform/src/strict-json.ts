// JSON request bodies as QENEX reads them, at the edge (REST) and at every service port
// (Connect and gRPC JSON): JSON.parse (ECMA-404, native and fast) plus what JSON.parse lets
// through silently — a key given twice in one object (it keeps the last),
// nesting deep enough to exhaust the stack, and strings with unpaired surrogates (`"\ud800"`,
// which have no UTF-8 form). Numbers keep their source text, so a decimal or a 64-bit integer
// is never rounded through a double.
import type { JsonValue } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";

/** Deepest nesting of objects and arrays read (protobuf's C++ and Java parsers stop at 100 too). */
export const jsonDepthMax = 100;

/** A JSON number's exact text. */
export class RawNumber {
  constructor(readonly source: string) {}
}

export type Parsed = JsonValue | RawNumber | Parsed[] | { [key: string]: Parsed };

/** Why a body is not acceptable JSON; `path` names the place when there is one (`items[2].amount`). */
export class JsonError extends Error {
  constructor(
    message: string,
    readonly path?: string,
  ) {
    super(message);
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The text decoder connect-es uses for JSON request bodies at the service ports, made strict:
 * a body that is not UTF-8 is refused (the default decoder stores U+FFFD in its place), and so
 * are a key given twice in one object and nesting past `jsonDepthMax`, before connect-es parses
 * it. INVALID_ARGUMENT, named.
 */
export const strictJsonDecoder = {
  decode(bytes: Uint8Array): string {
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      throw new ConnectError("request body is not valid UTF-8", Code.InvalidArgument);
    }
    const shape = scanShape(text);
    if (shape.tooDeep) throw new ConnectError(`request body: ${tooDeepMessage}`, Code.InvalidArgument);
    if (shape.duplicate) throw new ConnectError(`request body: ${duplicateMessage(shape.duplicate)}`, Code.InvalidArgument);
    // Only a \uD800-\uDFFF escape can make a lone surrogate in valid UTF-8 text: the full
    // check (a parse) runs only then. Left in, one becomes a string no UTF-8 store or header
    // can hold (connect-es cannot even percent-encode an error message quoting it).
    if (surrogateEscape.test(text)) {
      try {
        JSON.parse(text, revive);
      } catch (error) {
        if (error instanceof JsonError) throw new ConnectError(`request body: ${error.message}`, Code.InvalidArgument);
        // Not JSON at all: connect-es' own parse says why.
      }
    }
    return text;
  },
};

const surrogateEscape = /\\u[dD][89a-fA-F]/;

const tooDeepMessage = `JSON nests deeper than ${jsonDepthMax} levels of objects and arrays`;
const duplicateMessage = ({ key, path }: { key: string; path: string }) =>
  `key "${key}" appears twice in the same object (at ${path}); send each key once`;

export function parseStrictJson(text: string): Parsed {
  // The shape is scanned first: it bounds the depth before JSON.parse's reviver recurses.
  const shape = scanShape(text);
  if (shape.tooDeep) throw new JsonError(tooDeepMessage);
  let parsed: Parsed;
  try {
    parsed = JSON.parse(text, revive) as Parsed;
  } catch (error) {
    if (error instanceof JsonError) throw error;
    throw new JsonError(`not valid JSON: ${(error as Error).message}`);
  }
  // Only meaningful once the text is known to be JSON; then the scan read it exactly.
  if (shape.duplicate) {
    throw new JsonError(duplicateMessage(shape.duplicate), shape.duplicate.path);
  }
  return parsed;
}

function revive(key: string, value: unknown, context?: { source?: string }): unknown {
  if (typeof value === "number" && context?.source !== undefined) return new RawNumber(context.source);
  if (typeof value === "string" && hasLoneSurrogate(value)) {
    throw new JsonError(`the string at "${key}" contains an unpaired UTF-16 surrogate escape, which is not valid Unicode`, key);
  }
  if (hasLoneSurrogate(key)) throw new JsonError("an object key contains an unpaired UTF-16 surrogate escape, which is not valid Unicode");
  return value;
}

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function hasLoneSurrogate(text: string): boolean {
  return loneSurrogate.test(text);
}

type Frame = { keys: Set<string> | undefined; expectKey: boolean; key: string; index: number };

/**
 * One pass over the text for what JSON.parse does not report: the nesting depth and the first
 * key repeated within one object (compared after unescaping, so "a" and "\u0061" are the same
 * key, as they are to JSON.parse). It tracks only brackets, commas and strings; JSON.parse
 * checks everything else.
 */
function scanShape(text: string): { tooDeep: boolean; duplicate?: { key: string; path: string } } {
  const stack: Frame[] = [];
  let duplicate: { key: string; path: string } | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      let escaped = false;
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x22) break;
        if (d === 0x5c /* \ */) {
          escaped = true;
          i++;
        }
      }
      const top = stack[stack.length - 1];
      if (top?.keys && top.expectKey) {
        const raw = text.slice(start, i + 1);
        const key = escaped ? unescapeKey(raw) : raw.slice(1, -1);
        if (duplicate === undefined && top.keys.has(key)) duplicate = { key, path: pathOf(stack, key) };
        top.keys.add(key);
        top.key = key;
        top.expectKey = false;
      }
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (stack.length === jsonDepthMax) return { tooDeep: true };
      stack.push({ keys: c === 0x7b ? new Set() : undefined, expectKey: c === 0x7b, key: "", index: 0 });
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top?.keys) top.expectKey = true;
      else if (top) top.index++;
    }
  }
  return duplicate ? { tooDeep: false, duplicate } : { tooDeep: false };
}

function unescapeKey(raw: string): string {
  try {
    return JSON.parse(raw) as string;
  } catch {
    return raw; // not JSON: JSON.parse of the whole text reports it
  }
}

function pathOf(stack: readonly Frame[], key: string): string {
  let path = "";
  for (const [depth, frame] of stack.entries()) {
    if (depth === stack.length - 1) break;
    path += frame.keys ? `${path === "" ? "" : "."}${frame.key}` : `[${frame.index}]`;
  }
  return `${path}${path === "" ? "" : "."}${key}`;
}
