// Generated hostile requests for the fuzz test: grammar-aware enough to get past the outer
// layers (real routes and procedures, a valid token most of the time, bodies shaped like the
// real messages) and then wrong in one or a few places (NUL, lone surrogates, invalid UTF-8,
// huge or fractional numbers, deep nesting, wrong types, duplicate keys, broken protobuf and
// broken gRPC frames, odd headers).
import type { DescField, DescMessage, DescMethod, DescService } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import fc from "fast-check";

export type Protocol = "rest" | "connect" | "connect-get" | "grpc" | "grpc-web" | "grpc-web-text" | "raw";

export type FuzzRequest = {
  protocol: Protocol;
  /** HTTP/1.1 or cleartext HTTP/2 (gRPC always uses HTTP/2). */
  http2: boolean;
  method: string;
  /** Path and query as sent: may hold percent escapes and latin-1 bytes. */
  path: string;
  headers: Record<string, string>;
  body: Buffer;
  /** The request asked for a deadline, so DEADLINE_EXCEEDED is a fair answer. */
  deadline: boolean;
};

export type RestRoute = { httpMethod: string; template: string; body: string; method: DescMethod };

/** Depth of the deepest generated nesting: far past any recursive parser's comfort. */
export const nestingDepthMax = 10_000;
/** Longest generated string: large, but well under the 4 MiB message limit. */
const longStringChars = 200_000;

// ---------- JSON text with the freedom JSON.stringify does not give ----------

type Json =
  | { t: "token"; text: string }
  | { t: "str"; value: string }
  | { t: "bytes"; bytes: number[] }
  | { t: "arr"; items: Json[] }
  | { t: "obj"; entries: [string, Json][] }
  | { t: "deep"; depth: number; open: "[" | "{" };

export function jsonBytes(value: Json): Buffer {
  const parts: Buffer[] = [];
  const write = (v: Json): void => {
    switch (v.t) {
      case "token":
        parts.push(Buffer.from(v.text));
        return;
      case "str":
        // JSON.stringify escapes lone surrogates as \udXXX: well-formed JSON text, invalid Unicode.
        parts.push(Buffer.from(JSON.stringify(v.value)));
        return;
      case "bytes":
        parts.push(Buffer.from('"'), Buffer.from(v.bytes), Buffer.from('"'));
        return;
      case "arr":
        parts.push(Buffer.from("["));
        v.items.forEach((item, i) => {
          if (i > 0) parts.push(Buffer.from(","));
          write(item);
        });
        parts.push(Buffer.from("]"));
        return;
      case "obj":
        parts.push(Buffer.from("{"));
        v.entries.forEach(([key, item], i) => {
          parts.push(Buffer.from(`${i > 0 ? "," : ""}${JSON.stringify(key)}:`));
          write(item);
        });
        parts.push(Buffer.from("}"));
        return;
      case "deep":
        parts.push(Buffer.from((v.open === "[" ? "[" : '{"a":').repeat(v.depth)), Buffer.from("1"));
        parts.push(Buffer.from((v.open === "[" ? "]" : "}").repeat(v.depth)));
        return;
    }
  };
  write(value);
  return Buffer.concat(parts);
}

const str = (value: string): Json => ({ t: "str", value });
const token = (text: string): Json => ({ t: "token", text });

const hugeNumberTexts = [
  "1e400",
  "-1e400",
  "1e2",
  "1E-7",
  "-0",
  "0.5",
  "-1",
  "1.0",
  "9223372036854775807",
  "9223372036854775808",
  "-9223372036854775809",
  "18446744073709551616",
  "4294967296",
  "2147483648",
  "92233720368547758.07",
  "123456789012345678901234567890",
  "1e308",
  "5e-324",
  "0.000000000000000000001",
];

