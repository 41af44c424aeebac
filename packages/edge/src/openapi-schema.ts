// JSON Schemas (the OpenAPI 3.1 dialect) for Protobuf messages in their proto3 JSON form,
// narrowed by the protovalidate rules on their fields. Mapping:
// https://protobuf.dev/programming-guides/json/
import { type DescEnum, type DescField, type DescMessage, getOption, hasOption, ScalarType } from "@bufbuild/protobuf";
import { type FieldRules, field as fieldRulesOption, Ignore } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { acceptedEnumNames, enumTypePrefix, shortEnumName } from "./enum-names.js";

/** The subset of JSON Schema the generator writes; a plain JSON value. */
export type SchemaObject = {
  $ref?: string;
  type?: "object" | "array" | "string" | "integer" | "number" | "boolean" | "null";
  format?: string;
  contentEncoding?: string;
  title?: string;
  description?: string;
  deprecated?: boolean;
  properties?: Record<string, SchemaObject>;
  required?: string[];
  additionalProperties?: boolean | SchemaObject;
  propertyNames?: SchemaObject;
  minProperties?: number;
  maxProperties?: number;
  items?: SchemaObject;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  enum?: (string | number)[];
  const?: string | number | boolean;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
};

export const componentsPrefix = "#/components/schemas/";

// google.protobuf.Any in JSON: `@type` names the message, the other properties are its fields.
const anySchema: SchemaObject = {
  type: "object",
  properties: { "@type": { type: "string" } },
  required: ["@type"],
  additionalProperties: true,
};

/** google.rpc.Status in JSON: the body of every REST error the edge returns. */
export const statusSchemaName = "Status";
export const statusSchema: SchemaObject = {
  type: "object",
  description: "google.rpc.Status: the error of a failed call. `code` is a google.rpc.Code (3 = INVALID_ARGUMENT, 5 = NOT_FOUND, ...).",
  properties: {
    code: { type: "integer", format: "int32" },
    message: { type: "string" },
    details: {
      type: "array",
      items: { ...anySchema, description: "A google.protobuf.Any: `@type` names the detail's message (e.g. google.rpc.BadRequest)." },
    },
  },
};

const int64Pattern = "^-?[0-9]+$";
const uint64Pattern = "^[0-9]+$";

function scalarSchema(scalar: ScalarType): SchemaObject {
  switch (scalar) {
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      // Strings, so no JSON reader rounds them through a double.
      return { type: "string", format: "int64", pattern: int64Pattern };
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return { type: "string", format: "uint64", pattern: uint64Pattern };
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return { type: "integer", format: "int32" };
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return { type: "integer", format: "uint32", minimum: 0, maximum: 4294967295 };
    case ScalarType.DOUBLE:
      return { type: "number", format: "double" };
    case ScalarType.FLOAT:
      return { type: "number", format: "float" };
    case ScalarType.BOOL:
      return { type: "boolean" };
    case ScalarType.STRING:
      return { type: "string" };
    case ScalarType.BYTES:
      return { type: "string", format: "byte", contentEncoding: "base64" };
  }
}

const wrapperScalars: Record<string, ScalarType> = {
  "google.protobuf.DoubleValue": ScalarType.DOUBLE,
  "google.protobuf.FloatValue": ScalarType.FLOAT,
  "google.protobuf.Int64Value": ScalarType.INT64,
  "google.protobuf.UInt64Value": ScalarType.UINT64,
  "google.protobuf.Int32Value": ScalarType.INT32,
  "google.protobuf.UInt32Value": ScalarType.UINT32,
  "google.protobuf.BoolValue": ScalarType.BOOL,
  "google.protobuf.StringValue": ScalarType.STRING,
  "google.protobuf.BytesValue": ScalarType.BYTES,
};

