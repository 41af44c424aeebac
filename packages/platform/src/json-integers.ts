// Integer fields in proto3 JSON as QENEX reads them, at the edge (REST) and at every service
// port (Connect and gRPC JSON). The mapping lets a client write an integer as a JSON number or
// a string, in exponent or fraction notation too when the value is whole ("1e2", "1.50e1",
// 100.0). protobuf-es reads a 64-bit integer's string with BigInt(), which takes neither (and
// takes "0x10"), and every JSON number through a double, which rounds one above 2^53. Here the
// decimal text is worked exactly, and what is not a whole decimal number in range is refused
// with the field named.
import { type DescField, type DescMessage, ScalarType } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { JsonError, type Parsed, parseStrictJson, RawNumber, strictJsonDecoder } from "./strict-json.js";

export type IntegerKind = "int32" | "uint32" | "int64" | "uint64";

const kindByScalar: Partial<Record<ScalarType, IntegerKind>> = {
  [ScalarType.INT32]: "int32",
  [ScalarType.SINT32]: "int32",
  [ScalarType.SFIXED32]: "int32",
  [ScalarType.UINT32]: "uint32",
  [ScalarType.FIXED32]: "uint32",
  [ScalarType.INT64]: "int64",
  [ScalarType.SINT64]: "int64",
  [ScalarType.SFIXED64]: "int64",
  [ScalarType.UINT64]: "uint64",
  [ScalarType.FIXED64]: "uint64",
};

const kindByWrapper: ReadonlyMap<string, IntegerKind> = new Map([
  ["google.protobuf.Int32Value", "int32"],
  ["google.protobuf.UInt32Value", "uint32"],
  ["google.protobuf.Int64Value", "int64"],
  ["google.protobuf.UInt64Value", "uint64"],
]);

const rangeOf: Readonly<Record<IntegerKind, readonly [min: bigint, max: bigint]>> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
};

/** The integer an integer wrapper (google.protobuf.Int64Value, …) holds; undefined for any other message. */
export function integerWrapperKind(message: DescMessage): IntegerKind | undefined {
  return kindByWrapper.get(message.typeName);
}

/** The integer a field's values hold — singular, repeated, map values, or in a wrapper — if they are integers. */
export function integerKindOf(field: DescField): IntegerKind | undefined {
  switch (field.fieldKind) {
    case "scalar":
      return kindByScalar[field.scalar];
    case "message":
      return integerWrapperKind(field.message);
    case "list":
      if (field.listKind === "scalar") return kindByScalar[field.scalar];
      return field.listKind === "message" ? integerWrapperKind(field.message) : undefined;
    case "map":
      if (field.mapKind === "scalar") return kindByScalar[field.scalar];
      return field.mapKind === "message" ? integerWrapperKind(field.message) : undefined;
    default:
      return undefined;
  }
}

/** More digits than any 64-bit integer has: such a value is out of range whatever its kind. */
const integerDigitsMax = 20;
/** The JSON number grammar, with leading zeros allowed (as BigInt and Number read them). */
const decimalNumber = /^(-?)([0-9]+)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?$/;
/** Most characters of a refused value quoted back in the message. */
const quotedCharsMax = 64;

/**
 * An integer field's JSON value, a number's source text or a string, as its plain decimal
 * digits ("1.5e1" → "15", "-0" → "0"). A fraction, a value beyond `kind`'s range, or text that
 * is no decimal number at all is a JsonError naming `field`.
 */
export function readInteger(text: string, kind: IntegerKind, field: string): string {
  const match = decimalNumber.exec(text);
  if (!match) throw new JsonError(`${field} must be a whole decimal number (${kind}), not ${quoted(text)}`, field);
  const [, sign = "", whole = "", fraction = "", exponent = "0"] = match;
  const digits = (whole + fraction).replace(/^0+/, "");
  if (digits === "") return "0";
  const shift = Number(exponent) - fraction.length;
  const cut = digits.length + shift;
  // digits has no leading zero, so a cut at or before its start leaves a fraction.
  if (cut <= 0 || (shift < 0 && /[^0]/.test(digits.slice(cut)))) {
    throw new JsonError(`${field} must be a whole number; ${clipped(text)} is not`, field);
  }
  if (cut > integerDigitsMax) throw outOfRange(text, kind, field);
  const value = BigInt(sign + (shift >= 0 ? digits + "0".repeat(shift) : digits.slice(0, cut)));
  const [min, max] = rangeOf[kind];
  if (value < min || value > max) throw outOfRange(text, kind, field);
  return value.toString();
}