const hostileStrings: fc.Arbitrary<string>[] = [
  fc.constantFrom("\u0000", "a\u0000b", "ACC\u0000", "\ud800", "x\udfff", "\ud83d", "\uffff", "\u202e", "", " ", "null", "../../etc"),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.constantFrom("x", "\u0000", "é").map((c) => c.repeat(longStringChars)),
  fc.constantFrom(...hugeNumberTexts),
];

const invalidUtf8: fc.Arbitrary<number[]> = fc.oneof(
  fc.constantFrom<number[]>([0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82], [0x80], [0xfe, 0xfe]),
  fc.array(fc.integer({ min: 0x80, max: 0xff }), { minLength: 1, maxLength: 8 }),
);

/** A value of the wrong kind or out of range, whatever the field. */
const hostileJson: fc.Arbitrary<Json> = fc.oneof(
  fc.oneof(...hostileStrings).map(str),
  fc.tuple(fc.string({ maxLength: 4 }), invalidUtf8).map(([s, bytes]) => ({ t: "bytes", bytes: [...Buffer.from(s), ...bytes] }) as Json),
  fc.constantFrom(...hugeNumberTexts).map(token),
  fc.constantFrom("true", "false", "null", "{}", "[]", '[""]', '{"":""}', "NaN", "Infinity", "0x10", "01", "+1", ".5").map(token),
  fc
    .record({ depth: fc.constantFrom(64, 1000, nestingDepthMax), open: fc.constantFrom<"[" | "{">("[", "{") })
    .map((d) => ({ t: "deep", ...d }) as Json),
);

const currencies = fc.constantFrom("USD", "EUR", "JPY", "KWD", "BTC", "usd", "", "XXX", "US");
const amounts = fc.oneof(
  fc.constantFrom("100.00", "0.01", "0", "-5.00", "1.234", "92233720368547758.07", "1e3", "0x10", "1,00"),
  fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }).map((n) => `${n / 100n}.${(n < 0n ? -n : n) % 100n}`.replace(/\.(\d)$/, ".0$1")),
);
const ids = fc.oneof(fc.constantFrom("ACC-1", "acc_2", "equity:USD", "FUZZ-A", "x"), fc.stringMatching(/^[A-Za-z0-9_:.-]{1,40}$/));

/** A plausible proto3-JSON value for a field, hostile now and then. */
function fieldJson(field: DescField, depth: number): fc.Arbitrary<Json> {
  const plausible = plausibleFieldJson(field, depth);
  return fc.oneof({ arbitrary: plausible, weight: 6 }, { arbitrary: hostileJson, weight: 1 });
}

function plausibleFieldJson(field: DescField, depth: number): fc.Arbitrary<Json> {
  switch (field.fieldKind) {
    case "scalar":
      return scalarJson(field.name, field.scalar);
    case "enum":
      return fc.oneof(
        fc.constantFrom(...field.enum.values.map((v) => v.name)).map(str),
        fc.integer({ min: -2, max: 20 }).map((n) => token(String(n))),
      );
    case "message":
      return messageValueJson(field.message, depth);
    case "list": {
      const item =
        field.listKind === "scalar"
          ? scalarJson(field.name, field.scalar)
          : field.listKind === "enum"
            ? fc.constantFrom(...field.enum.values.map((v) => v.name)).map(str)
            : messageValueJson(field.message, depth);
      return fc.array(item, { maxLength: 4 }).map((items) => ({ t: "arr", items }) as Json);
    }
    case "map":
      return fc
        .array(
          fc.tuple(
            fc.string({ maxLength: 8 }),
            field.mapKind === "scalar" ? scalarJson(field.name, field.scalar) : fc.constant(token("{}")),
          ),
          { maxLength: 3 },
        )
        .map((entries) => ({ t: "obj", entries }) as Json);
  }
}

