// 64-bit integers in Connect JSON at a service port: the spellings proto3 JSON allows (and the
// edge takes) are read exactly; a fraction, a value out of range or text that is no number is
// INVALID_ARGUMENT naming the field.
import { ConformanceService } from "@qenex/gen/qenex/conformance/v1/conformance_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuth } from "./auth.js";
import { readInteger } from "./json-integers.js";
import { createLogger } from "./logger.js";
import { binding, type Server, serve } from "./server.js";
import { JsonError } from "./strict-json.js";

let server: Server;
beforeAll(async () => {
  server = await serve({
    services: [binding(ConformanceService, { echo: (request) => ({ request }) }, { publicMethods: ["echo"] })],
    host: "127.0.0.1",
    port: 0,
    auth: createAuth("json-integers-test-secret-json-integers-01"),
    logger: createLogger("test", "silent"),
    ready: async () => true,
  });
});
afterAll(() => server.close(0));

type Answer = { status: number; json: { code?: string; message?: string; request?: Record<string, unknown> } };

/** A Connect unary JSON call of Echo, the body sent exactly as given. */
async function echo(body: string): Promise<Answer> {
  const response = await fetch(`${server.url}/qenex.conformance.v1.ConformanceService/Echo`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
  return { status: response.status, json: (await response.json()) as Answer["json"] };
}

const int64Range = "(-9223372036854775808 to 9223372036854775807)";

describe("64-bit integers in Connect JSON at a service port", () => {
  it("takes a whole value in exponent or fraction notation, quoted or not", async () => {
    const answer = await echo('{"big":"1e2","unsignedBig":"1.5e1","nested":{"count":"100.0"}}');
    expect(answer.status).toBe(200);
    expect(answer.json.request).toMatchObject({ big: "100", unsignedBig: "15", nested: { count: "100" } });
    expect((await echo('{"big":1E+2}')).json.request?.big).toBe("100");
    expect((await echo('{"big":"-0.0042e4"}')).json.request?.big).toBe("-42");
  });

  it("reads an unquoted integer above 2^53 exactly, not through a double", async () => {
    expect((await echo('{"big":9007199254740993}')).json.request?.big).toBe("9007199254740993");
    const extremes = await echo('{"big":"-9223372036854775808","unsignedBig":18446744073709551615}');
    expect(extremes.json.request).toMatchObject({ big: "-9223372036854775808", unsignedBig: "18446744073709551615" });
  });

  it("refuses a fraction, naming the field", async () => {
    for (const [body, message] of [
      ['{"big":"1.5"}', "big must be a whole number; 1.5 is not"],
      ['{"big":"1e-1"}', "big must be a whole number; 1e-1 is not"],
      ['{"nested":{"count":2.25e1}}', "nested.count must be a whole number; 2.25e1 is not"],
    ] as const) {
      expect(await echo(body)).toEqual({ status: 400, json: { code: "invalid_argument", message } });
    }
  });

  it("refuses a value beyond int64 or uint64, naming the field and the range", async () => {
    expect((await echo('{"big":"9223372036854775808"}')).json.message).toBe(
      `big: 9223372036854775808 is out of range for int64 ${int64Range}`,
    );
    expect((await echo('{"big":-1e19}')).json.message).toBe(`big: -1e19 is out of range for int64 ${int64Range}`);
    const negative = await echo('{"unsignedBig":"-1"}');
    expect(negative).toEqual({
      status: 400,
      json: { code: "invalid_argument", message: "unsigned_big: -1 is out of range for uint64 (0 to 18446744073709551615)" },
    });
  });

  it("refuses text that is no decimal number (protobuf-es alone took hex, binary and spaces)", async () => {
    for (const text of ["abc", "0x10", "0b11", " 1", "+1", ""]) {
      const answer = await echo(JSON.stringify({ big: text }));
      expect(answer).toEqual({
        status: 400,
        json: { code: "invalid_argument", message: `big must be a whole decimal number (int64), not ${JSON.stringify(text)}` },
      });
    }
  });

  it("leaves other fields as protobuf-es reads them", async () => {
    const answer = await echo('{"id":"1e2","ratio":1.5e0,"numbers":["1e2"],"unknownField":1e999}');
    expect(answer.json.request).toMatchObject({ id: "1e2", ratio: 1.5, numbers: [100] });
  });
});

describe("readInteger", () => {
  it("works the decimal text, so no exponent is too large to refuse quickly", () => {
    expect(readInteger("0.0001e4", "int64", "n")).toBe("1");
    expect(readInteger("-0", "uint64", "n")).toBe("0");
    expect(readInteger("0e99999999", "int32", "n")).toBe("0");
    expect(() => readInteger("1e99999999999999999999", "int64", "n")).toThrow(JsonError);
    expect(() => readInteger("1e-99999999999999999999", "int64", "n")).toThrow("n must be a whole number");
    expect(() => readInteger("2147483648", "int32", "n")).toThrow("out of range for int32");
  });
});
