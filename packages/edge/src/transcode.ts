// REST request → request message, response message → JSON, following the HttpRule spec and
// the proto3 JSON mapping: path variables and query parameters fill fields by (nested)
// name; the body fills the whole message (`body: "*"`) or one field; everything goes
// through protobuf-es' fromJson once, so int64 strings, enums by name, well-known types and
// both lowerCamel and original field names are read as the mapping says. Beyond the mapping,
// an enum may also be named without its type prefix ("PENDING"), in the body, path or query.
import {
  type DescEnum,
  type DescField,
  type DescMessage,
  fromJson,
  type JsonValue,
  type Message,
  ScalarType,
  toJson,
} from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  type IntegerKind,
  integerKindOf,
  integerWrapperKind,
  JsonError,
  type Parsed,
  parseStrictJson,
  RawNumber,
  readInteger,
} from "@qenex/platform";
import { acceptedEnumNames, enumValuesByName } from "./enum-names.js";
import { fieldAt, type RouteMatch } from "./routes.js";

/** Query parameters read per request; more is an error, not a silent cut. */
export const queryParametersMax = 256;

export function invalid(message: string, field?: string): ConnectError {
  const error = new ConnectError(message, Code.InvalidArgument);
  if (field !== undefined) fieldOf.set(error, field);
  return error;
}

/** The request field an edge-made InvalidArgument is about, for the BadRequest detail. */
export const fieldOf = new WeakMap<ConnectError, string>();

function parseBody(text: string): Parsed {
  try {
    return parseStrictJson(text);
  } catch (error) {
    if (!(error instanceof JsonError)) throw error;
    throw invalid(`request body: ${error.message}`, error.path);
  }
}

export function buildRequest(match: RouteMatch, query: URLSearchParams, bodyText: string): Message {
  const { route, bindings } = match;
  const input = route.method.input;
  let root: { [key: string]: Parsed } = {};
  if (route.body === "*") {
    const body = bodyText.trim() === "" ? {} : parseBody(bodyText);
    if (!isObject(body)) throw invalid("request body must be a JSON object");
    root = body;
  } else if (route.body !== "") {
    const field = input.fields.find((f) => f.name === route.body) as DescField;
    if (bodyText.trim() !== "") root[field.jsonName] = parseBody(bodyText);
  } else if (bodyText.trim() !== "") {
    throw invalid(`${route.httpMethod} ${route.template.text} takes no request body`);
  }
  for (const { fieldPath, value } of bindings) {
    const field = fieldAt(input, fieldPath) as DescField;
    const converted = fromText(field, value, fieldPath.join("."));
    const existing = valueAt(root, input, fieldPath);
    if (existing !== undefined && !sameValue(existing, converted)) {
      throw invalid(`${fieldPath.join(".")} is given in the path as "${value}" and differently in the body`, fieldPath.join("."));
    }
    setAt(root, input, fieldPath, converted);
  }
  applyQuery(root, match, query);
  const normalized = normalizeNumbers(root, input);
  try {
    return fromJson(input, normalized as JsonValue, { ignoreUnknownFields: false });
  } catch (error) {
    const message = (error as Error).message;
    const unknownKey = /key "([^"]+)" is unknown/.exec(message)?.[1];
    throw invalid(unknownKey ? `unknown field "${unknownKey}" in ${input.typeName}` : message, unknownKey);
  }
}

function applyQuery(root: { [key: string]: Parsed }, match: RouteMatch, query: URLSearchParams): void {
  const { route, bindings } = match;
  const names = [...new Set(query.keys())];
  if (names.length === 0) return;
  if (names.length > queryParametersMax) throw invalid(`at most ${queryParametersMax} query parameters are read`);
  const bound = new Set(bindings.map((b) => b.fieldPath.join(".")));
  const unknown: string[] = [];
  for (const name of names) {
    const path = name.split(".");
    const field = fieldAt(route.method.input, path);
    // With `body: "*"` every field comes from the body; with `body: "field"` that field does.
    const fromBody =
      route.body === "*" ||
      (route.body !== "" && (path[0] === route.body || fieldAt(route.method.input, [path[0] ?? ""])?.name === route.body));
    if (!field || fromBody || bound.has(name) || field.fieldKind === "map" || !queryable(field)) {
      unknown.push(name);
      continue;
    }
    const values = query.getAll(name).map((text) => fromText(field, text, name));
    if (field.fieldKind !== "list" && values.length > 1)
      throw invalid(`query parameter "${name}" is given ${values.length} times; it takes one value`, name);
    setAt(root, route.method.input, path, field.fieldKind === "list" ? values : (values[0] as Parsed));
  }
  if (unknown.length > 0) {
    throw invalid(
      `unknown query parameter${unknown.length > 1 ? "s" : ""} ${unknown.map((n) => `"${n}"`).join(", ")} for ${route.method.input.typeName}`,
      unknown[0],
    );
  }
}