function scalarJson(name: string, scalar: number): fc.Arbitrary<Json> {
  // ScalarType: 9 string, 12 bytes, 8 bool; everything else is a number.
  if (scalar === 9) {
    if (/currency/.test(name)) return currencies.map(str);
    if (/amount|balance|rate|limit|price/.test(name)) return fc.oneof(amounts.map(str), amounts.map(token));
    if (/id$|_ids?$|reference|owner|key/.test(name)) return ids.map(str);
    return fc.oneof(ids, fc.string({ maxLength: 20 })).map(str);
  }
  if (scalar === 12) return fc.uint8Array({ maxLength: 16 }).map((b) => str(Buffer.from(b).toString("base64")));
  if (scalar === 8) return fc.boolean().map((b) => token(String(b)));
  return fc.oneof(
    fc.integer({ min: -5, max: 1000 }).map((n) => token(String(n))),
    fc.integer({ min: 0, max: 1000 }).map((n) => str(String(n))),
  );
}

const wellKnownJson: Record<string, fc.Arbitrary<Json>> = {
  "google.protobuf.Timestamp": fc
    .constantFrom("2024-01-01T00:00:00Z", "1970-01-01T00:00:00.000000001Z", "9999-12-31T23:59:59Z", "0000-01-01T00:00:00Z", "yesterday")
    .map(str),
  "google.protobuf.Duration": fc.constantFrom("1s", "0.5s", "-1s", "315576000001s", "1h").map(str),
  "google.protobuf.FieldMask": fc.constantFrom("a,b", "accountId", "").map(str),
};

function messageValueJson(message: DescMessage, depth: number): fc.Arbitrary<Json> {
  const known = wellKnownJson[message.typeName];
  if (known) return known;
  if (message.typeName === "qenex.common.v1.Money") {
    return fc.record({ currency: currencies, amount: fc.oneof(amounts.map(str), amounts.map(token)) }).map(
      (m) =>
        ({
          t: "obj",
          entries: [
            ["currency", str(m.currency)],
            ["amount", m.amount],
          ],
        }) as Json,
    );
  }
  if (message.typeName.startsWith("google.protobuf.") || depth >= 3) return hostileJson;
  return messageJson(message, depth + 1);
}

/** An object for `message`: some of its fields, sometimes an unknown key or a duplicate. */
export function messageJson(message: DescMessage, depth = 0): fc.Arbitrary<Json> {
  const fields = message.fields;
  if (fields.length === 0) return fc.constant({ t: "obj", entries: [] });
  const entry = fc.constantFrom(...fields).chain((field) => fc.tuple(fc.constantFrom(field.jsonName, field.name), fieldJson(field, depth)));
  return fc
    .tuple(
      fc.array(entry, { maxLength: Math.min(6, fields.length + 1) }),
      fc.option(fc.string({ maxLength: 10 }), { freq: 8 }),
      fc.boolean(),
    )
    .map(([entries, unknownKey, duplicate]) => {
      const all: [string, Json][] = [...entries];
      if (unknownKey !== null) all.push([unknownKey, token("1")]);
      if (duplicate && all.length > 0) all.push([(all[0] as [string, Json])[0], str("duplicate")]);
      return { t: "obj", entries: all } as Json;
    });
}

/** A whole JSON body: mostly the message's shape, sometimes not JSON at all. */
export function jsonBody(message: DescMessage): fc.Arbitrary<Buffer> {
  return fc.oneof(
    { arbitrary: messageJson(message).map(jsonBytes), weight: 8 },
    { arbitrary: hostileJson.map(jsonBytes), weight: 1 },
    {
      arbitrary: fc.tuple(messageJson(message).map(jsonBytes), fc.nat()).map(([b, n]) => b.subarray(0, n % (b.length + 1))),
      weight: 1,
    },
    { arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)), weight: 1 },
  );
}

// ---------- protobuf binary, valid-ish and broken ----------