/** Well-known types have their own JSON form; they are written inline, not as components. */
export function wellKnownSchema(typeName: string): SchemaObject | undefined {
  const wrapped = wrapperScalars[typeName];
  if (wrapped !== undefined) return scalarSchema(wrapped);
  switch (typeName) {
    case "google.protobuf.Timestamp":
      return { type: "string", format: "date-time", description: "RFC 3339, UTC: 2024-01-31T23:59:59Z." };
    case "google.protobuf.Duration":
      return { type: "string", pattern: "^-?[0-9]+(\\.[0-9]{1,9})?s$", description: 'Seconds with an "s" suffix: "1.5s".' };
    case "google.protobuf.FieldMask":
      return { type: "string", description: 'Comma-separated lowerCamel field paths: "amount,reference".' };
    case "google.protobuf.Empty":
      return { type: "object" };
    case "google.protobuf.Struct":
      return { type: "object", additionalProperties: true };
    case "google.protobuf.Value":
      return { description: "Any JSON value." };
    case "google.protobuf.ListValue":
      return { type: "array", items: {} };
    case "google.protobuf.Any":
      return anySchema;
    default:
      return undefined;
  }
}

/** True for well-known types whose JSON form is one string, number or bool (usable as a query parameter). */
export function isScalarLikeWellKnown(typeName: string): boolean {
  return (
    typeName in wrapperScalars || ["google.protobuf.Timestamp", "google.protobuf.Duration", "google.protobuf.FieldMask"].includes(typeName)
  );
}

export type SchemaCatalog = {
  /** components/schemas: messages and enums by full proto name, plus Status. */
  readonly components: Record<string, SchemaObject>;
  /** A reference to the message's component (added on first use), or a well-known type inline. */
  message(message: DescMessage): SchemaObject;
  /** The schema of one field's value, with its protovalidate rules. */
  field(field: DescField): SchemaObject;
  /** The message's component, minus the fields at the given proto-name paths (written inline). */
  messageWithout(message: DescMessage, excludedPaths: readonly (readonly string[])[]): SchemaObject;
};