// Well-known types whose JSON form is a string, so they can come from a path or query.
const stringLikeMessages = new Set([
  "google.protobuf.Timestamp",
  "google.protobuf.Duration",
  "google.protobuf.FieldMask",
  "google.protobuf.StringValue",
  "google.protobuf.BytesValue",
  "google.protobuf.Int64Value",
  "google.protobuf.UInt64Value",
  "google.protobuf.Int32Value",
  "google.protobuf.UInt32Value",
  "google.protobuf.DoubleValue",
  "google.protobuf.FloatValue",
  "google.protobuf.BoolValue",
]);

function queryable(field: DescField): boolean {
  if (field.fieldKind === "scalar" || field.fieldKind === "enum") return true;
  if (field.fieldKind === "message") return stringLikeMessages.has(field.message.typeName);
  if (field.fieldKind === "list") return field.listKind !== "message" || stringLikeMessages.has(field.message.typeName);
  return false;
}

/** A path or query text as the JSON value fromJson expects for the field. */
function fromText(field: DescField, text: string, name: string): Parsed {
  const isBool =
    ((field.fieldKind === "scalar" || (field.fieldKind === "list" && field.listKind === "scalar")) && field.scalar === ScalarType.BOOL) ||
    (field.fieldKind === "message" && field.message.typeName === "google.protobuf.BoolValue");
  if (isBool) {
    if (text === "true" || text === "false") return text === "true";
    throw invalid(`${name} must be true or false, not "${text}"`, name);
  }
  const isEnum = field.fieldKind === "enum" || (field.fieldKind === "list" && field.listKind === "enum");
  if (isEnum && /^-?[0-9]+$/.test(text)) return Number(text);
  const kind = integerKindOf(field);
  return kind ? integral(text, kind, name) : text;
}

function isObject(value: Parsed | undefined): value is { [key: string]: Parsed } {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof RawNumber);
}

/** The key a field has in `object`, whichever of its two JSON names the client used. */
function keyOf(object: { [key: string]: Parsed }, field: DescField): string {
  return field.name in object ? field.name : field.jsonName;
}

function valueAt(root: { [key: string]: Parsed }, message: DescMessage, path: readonly string[]): Parsed | undefined {
  let current: Parsed | undefined = root;
  let type: DescMessage | undefined = message;
  for (const name of path) {
    const field: DescField | undefined = type?.fields.find((f) => f.name === name || f.jsonName === name);
    if (!field || !isObject(current)) return undefined;
    current = current[keyOf(current, field)];
    type = field.fieldKind === "message" ? field.message : undefined;
  }
  return current;
}

function setAt(root: { [key: string]: Parsed }, message: DescMessage, path: readonly string[], value: Parsed): void {
  let current = root;
  let type = message;
  for (const [i, name] of path.entries()) {
    const field: DescField = type.fields.find((f) => f.name === name || f.jsonName === name) as DescField;
    const key = keyOf(current, field);
    if (i === path.length - 1) {
      current[key] = value;
      return;
    }
    const next = current[key];
    if (next === undefined || next === null) current[key] = {};
    else if (!isObject(next)) throw invalid(`${path.slice(0, i + 1).join(".")} must be an object`, path.join("."));
    current = current[key] as { [key: string]: Parsed };
    if (field.fieldKind !== "message") return;
    type = field.message;
  }
}

function sameValue(a: Parsed, b: Parsed): boolean {
  const plain = (v: Parsed) => (v instanceof RawNumber ? v.source : typeof v === "object" && v !== null ? JSON.stringify(v) : String(v));
  return plain(a) === plain(b);
}

/**
 * JSON numbers back to what fromJson takes: for string fields their exact text (so
 * `"amount": 100.10` is the decimal "100.10", never a double), for 64-bit and other numeric
 * fields the text too (fromJson reads numeric strings exactly), elsewhere a JS number.
 */