function writeField(writer: BinaryWriter, field: DescField, depth: number, seed: number): void {
  const no = field.number;
  const scalar = field.fieldKind === "scalar" || (field.fieldKind === "list" && field.listKind === "scalar") ? field.scalar : undefined;
  if (scalar === 9 || scalar === 12) {
    const variants = [
      Buffer.from("FUZZ-1"),
      Buffer.from([0x41, 0x00, 0x42]),
      Buffer.from([0xff, 0xfe]),
      Buffer.from("USD"),
      Buffer.from("100.00"),
    ];
    writer.tag(no, WireType.LengthDelimited).bytes(variants[seed % variants.length] as Buffer);
  } else if (field.fieldKind === "message" || (field.fieldKind === "list" && field.listKind === "message")) {
    const inner = new BinaryWriter();
    if (depth < 3) for (const f of field.message.fields.slice(0, 4)) writeField(inner, f, depth + 1, seed >> 2);
    writer.tag(no, WireType.LengthDelimited).bytes(inner.finish());
  } else if (field.fieldKind === "map") {
    writer.tag(no, WireType.LengthDelimited).bytes(new BinaryWriter().tag(1, WireType.LengthDelimited).string("k").finish());
  } else if (scalar === 1 || scalar === 6 || scalar === 16) {
    writer.tag(no, WireType.Bit64).fixed64(BigInt(seed));
  } else if (scalar === 2 || scalar === 7 || scalar === 15) {
    writer.tag(no, WireType.Bit32).fixed32(seed);
  } else {
    writer.tag(no, WireType.Varint).uint64(BigInt(seed) * 977n);
  }
}

export function protoBody(message: DescMessage): fc.Arbitrary<Buffer> {
  const valid = fc.tuple(fc.subarray(message.fields.slice(0, 12)), fc.nat()).map(([fields, seed]) => {
    const writer = new BinaryWriter();
    for (const field of fields) writeField(writer, field, 0, seed);
    return Buffer.from(writer.finish());
  });
  const mutated = fc
    .tuple(valid, fc.nat(), fc.integer({ min: 0, max: 6 }), fc.integer({ min: 1, max: 536870911 }))
    .map(([bytes, n, how, fieldNo]) => {
      switch (how) {
        case 0: // truncated
          return bytes.subarray(0, n % (bytes.length + 1));
        case 1: // an overlong varint (11 continuation bytes)
          return Buffer.concat([bytes, Buffer.from([0x08, ...Array(11).fill(0xff), 0x01])]);
        case 2: // a length-delimited field claiming more bytes than follow
          return Buffer.concat([bytes, Buffer.from([0x0a, 0xe8, 0x07, 0x41, 0x42])]);
        case 3: // a random tag with a random wire type (groups and reserved types included)
          return Buffer.concat([bytes, new BinaryWriter().uint32(fieldNo * 8 + (n % 8)).finish(), Buffer.from([n & 0xff])]);
        case 4: // field number 0
          return Buffer.concat([Buffer.from([0x00, 0x01]), bytes]);
        case 5: // one byte flipped
          if (bytes.length === 0) return Buffer.from([n & 0xff]);
          return Buffer.from(bytes.map((b, i) => (i === n % bytes.length ? b ^ (1 << (n % 8)) : b)));
        default:
          return Buffer.from([0x0a, 0xe8, 0x07, 0x41, 0x42]);
      }
    });
  return fc.oneof(
    { arbitrary: valid, weight: 2 },
    { arbitrary: mutated, weight: 3 },
    fc.uint8Array({ maxLength: 48 }).map((b) => Buffer.from(b)),
  );
}

// ---------- gRPC / Connect envelopes ----------