function outOfRange(text: string, kind: IntegerKind, field: string): JsonError {
  const [min, max] = rangeOf[kind];
  return new JsonError(`${field}: ${clipped(text)} is out of range for ${kind} (${min} to ${max})`, field);
}

function clipped(text: string): string {
  return text.length > quotedCharsMax ? `${text.slice(0, quotedCharsMax)}…` : text;
}

function quoted(text: string): string {
  return JSON.stringify(clipped(text));
}

type TextDecoderLike = { decode(bytes: Uint8Array): string };

/**
 * The JSON decoder of one request message at a service port: strictJsonDecoder, plus, when the
 * message can hold a 64-bit integer, those integers rewritten as exact decimal strings before
 * protobuf-es reads the text (which would refuse "1e2" and round 9007199254740993).
 */
export function jsonDecoderFor(message: DescMessage): TextDecoderLike {
  if (!holds64BitIntegers(message, new Set())) return strictJsonDecoder;
  return {
    decode(bytes) {
      const text = strictJsonDecoder.decode(bytes);
      let parsed: Parsed;
      try {
        parsed = parseStrictJson(text);
      } catch {
        return text; // not JSON: protobuf-es says why, as for any other message
      }
      try {
        exactIntegers(parsed, message, "");
      } catch (error) {
        if (error instanceof JsonError) throw new ConnectError(error.message, Code.InvalidArgument);
        throw error;
      }
      return JSON.stringify(parsed, sourceText);
    },
  };
}

// JSON.rawJSON (Node 21+, the proposal JSON.parse's `source` comes from) is not in TypeScript's lib yet.
const { rawJSON } = JSON as unknown as { rawJSON(text: string): unknown };

/** Every other number goes back as the client wrote it. */
function sourceText(_key: string, value: unknown): unknown {
  return value instanceof RawNumber ? rawJSON(value.source) : value;
}

/** Message types of our own contracts a field leads to (well-known types hold no 64-bit field but the wrappers). */
function ownMessageOf(field: DescField): DescMessage | undefined {
  const message =
    field.fieldKind === "message" ||
    (field.fieldKind === "list" && field.listKind === "message") ||
    (field.fieldKind === "map" && field.mapKind === "message")
      ? field.message
      : undefined;
  return message && !message.typeName.startsWith("google.protobuf.") ? message : undefined;
}

function is64Bit(field: DescField): boolean {
  const kind = integerKindOf(field);
  return kind === "int64" || kind === "uint64";
}

function holds64BitIntegers(message: DescMessage, visited: Set<DescMessage>): boolean {
  if (visited.has(message)) return false;
  visited.add(message);
  return message.fields.some((field) => {
    const nested = ownMessageOf(field);
    return is64Bit(field) || (nested !== undefined && holds64BitIntegers(nested, visited));
  });
}

function isObject(value: Parsed | undefined): value is { [key: string]: Parsed } {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof RawNumber);
}

/** Rewrites, in place, every 64-bit integer under `value` (a `message` in JSON) to its exact digits. */
function exactIntegers(value: Parsed, message: DescMessage, path: string): void {
  if (!isObject(value)) return; // protobuf-es refuses it, naming the message
  for (const [key, item] of Object.entries(value)) {
    const field = message.fields.find((f) => f.jsonName === key || f.name === key);
    if (field) value[key] = exactField(item, field, path === "" ? field.name : `${path}.${field.name}`);
  }
}

function exactField(value: Parsed, field: DescField, name: string): Parsed {
  const each = (read: (item: Parsed, itemName: string) => Parsed): Parsed => {
    if (field.fieldKind === "list" && Array.isArray(value)) return value.map((item, i) => read(item, `${name}[${i}]`));
    if (field.fieldKind === "map" && isObject(value)) {
      return Object.fromEntries(Object.entries(value).map(([k, item]) => [k, read(item, `${name}[${JSON.stringify(k)}]`)]));
    }
    return field.fieldKind === "list" || field.fieldKind === "map" ? value : read(value, name);
  };
  const kind = integerKindOf(field);
  if (kind === "int64" || kind === "uint64") {
    return each((item, itemName) => {
      if (item instanceof RawNumber) return readInteger(item.source, kind, itemName);
      return typeof item === "string" ? readInteger(item, kind, itemName) : item; // null is the default; protobuf-es refuses the rest
    });
  }
  const nested = ownMessageOf(field);
  if (nested === undefined) return value;
  return each((item, itemName) => {
    exactIntegers(item, nested, itemName);
    return item;
  });
}