function normalizeNumbers(value: Parsed, message: DescMessage | undefined): JsonValue {
  if (value instanceof RawNumber) return Number(value.source);
  if (Array.isArray(value)) return value.map((v) => normalizeNumbers(v, message));
  if (!isObject(value)) return value as JsonValue;
  const out: { [key: string]: JsonValue } = {};
  const seen = new Map<DescField, string>();
  for (const [key, item] of Object.entries(value)) {
    const field = message?.fields.find((f) => f.name === key || f.jsonName === key);
    // Go's protojson (grpc-gateway) refuses this too: two spellings of one field are a duplicate key.
    const other = field ? seen.get(field) : undefined;
    if (field && other !== undefined)
      throw invalid(`field ${field.name} is given twice, as "${other}" and as "${key}"; send it once`, field.name);
    if (field) seen.set(field, key);
    out[key] = field ? normalizeField(item, field) : normalizeNumbers(item, undefined);
  }
  return out;
}

function normalizeField(value: Parsed, field: DescField): JsonValue {
  const kind = integerKindOf(field);
  const scalarText = (v: Parsed): JsonValue =>
    kind ? integral(v, kind, field.name) : v instanceof RawNumber ? v.source : normalizeNumbers(v, undefined);
  switch (field.fieldKind) {
    case "scalar":
      return scalarText(value);
    case "enum":
      return enumValue(value, field.enum, field.name);
    case "message":
      return wrapperOrMessage(value, field.message, field.name);
    case "list":
      if (!Array.isArray(value)) return normalizeNumbers(value, undefined);
      if (field.listKind === "scalar") return value.map(scalarText);
      if (field.listKind === "message") return value.map((v) => wrapperOrMessage(v, field.message, field.name));
      return value.map((v) => enumValue(v, field.enum, field.name));
    case "map":
      if (!isObject(value)) return normalizeNumbers(value, undefined);
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) => [
          k,
          field.mapKind === "scalar"
            ? scalarText(v)
            : field.mapKind === "message"
              ? wrapperOrMessage(v, field.message, field.name)
              : enumValue(v, field.enum, field.name),
        ]),
      );
  }
}

/** Enum names most listed in an error; the OpenAPI document has them all. */
const enumNamesListedMax = 24;

/** An enum value by its proto name or short name (enum-names.ts) as fromJson takes it: the proto name. */
function enumValue(value: Parsed, desc: DescEnum, fieldName: string): JsonValue {
  if (typeof value !== "string") return normalizeNumbers(value, undefined);
  const known = enumValuesByName(desc).get(value);
  if (known) return known.name;
  if (desc.typeName === "google.protobuf.NullValue") return value;
  const names = acceptedEnumNames(desc).filter((n) => !n.endsWith("UNSPECIFIED"));
  const listed = names.slice(0, enumNamesListedMax).join(", ") + (names.length > enumNamesListedMax ? ", …" : "");
  throw invalid(`${fieldName}: "${value.slice(0, 64)}" is not a ${desc.typeName} value; use one of ${listed}`, fieldName);
}

function wrapperOrMessage(value: Parsed, message: DescMessage, name: string): JsonValue {
  const kind = integerWrapperKind(message);
  if (kind) return integral(value, kind, name);
  if (value instanceof RawNumber && message.typeName.startsWith("google.protobuf.") && message.typeName.endsWith("Value")) {
    return message.typeName === "google.protobuf.Value" ? Number(value.source) : value.source;
  }
  return normalizeNumbers(value, message.typeName.startsWith("google.protobuf.") ? undefined : message);
}

/**
 * An integer field's value as the plain digits fromJson reads exactly: proto3 JSON accepts a
 * whole value in exponent or fraction notation (`1e2`, `"1.50e1"`, `100.0`), as a number or a
 * string. Worked on the decimal text (platform's readInteger, which the service ports use too).
 */
function integral(value: Parsed, kind: IntegerKind, name: string): JsonValue {
  const text = value instanceof RawNumber ? value.source : value;
  if (typeof text !== "string") return normalizeNumbers(text, undefined);
  try {
    return readInteger(text, kind, name);
  } catch (error) {
    if (error instanceof JsonError) throw invalid(error.message, name);
    throw error;
  }
}

/** The response as proto3 JSON: every field present (zeros too), or only `response_body`. */
export function renderResponse(match: RouteMatch, message: Message): JsonValue {
  const { route } = match;
  const json = toJson(route.method.output, message, { alwaysEmitImplicit: true }) as { [key: string]: JsonValue };
  if (route.responseBody === "") return json;
  const field = route.method.output.fields.find((f) => f.name === route.responseBody) as DescField;
  return json[field.jsonName] ?? null;
}