export function createSchemaCatalog(): SchemaCatalog {
  const components: Record<string, SchemaObject> = { [statusSchemaName]: statusSchema };

  function ref(name: string): SchemaObject {
    return { $ref: componentsPrefix + name };
  }

  function enumRef(desc: DescEnum): SchemaObject {
    // JSON null is the only form of NullValue.
    if (desc.typeName === "google.protobuf.NullValue") return { type: "null" };
    if (!(desc.typeName in components)) {
      const names = acceptedEnumNames(desc);
      const schema: SchemaObject = { type: "string", enum: names };
      const example = desc.values.find((v) => v.number !== 0 && shortEnumName(v) !== v.name && names.includes(shortEnumName(v)));
      if (example) {
        schema.description =
          `Responses name a value in full (\`${example.name}\`); requests take the full name or the name ` +
          `without the \`${enumTypePrefix(desc)}\` prefix (\`${shortEnumName(example)}\`).`;
      }
      components[desc.typeName] = schema;
    }
    return ref(desc.typeName);
  }

  function message(desc: DescMessage): SchemaObject {
    const known = wellKnownSchema(desc.typeName);
    if (known) return structuredClone(known);
    if (!(desc.typeName in components)) {
      // Registered before its fields are walked, so a recursive message ends at this $ref.
      components[desc.typeName] = {};
      components[desc.typeName] = objectSchema(desc, []);
    }
    return ref(desc.typeName);
  }

  function objectSchema(desc: DescMessage, excludedPaths: readonly (readonly string[])[]): SchemaObject {
    const properties: Record<string, SchemaObject> = {};
    const required: string[] = [];
    for (const f of desc.fields) {
      const below = excludedPaths.filter((p) => p[0] === f.name);
      if (below.some((p) => p.length === 1)) continue;
      const nested = below.map((p) => p.slice(1));
      properties[f.jsonName] = nested.length > 0 && f.fieldKind === "message" ? objectSchema(f.message, nested) : field(f);
      if (rulesOf(f)?.required) required.push(f.jsonName);
    }
    const schema: SchemaObject = { type: "object", properties };
    if (required.length > 0) schema.required = required;
    // A oneof is written as plain optional properties; the description says which exclude each other.
    const groups = desc.oneofs.map((o) => `\`${o.fields.map((f) => f.jsonName).join("`, `")}\``);
    if (groups.length > 0) schema.description = groups.map((g) => `At most one of ${g} is set.`).join(" ");
    if (desc.deprecated) schema.deprecated = true;
    return schema;
  }

  function valueSchema(f: DescField): SchemaObject {
    switch (f.fieldKind) {
      case "scalar":
        return scalarSchema(f.scalar);
      case "enum":
        return enumRef(f.enum);
      case "message":
        return message(f.message);
      case "list":
        if (f.listKind === "scalar") return scalarSchema(f.scalar);
        return f.listKind === "enum" ? enumRef(f.enum) : message(f.message);
      case "map":
        if (f.mapKind === "scalar") return scalarSchema(f.scalar);
        return f.mapKind === "enum" ? enumRef(f.enum) : message(f.message);
    }
  }

  function field(f: DescField): SchemaObject {
    const rules = rulesOf(f);
    let schema: SchemaObject;
    if (f.fieldKind === "list") {
      schema = { type: "array", items: valueSchema(f) };
    } else if (f.fieldKind === "map") {
      schema = { type: "object", additionalProperties: valueSchema(f), propertyNames: mapKeySchema(f.mapKey) };
    } else {
      schema = valueSchema(f);
    }
    const notes: string[] = [];
    if (rules && rules.ignore !== Ignore.ALWAYS) {
      applyRules(schema, rules, f, notes);
      if (rules.ignore === Ignore.IF_ZERO_VALUE) notes.push("An empty value means unset; the limits apply only to a value that is set.");
    }
    if (f.oneof) notes.push(`One of the \`${f.oneof.name}\` group.`);
    if (notes.length > 0) schema.description = [schema.description, ...notes].filter(Boolean).join(" ");
    if (f.deprecated) schema.deprecated = true;
    return schema;
  }

  function messageWithout(desc: DescMessage, excludedPaths: readonly (readonly string[])[]): SchemaObject {
    return excludedPaths.length === 0 ? message(desc) : objectSchema(desc, excludedPaths);
  }

  return { components, message, field, messageWithout };
}

function mapKeySchema(key: ScalarType): SchemaObject {
  if (key === ScalarType.STRING) return { type: "string" };
  if (key === ScalarType.BOOL) return { type: "string", enum: ["true", "false"] };
  const unsigned = [ScalarType.UINT32, ScalarType.UINT64, ScalarType.FIXED32, ScalarType.FIXED64].includes(key);
  return { type: "string", pattern: unsigned ? uint64Pattern : int64Pattern };
}

export function rulesOf(f: DescField): FieldRules | undefined {
  return hasOption(f, fieldRulesOption) ? getOption(f, fieldRulesOption) : undefined;
}