/** One or more length-prefixed frames, with wrong flags and lengths now and then. */
export function frames(payload: fc.Arbitrary<Buffer>): fc.Arbitrary<Buffer> {
  const frame = (flags: number, bytes: Buffer, declared = bytes.length) => {
    const head = Buffer.alloc(5);
    head[0] = flags;
    head.writeUInt32BE(declared >>> 0, 1);
    return Buffer.concat([head, bytes]);
  };
  return fc.tuple(payload, fc.integer({ min: 0, max: 9 }), fc.nat()).map(([bytes, how, n]) => {
    switch (how) {
      case 0: // compressed flag (with or without a grpc-encoding header)
        return frame(1, bytes);
      case 1: // flags no protocol defines
        return frame([0x02, 0x80, 0x7f, 0xff][n % 4] as number, bytes);
      case 2: // declares more than it sends
        return frame(0, bytes, bytes.length + 1 + (n % 100_000));
      case 3: // declares more than any message may be
        return frame(0, bytes, 0xffffffff);
      case 4: // declares less: trailing bytes
        return frame(0, bytes, Math.max(0, bytes.length - 1 - (n % 4)));
      case 5: // two messages on a unary call
        return Buffer.concat([frame(0, bytes), frame(0, bytes)]);
      case 6: // a cut-off header
        return frame(0, bytes).subarray(0, n % 5);
      default:
        return frame(0, bytes);
    }
  });
}

// ---------- headers, paths, tokens ----------

export type Tokens = { admin: string; viewer: string; expired: string };

function authorization(tokens: Tokens): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    { arbitrary: fc.constant(`Bearer ${tokens.admin}`), weight: 14 },
    { arbitrary: fc.constant(`Bearer ${tokens.viewer}`), weight: 1 },
    { arbitrary: fc.constant(`Bearer ${tokens.expired}`), weight: 1 },
    { arbitrary: fc.constant(undefined), weight: 1 },
    {
      arbitrary: fc.constantFrom(
        "Bearer",
        "Bearer ",
        "Basic YWxhZGRpbjpvcGVu",
        `bearer ${tokens.admin}x`,
        "Bearer a.b.c",
        `Bearer ${"A".repeat(6000)}`,
      ),
      weight: 1,
    },
  );
}

/** Header values Node lets a client send: visible latin-1, spaces and tabs. */
const headerText = fc.string({
  unit: fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff })).map((c) => String.fromCharCode(c)),
  maxLength: 30,
});

const contentTypes = [
  "application/json",
  "application/proto",
  "application/connect+json",
  "application/connect+proto",
  "application/grpc",
  "application/grpc+proto",
  "application/grpc+json",
  "application/grpc-web+proto",
  "application/grpc-web-text",
  "application/json; charset=utf-8",
  "application/json; charset=latin1",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/xml",
  "",
];

/** Extra headers, most of them about encoding and deadlines, some random. */
const extraHeaders: fc.Arbitrary<[string, string][]> = fc.array(
  fc.oneof(
    fc.tuple(fc.constant("content-type"), fc.oneof(fc.constantFrom(...contentTypes), headerText)),
    fc.tuple(
      fc.constantFrom("content-encoding", "connect-content-encoding", "grpc-encoding"),
      fc.constantFrom("gzip", "br", "identity", "zstd", "deflate", "x-junk", ""),
    ),
    fc.tuple(
      fc.constantFrom("accept-encoding", "connect-accept-encoding", "grpc-accept-encoding"),
      fc.constantFrom("gzip", "br", "identity", "*", "x"),
    ),
    fc.tuple(fc.constant("connect-protocol-version"), fc.constantFrom("1", "2", "0", "", "1.0")),
    fc.tuple(fc.constant("idempotency-key"), fc.oneof(fc.stringMatching(/^[!-~]{1,20}$/), headerText, fc.constant("k".repeat(300)))),
    fc.tuple(
      fc.constantFrom(
        "x-request-id",
        "traceparent",
        "tracestate",
        "x-forwarded-for",
        "origin",
        "accept",
        "grpc-message-type",
        "x-user-agent",
      ),
      headerText,
    ),
    fc.tuple(fc.constant("accept"), fc.constantFrom("text/event-stream", "application/x-ndjson", "*/*")),
  ),
  { maxLength: 3 },
);

