// The edge's conventions for hostile or unusual REST input, one test per choice made in the
// README ("Conventions for hostile or unusual input"). The error shape per RPC protocol is
// tested in rpc-errors.test.ts.
import * as http from "node:http";
import { Code } from "@connectrpc/connect";
import { jsonDepthMax, messageBytesMax } from "@qenex/platform";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestEdge, type TestEdge } from "./testing/harness.js";

let edge: TestEdge;
let token: string;

beforeAll(async () => {
  edge = await startTestEdge();
  token = await edge.token();
});
afterAll(async () => {
  await edge?.stop();
});

type Answer = {
  status: number;
  json: { code: number; message: string; details: { fieldViolations?: { field: string }[] }[]; request: Record<string, unknown> };
};

/** A raw request: the body's bytes and the Content-Type exactly as given (null: none). */
function send(method: string, path: string, body: string | Buffer | undefined, contentType: string | null): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (contentType !== null) headers["content-type"] = contentType;
    const req = http.request(`${edge.url}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString("utf8")) }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const echo = (body: string | Buffer, contentType: string | null = "application/json") => send("POST", "/v1/echo:post", body, contentType);

describe("unknown fields", () => {
  it("an unknown body field or query parameter is a 400 naming it", async () => {
    const body = await echo(JSON.stringify({ id: "u1", colour: "red" }));
    expect(body.status).toBe(400);
    expect(body.json.message).toBe('unknown field "colour" in qenex.conformance.v1.EchoRequest');
    const query = await send("GET", "/v1/echo/u1?colour=red", undefined, null);
    expect(query.status).toBe(400);
    expect(query.json.message).toContain('"colour"');
  });
});

describe("content types", () => {
  it("a body is read as JSON only under application/json, with charset utf-8 or none", async () => {
    for (const type of [
      "application/json",
      "application/json; charset=utf-8",
      "Application/JSON;charset=UTF-8",
      'application/json; charset="utf-8"',
    ]) {
      expect((await echo('{"id":"c1"}', type)).status, type).toBe(200);
    }
  });

  it("any other Content-Type, or none, with a body is 415 naming what was sent", async () => {
    const cases: [string | null, string][] = [
      ["text/plain", '"text/plain"'],
      ["application/x-www-form-urlencoded", '"application/x-www-form-urlencoded"'], // curl -d without -H
      ["application/json; charset=latin1", '"application/json; charset=latin1"'],
      ["application/merge-patch+json", '"application/merge-patch+json"'],
      [null, "none"],
    ];
    for (const [type, named] of cases) {
      const answer = await echo('{"id":"c2"}', type);
      expect(answer.status, String(type)).toBe(415);
      expect(answer.json.code).toBe(Code.InvalidArgument);
      expect(answer.json.message).toBe(
        `a request body must be sent as Content-Type: application/json (charset utf-8 if named); got ${named}`,
      );
    }
  });

  it("an empty body needs no Content-Type", async () => {
    const answer = await send("POST", "/v1/things/t9:cancel", undefined, null);
    expect(answer.status).toBe(200);
  });
});

describe("duplicate keys", () => {
  it("a key sent twice in one object is a 400 naming the key and where it is", async () => {
    const top = await echo('{"id":"d1","amount":"1.00","amount":"100.00"}');
    expect(top.status).toBe(400);
    expect(top.json.message).toBe('request body: key "amount" appears twice in the same object (at amount); send each key once');
    expect(top.json.details[0]?.fieldViolations?.[0]?.field).toBe("amount");
    const nested = await echo('{"id":"d2","nested":{"name":"a","count":"1","\\u0063ount":"2"}}');
    expect(nested.status).toBe(400);
    expect(nested.json.message).toContain('key "count" appears twice in the same object (at nested.count)');
  });

  it("a field under both its lowerCamel and its proto name is a duplicate too", async () => {
    const answer = await echo('{"id":"d3","unsignedBig":"1","unsigned_big":"2"}');
    expect(answer.status).toBe(400);
    expect(answer.json.message).toBe('field unsigned_big is given twice, as "unsignedBig" and as "unsigned_big"; send it once');
  });

  it("the same key in different objects is not a duplicate", async () => {
    expect((await echo('{"id":"d4","nested":{"name":"a"},"labels":{"name":"b"}}')).status).toBe(200);
  });
});

describe("invalid UTF-8 and invalid Unicode", () => {
  it("a body that is not UTF-8 is a 400", async () => {
    const answer = await echo(Buffer.concat([Buffer.from('{"id":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]));
    expect(answer.status).toBe(400);
    expect(answer.json.message).toBe("request body is not valid UTF-8");
  });

  it("an unpaired surrogate escape is a 400; U+FFFD sent as UTF-8 is a character like any other", async () => {
    const lone = await echo('{"id":"s1","tags":["\\ud800"]}');
    expect(lone.status).toBe(400);
    expect(lone.json.message).toContain("unpaired UTF-16 surrogate");
    const replacement = await echo(JSON.stringify({ id: "s2", tags: ["\uFFFD", "😀"] }));
    expect(replacement.status).toBe(200);
    expect(replacement.json.request.tags).toEqual(["\uFFFD", "😀"]);
  });
});

describe("numbers in exponent notation", () => {
  it("an integer field takes 1e2, 1.5e1, 100.0 and their quoted forms when the value is whole", async () => {
    const answer = await echo('{"id":"e1","big":1e2,"unsignedBig":"1.5e1","numbers":[2E0,"3.0"],"nested":{"count":100.0}}');
    expect(answer.status).toBe(200);
    expect(answer.json.request).toMatchObject({ big: "100", unsignedBig: "15", numbers: [2, 3], nested: { count: "100" } });
    const query = await send("GET", "/v1/echo/e2?big=1e3", undefined, null);
    expect(query.json.request.big).toBe("1000");
  });

  it("a fraction or an out-of-range exponent is a 400 naming the field", async () => {
    const fraction = await echo('{"id":"e3","big":1.5e0}');
    expect(fraction.status).toBe(400);
    expect(fraction.json.message).toBe("big must be a whole number; 1.5e0 is not");
    const huge = await echo('{"id":"e4","big":"1e400"}');
    expect(huge.status).toBe(400);
    expect(huge.json.message).toBe("big: 1e400 is out of range for int64 (-9223372036854775808 to 9223372036854775807)");
    const aboveMax = await echo('{"id":"e5","big":1e19}');
    expect(aboveMax.status).toBe(400);
    expect(aboveMax.json.message).toBe("big: 1e19 is out of range for int64 (-9223372036854775808 to 9223372036854775807)");
  });

  it("an integer field refuses text that is no decimal number, such as hex, naming the field", async () => {
    const hex = await echo('{"id":"e7","unsignedBig":"0x10"}');
    expect(hex.status).toBe(400);
    expect(hex.json.message).toBe('unsigned_big must be a whole decimal number (uint64), not "0x10"');
    expect(hex.json.details).toContainEqual(
      expect.objectContaining({ fieldViolations: [expect.objectContaining({ field: "unsigned_big" })] }),
    );
  });

  it("a decimal string field keeps a JSON number's exact text", async () => {
    expect((await echo('{"id":"e6","amount":1e2}')).json.request.amount).toBe("1e2");
  });
});

describe("enum names", () => {
  it("takes the value's full name or its number; anything else is a 400 naming the enum", async () => {
    expect((await echo('{"id":"n1","kind":"KIND_FANCY"}')).json.request.kind).toBe("KIND_FANCY");
    expect((await echo('{"id":"n2","kind":2}')).json.request.kind).toBe("KIND_FANCY");
    const lower = await echo('{"id":"n3","kind":"kind_fancy"}');
    expect(lower.status).toBe(400);
    expect(lower.json.message).toContain("qenex.conformance.v1.Kind");
  });
});

describe("limits", () => {
  it("a streamed body (no Content-Length) over the limit is a 413 over HTTP/1.1, not a reset connection", async () => {
    // Found by the fuzz test: the edge stopped reading by destroying the request, which closed
    // the socket under a client still sending, so it saw ECONNRESET instead of the answer.
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${edge.url}/v1/echo:post`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      });
      req.on("response", (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      });
      req.on("error", reject);
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      for (let sent = 0; sent <= messageBytesMax + chunk.length; sent += chunk.length) req.write(chunk);
      req.end();
    });
    expect(status).toBe(413);
  });

  it("a body over the message limit is 413", async () => {
    const answer = await echo(JSON.stringify({ id: "l1", tags: ["x".repeat(messageBytesMax)] }));
    expect(answer.status).toBe(413);
    expect(answer.json.code).toBe(Code.ResourceExhausted);
  });

  it(`JSON nested deeper than ${jsonDepthMax} levels is a 400, not a stack overflow`, async () => {
    const deep = `{"id":"l2","labels":${"[".repeat(100_000)}${"]".repeat(100_000)}}`;
    const answer = await echo(deep);
    expect(answer.status).toBe(400);
    expect(answer.json.message).toBe(`request body: JSON nests deeper than ${jsonDepthMax} levels of objects and arrays`);
    const justDeepEnough = `{"id":"l3","labels":{"a":${"[".repeat(jsonDepthMax - 2)}${"]".repeat(jsonDepthMax - 2)}}}`;
    expect((await echo(justDeepEnough)).json.message).not.toContain("nests deeper");
  });
});