/** Writes the rules JSON Schema can say as keywords; the rest becomes description text. */
function applyRules(schema: SchemaObject, rules: FieldRules, f: DescField, notes: string[]): void {
  const rule = rules.type;
  switch (rule.case) {
    case "string": {
      const r = rule.value;
      if (r.pattern !== "") schema.pattern = r.pattern;
      if (r.len > 0n) schema.minLength = schema.maxLength = Number(r.len);
      if (r.minLen > 0n) schema.minLength = Number(r.minLen);
      if (r.maxLen > 0n) schema.maxLength = Number(r.maxLen);
      if (r.const !== "") schema.const = r.const;
      if (r.in.length > 0) schema.enum = [...r.in];
      if (r.notIn.length > 0) notes.push(`Not one of: ${r.notIn.join(", ")}.`);
      if (r.prefix !== "") notes.push(`Starts with "${r.prefix}".`);
      if (r.suffix !== "") notes.push(`Ends with "${r.suffix}".`);
      if (r.contains !== "") notes.push(`Contains "${r.contains}".`);
      if (r.maxBytes > 0n) notes.push(`At most ${r.maxBytes} bytes of UTF-8.`);
      if (r.wellKnown.case !== undefined && r.wellKnown.value) schema.format = r.wellKnown.case;
      return;
    }
    case "int32":
    case "uint32": {
      const r = rule.value;
      applyBounds(schema, r.greaterThan, r.lessThan);
      if (r.in.length > 0) schema.enum = [...r.in];
      if (r.const !== 0) schema.const = r.const;
      return;
    }
    case "int64": {
      // The JSON value is a string, so numeric keywords would not apply: say it in words.
      const r = rule.value;
      if (r.greaterThan.case !== undefined) {
        notes.push(`${r.greaterThan.case === "gt" ? "Greater than" : "At least"} ${r.greaterThan.value}.`);
        if (r.greaterThan.value >= (r.greaterThan.case === "gt" ? -1n : 0n)) schema.pattern = uint64Pattern;
      }
      if (r.lessThan.case !== undefined) notes.push(`${r.lessThan.case === "lt" ? "Less than" : "At most"} ${r.lessThan.value}.`);
      if (r.in.length > 0) schema.enum = r.in.map(String);
      return;
    }
    case "bytes": {
      if (rule.value.maxLen > 0n) notes.push(`At most ${rule.value.maxLen} bytes.`);
      if (rule.value.minLen > 0n) notes.push(`At least ${rule.value.minLen} bytes.`);
      return;
    }
    case "enum": {
      const desc = f.fieldKind === "enum" || (f.fieldKind === "list" && f.listKind === "enum") ? f.enum : undefined;
      if (!desc) return;
      const r = rule.value;
      // Siblings of $ref are allowed in OpenAPI 3.1: the component lists every name, this the allowed ones.
      let values = desc.values;
      if (r.in.length > 0) values = values.filter((v) => r.in.includes(v.number));
      if (r.notIn.length > 0) values = values.filter((v) => !r.notIn.includes(v.number));
      if (r.in.length > 0 || r.notIn.length > 0) schema.enum = acceptedEnumNames(desc, values);
      return;
    }
    case "repeated": {
      const r = rule.value;
      if (r.minItems > 0n) schema.minItems = Number(r.minItems);
      if (r.maxItems > 0n) schema.maxItems = Number(r.maxItems);
      if (r.unique) schema.uniqueItems = true;
      if (r.items && schema.items) applyRules(schema.items, r.items, f, notes);
      return;
    }
    case "map": {
      const r = rule.value;
      if (r.minPairs > 0n) schema.minProperties = Number(r.minPairs);
      if (r.maxPairs > 0n) schema.maxProperties = Number(r.maxPairs);
      return;
    }
    case "timestamp": {
      const r = rule.value;
      if (r.lessThan.case === "ltNow") notes.push("Must lie in the past.");
      if (r.greaterThan.case === "gtNow") notes.push("Must lie in the future.");
      return;
    }
    default:
      return;
  }
}

type Bound = { case: "gt" | "gte" | "lt" | "lte"; value: number } | { case: undefined; value?: undefined };

function applyBounds(schema: SchemaObject, greaterThan: Bound, lessThan: Bound): void {
  if (greaterThan.case === "gte") schema.minimum = greaterThan.value;
  if (greaterThan.case === "gt") {
    delete schema.minimum;
    schema.exclusiveMinimum = greaterThan.value;
  }
  if (lessThan.case === "lte") schema.maximum = lessThan.value;
  if (lessThan.case === "lt") {
    delete schema.maximum;
    schema.exclusiveMaximum = lessThan.value;
  }
}