/** Deadline headers; `sensible` keeps them short and valid (for streams, which otherwise stay open). */
function deadlineHeaders(protocol: Protocol, sensible: boolean): fc.Arbitrary<[string, string][]> {
  const name = protocol === "rest" ? "x-timeout-ms" : protocol.startsWith("connect") ? "connect-timeout-ms" : "grpc-timeout";
  const good = name === "grpc-timeout" ? fc.constantFrom("300m", "250000u", "1S") : fc.constantFrom("300", "250", "1000");
  if (sensible) return good.map((v) => [[name, v]]);
  const odd =
    name === "grpc-timeout"
      ? fc.constantFrom("1n", "0m", "99999999H", "100000000S", "1x", "-1S", "1.5S", "", "S", "123456789m")
      : fc.constantFrom("0", "-1", "1", "60001", "99999999999", "1e3", "abc", "", "1.5", "3600000");
  return fc.option(
    fc.oneof(good, odd).map((v) => [[name, v]] as [string, string][]),
    { nil: [] as [string, string][], freq: 3 },
  );
}

/** A path segment for a template variable: plausible, or an escape meant to break decoding. */
const segmentText = fc.oneof(
  { arbitrary: ids.map(encodeURIComponent), weight: 6 },
  {
    arbitrary: fc.constantFrom(
      "%00",
      "%FF",
      "%C0%80",
      "%ED%A0%80",
      "%",
      "%Z9",
      "..",
      ".",
      "%2F",
      "a%2Fb",
      "%25",
      "%3A",
      ":close",
      "a:b",
      "%E2%80%AE",
    ),
    weight: 2,
  },
  { arbitrary: fc.constantFrom("\xff", "\xc3", "\xe9t\xe9").map((s) => s), weight: 1 },
  { arbitrary: fc.constantFrom(50, 1000, 3000).map((n) => "A".repeat(n)), weight: 1 },
);

/** A query string: the request's fields by name, and junk. */
function queryString(message: DescMessage): fc.Arbitrary<string> {
  const names = message.fields.flatMap((f) => [f.name, f.jsonName]);
  const pair = fc.tuple(
    fc.oneof(fc.constantFrom(...(names.length ? names : ["x"])), fc.constantFrom("page.size", "a.b.c", "", "%00", "x%FF")),
    fc.oneof(fc.constantFrom("1", "-1", "true", "1e400", "9223372036854775808", "%00", "%FF", "%ED%A0%80", "", "ABC", "USD"), segmentText),
  );
  return fc.array(pair, { maxLength: 4 }).map((pairs) => (pairs.length ? `?${pairs.map(([k, v]) => `${k}=${v}`).join("&")}` : ""));
}

function fillTemplate(template: string, segments: string[]): string {
  let i = 0;
  return template.replace(/\{[^}]+\}/g, () => segments[i++ % Math.max(1, segments.length)] ?? "x");
}

function headersOf(pairs: readonly [string, string][], authorizationValue: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  if (authorizationValue !== undefined) headers.authorization = authorizationValue;
  for (const [name, value] of pairs) headers[name] = value;
  return headers;
}

// ---------- whole requests ----------

export function restRequest(routes: readonly RestRoute[], tokens: Tokens): fc.Arbitrary<FuzzRequest> {
  return fc.constantFrom(...routes).chain((route) => {
    const streaming = route.method.methodKind === "server_streaming";
    return fc
      .record({
        httpMethod: fc.oneof(
          { arbitrary: fc.constant(route.httpMethod), weight: 9 },
          fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"),
        ),
        segments: fc.array(segmentText, { minLength: 1, maxLength: 2 }),
        query: queryString(route.method.input),
        body:
          route.body === ""
            ? fc.oneof({ arbitrary: fc.constant(Buffer.alloc(0)), weight: 5 }, jsonBody(route.method.input))
            : jsonBody(route.method.input),
        auth: authorization(tokens),
        contentType: fc.oneof({ arbitrary: fc.constant("application/json"), weight: 4 }, fc.constantFrom(...contentTypes)),
        deadline: deadlineHeaders("rest", streaming),
        extra: extraHeaders,
        http2: fc.boolean(),
      })
      .map((r) => {
        const headers = headersOf([["content-type", r.contentType], ...r.deadline, ...r.extra], r.auth);
        if (streaming) Object.assign(headers, Object.fromEntries(r.deadline));
        // HEAD and GET with a body are refused by some clients before sending; GET bodies are still fair.
        const body = r.httpMethod === "HEAD" ? Buffer.alloc(0) : r.body;
        return {
          protocol: "rest",
          http2: r.http2,
          method: r.httpMethod,
          path: fillTemplate(route.template, r.segments) + r.query,
          headers,
          body,
          deadline: r.deadline.length > 0 || "x-timeout-ms" in headers,
        } satisfies FuzzRequest;
      });
  });
}

export function rpcRequest(services: readonly DescService[], tokens: Tokens, protocols: readonly Protocol[]): fc.Arbitrary<FuzzRequest> {
  const methods = services.flatMap((s) => s.methods);
  return fc.tuple(fc.constantFrom(...methods), fc.constantFrom(...protocols)).chain(([method, protocol]) => {
    const streaming = method.methodKind === "server_streaming";
    const json = jsonBody(method.input);
    const proto = protoBody(method.input);
    const path = fc.oneof(
      { arbitrary: fc.constant(`/${method.parent.typeName}/${method.name}`), weight: 12 },
      fc.constantFrom(
        `/${method.parent.typeName}/Nope`,
        `/${method.parent.typeName}/${method.name.toLowerCase()}`,
        "/qenex.nope.v1.Nope/Get",
        `/${method.parent.typeName}/${method.name}/`,
        `//${method.parent.typeName}/${method.name}`,
      ),
    );
    const body: fc.Arbitrary<{ contentType: string; body: Buffer }> = (() => {
      switch (protocol) {
        case "connect":
          return streaming
            ? fc.oneof(
                frames(json).map((b) => ({ contentType: "application/connect+json", body: b })),
                frames(proto).map((b) => ({ contentType: "application/connect+proto", body: b })),
              )
            : fc.oneof(
                json.map((b) => ({ contentType: "application/json", body: b })),
                proto.map((b) => ({ contentType: "application/proto", body: b })),
              );
        case "grpc":
          return fc.oneof(
            { arbitrary: frames(proto).map((b) => ({ contentType: "application/grpc", body: b })), weight: 3 },
            frames(json).map((b) => ({ contentType: "application/grpc+json", body: b })),
          );
        case "grpc-web":
          return frames(proto).map((b) => ({ contentType: "application/grpc-web+proto", body: b }));
        case "grpc-web-text":
          return fc.oneof(
            frames(proto).map((b) => ({ contentType: "application/grpc-web-text", body: Buffer.from(b.toString("base64")) })),
            fc
              .constantFrom("not base64!", "AAAAAA", "====", "AAAAAAA=")
              .map((t) => ({ contentType: "application/grpc-web-text", body: Buffer.from(t) })),
          );
        default:
          return fc.constant({ contentType: "application/json", body: Buffer.alloc(0) });
      }
    })();
    if (protocol === "connect-get") return connectGet(method, path, tokens);
    return fc
      .record({
        path,
        body,
        auth: authorization(tokens),
        deadline: deadlineHeaders(protocol, streaming),
        extra: extraHeaders,
        http2: fc.boolean(),
      })
      .map((r) => {
        const base: [string, string][] = [["content-type", r.body.contentType]];
        if (protocol === "connect") base.push(["connect-protocol-version", "1"]);
        if (protocol === "grpc") base.push(["te", "trailers"]);
        if (protocol.startsWith("grpc-web")) base.push(["x-grpc-web", "1"]);
        // Streams keep their short deadline whatever the extra headers say.
        const headers = headersOf([...base, ...(streaming ? [] : r.extra), ...r.deadline], r.auth);
        return {
          protocol,
          http2: protocol === "grpc" ? true : r.http2,
          method: "POST",
          path: r.path,
          headers,
          body: r.body.body,
          deadline: r.deadline.length > 0,
        } satisfies FuzzRequest;
      });
  });
}

const connectGetMessageCharsMax = 8 * 1024;

/** Connect's GET form: the message in the query, JSON or base64 proto, compressed or not. */
function connectGet(method: DescMethod, path: fc.Arbitrary<string>, tokens: Tokens): fc.Arbitrary<FuzzRequest> {
  return fc
    .record({
      path,
      json: jsonBody(method.input),
      proto: protoBody(method.input),
      encoding: fc.constantFrom("json", "proto", "xml", ""),
      base64: fc.constantFrom("", "1", "0", "x"),
      compression: fc.constantFrom("", "gzip", "identity", "zz"),
      connect: fc.constantFrom("v1", "v1", "v2", ""),
      junk: fc.constantFrom("", "&message=%", "&message=%FF%FE", "&message=!!!&base64=1", "&extra=1"),
      auth: authorization(tokens),
    })
    .map((r) => {
      const raw = r.encoding === "proto" ? r.proto : r.json;
      // Under Node's 16 KiB header limit: past it the HTTP parser answers 431 (or resets the
      // connection mid-write) before any RPC code runs; bodies test the big messages.
      const message = (r.base64 === "1" ? raw.toString("base64url") : encodeURIComponent(raw.toString("latin1"))).slice(
        0,
        connectGetMessageCharsMax,
      );
      const params = [`connect=${r.connect}`, `encoding=${r.encoding}`, `message=${message}`];
      if (r.base64) params.push(`base64=${r.base64}`);
      if (r.compression) params.push(`compression=${r.compression}`);
      const headers = headersOf([], r.auth);
      return {
        protocol: "connect-get",
        http2: false,
        method: "GET",
        path: `${r.path}?${params.join("&")}${r.junk}`,
        headers,
        body: Buffer.alloc(0),
        deadline: false,
      } satisfies FuzzRequest;
    });
}

/** Paths nobody routes, and the edge's own pages. */
export function rawRequest(tokens: Tokens): fc.Arbitrary<FuzzRequest> {
  return fc
    .record({
      method: fc.constantFrom("GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "PROPFIND"),
      path: fc.oneof(
        fc.constantFrom(
          "/",
          "/health",
          "/openapi.json",
          "/docs",
          "/metrics",
          "/api/v1/system/status",
          "/api",
          "/api/v1/",
          "/api/v1/accounts/",
          "/%00",
          "/%FF",
          "/api/v1/accounts/a/b/c",
          "*",
        ),
        fc.array(segmentText, { minLength: 1, maxLength: 4 }).map((s) => `/${s.join("/")}`),
        fc.array(segmentText, { minLength: 1, maxLength: 3 }).map((s) => `/api/v1/${s.join("/")}`),
      ),
      body: fc.oneof(
        fc.constant(Buffer.alloc(0)),
        fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
      ),
      auth: authorization(tokens),
      extra: extraHeaders,
      http2: fc.boolean(),
    })
    .map((r) => ({
      protocol: "raw",
      // HTTP/2 allows "*" only with OPTIONS and resets anything else as malformed (RFC 9113).
      http2: r.http2 && r.path !== "*",
      method: r.method,
      path: r.path,
      headers: headersOf(r.extra, r.auth),
      body: r.method === "GET" ? Buffer.alloc(0) : r.body,
      deadline: false,
    }));
}
