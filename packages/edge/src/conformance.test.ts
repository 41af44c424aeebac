// HttpRule conformance: every transcoding feature, through the real edge, against the real
// conformance service (which echoes the message the edge built).
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestEdge, type TestEdge } from "./testing/harness.js";

let edge: TestEdge;
let auth: Record<string, string>;

beforeAll(async () => {
  edge = await startTestEdge();
  auth = { authorization: `Bearer ${await edge.token()}` };
});
afterAll(async () => {
  await edge?.stop();
});

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${edge.url}${path}`, {
    method,
    headers: { ...auth, ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  const isJson = response.headers.get("content-type") === "application/json";
  return { status: response.status, headers: response.headers, text, json: isJson ? JSON.parse(text) : undefined };
}

describe("path variables and query parameters", () => {
  it("fills every kind of field from the query string", async () => {
    const query = [
      "tags=a",
      "tags=b",
      "numbers=1",
      "numbers=2",
      "nested.name=x",
      "nested.count=9007199254740993",
      "nested.kind=KIND_FANCY",
      "kind=KIND_PLAIN",
      "flag=true",
      "big=-5",
      "at=2026-01-02T03:04:05Z",
      "amount=1.50",
      "ratio=0.25",
      "kinds=KIND_PLAIN",
      "kinds=2",
      "unsigned_big=18446744073709551615",
    ].join("&");
    const { status, json } = await call("GET", `/v1/echo/abc?${query}`);
    expect(status).toBe(200);
    expect(json.request).toMatchObject({
      id: "abc",
      tags: ["a", "b"],
      numbers: [1, 2],
      nested: { name: "x", count: "9007199254740993", kind: "KIND_FANCY" },
      kind: "KIND_PLAIN",
      flag: true,
      big: "-5",
      at: "2026-01-02T03:04:05Z",
      amount: "1.50",
      ratio: 0.25,
      kinds: ["KIND_PLAIN", "KIND_FANCY"],
      unsignedBig: "18446744073709551615",
    });
  });

  it("accepts lowerCamel names in the query too", async () => {
    const { json } = await call("GET", "/v1/echo/abc?unsignedBig=7");
    expect(json.request.unsignedBig).toBe("7");
  });

  it("decodes URL-encoded slashes and spaces in a one-segment id", async () => {
    const { status, json } = await call("GET", "/v1/echo/a%2Fb%20c");
    expect(status).toBe(200);
    expect(json.request.id).toBe("a/b c");
  });

  it("serves additional bindings", async () => {
    const { json } = await call("GET", "/v1/echo/xyz/alias?flag=true");
    expect(json.request).toMatchObject({ id: "xyz", flag: true });
  });

  it("binds multi-segment variables, keeping %2F as the spec says", async () => {
    expect((await call("GET", "/v1/shelves/s1/books/b1")).json.book.name).toBe("shelves/s1/books/b1");
    expect((await call("GET", "/v1/shelves/s1/books/b%2F2")).json.book.name).toBe("shelves/s1/books/b%2F2");
    expect((await call("GET", "/v1/files/a/b%20c/d.txt")).json.path).toBe("a/b c/d.txt");
  });

  it("names unknown query parameters in a 400", async () => {
    const { status, json } = await call("GET", "/v1/echo/abc?flag=true&colour=red&size=2");
    expect(status).toBe(400);
    expect(json.code).toBe(Code.InvalidArgument);
    expect(json.message).toContain('"colour"');
    expect(json.message).toContain('"size"');
    expect(json.details).toContainEqual(expect.objectContaining({ "@type": "type.googleapis.com/google.rpc.BadRequest" }));
  });

  it("rejects bad values with the parameter's name", async () => {
    expect((await call("GET", "/v1/echo/abc?flag=yes")).json.message).toContain("flag");
    const badEnum = await call("GET", "/v1/echo/abc?kind=KIND_NOPE");
    expect(badEnum.status).toBe(400);
    const twice = await call("GET", "/v1/echo/abc?kind=KIND_PLAIN&kind=KIND_FANCY");
    expect(twice.status).toBe(400);
    expect(twice.json.message).toContain("kind");
    expect((await call("GET", "/v1/echo/abc?big=1.5")).status).toBe(400);
  });

  it("takes an enum value by its full name or without its type prefix, in the query and the body; answers with the full name", async () => {
    const query = await call("GET", "/v1/echo/abc?kind=PLAIN&nested.kind=FANCY&kinds=FANCY&kinds=KIND_PLAIN&kinds=2");
    expect(query.status).toBe(200);
    expect(query.json.request).toMatchObject({
      kind: "KIND_PLAIN",
      nested: { kind: "KIND_FANCY" },
      kinds: ["KIND_FANCY", "KIND_PLAIN", "KIND_FANCY"],
    });
    const body = await call("POST", "/v1/echo:post", {
      id: "e1",
      kind: "FANCY",
      nested: { kind: "PLAIN" },
      kinds: ["PLAIN", "KIND_FANCY"],
    });
    expect(body.status).toBe(200);
    expect(body.json.request).toMatchObject({ kind: "KIND_FANCY", nested: { kind: "KIND_PLAIN" }, kinds: ["KIND_PLAIN", "KIND_FANCY"] });
  });

  it("names the accepted values of an enum it cannot read", async () => {
    for (const bad of ["/v1/echo/abc?kind=NOPE", "/v1/echo/abc?kind=plain"]) {
      const { status, json } = await call("GET", bad);
      expect(status).toBe(400);
      expect(json.message).toMatch(
        /^kind: "(NOPE|plain)" is not a qenex\.conformance\.v1\.Kind value; use one of KIND_PLAIN, PLAIN, KIND_FANCY, FANCY$/,
      );
    }
  });

  it("does not take map fields from the query string", async () => {
    expect((await call("GET", "/v1/echo/abc?labels.a=b")).status).toBe(400);
  });
});

describe("bodies", () => {
  it('body "*": the JSON body is the request; original and lowerCamel names; JSON numbers kept exactly', async () => {
    const { status, json } = await call(
      "POST",
      "/v1/echo:post",
      '{"id":"p1","unsigned_big":5,"nested":{"count":"12","kind":"KIND_PLAIN"},"amount":100.10,"labels":{"a":"b"},"tags":["t"]}',
    );
    expect(status).toBe(200);
    expect(json.request).toMatchObject({
      id: "p1",
      unsignedBig: "5",
      nested: { count: "12", kind: "KIND_PLAIN" },
      amount: "100.10",
      labels: { a: "b" },
      tags: ["t"],
    });
  });

  it('body "*" takes no query parameters', async () => {
    const { status, json } = await call("POST", "/v1/echo:post?flag=true", { id: "p2" });
    expect(status).toBe(400);
    expect(json.message).toContain('"flag"');
  });

  it("names unknown body fields", async () => {
    const { status, json } = await call("POST", "/v1/echo:post", { id: "p3", colour: "red" });
    expect(status).toBe(400);
    expect(json.message).toContain('"colour"');
    expect(json.details[0].fieldViolations[0].field).toBe("colour");
  });

  it("rejects invalid JSON, non-object bodies and bodies on body-less routes", async () => {
    expect((await call("POST", "/v1/echo:post", "{not json")).status).toBe(400);
    expect((await call("POST", "/v1/echo:post", "[1,2]")).status).toBe(400);
    expect((await call("DELETE", "/v1/things/t1", { id: "t1" })).status).toBe(400);
  });

  it('body "field" with a nested path variable and the rest from the query', async () => {
    const { status, json } = await call("PATCH", "/v1/shelves/s1/books/b1?allow_missing=true", { title: "T", pages: 12 });
    expect(status).toBe(200);
    expect(json.book).toEqual({ name: "shelves/s1/books/b1", title: "T", pages: "12" });
    expect((await call("PATCH", "/v1/shelves/s1/books/b1?title=x", { title: "T" })).status).toBe(400);
  });

  it("refuses a path value contradicted by the body", async () => {
    const { status, json } = await call("PUT", "/v1/things/t1", { id: "t2", name: "n" });
    expect(status).toBe(400);
    expect(json.message).toContain("id");
    expect((await call("PUT", "/v1/things/t1", { id: "t1", name: "n" })).status).toBe(200);
  });

  it("PUT, DELETE, a custom verb and a custom method", async () => {
    expect((await call("PUT", "/v1/things/t1", { name: "n", size: 3 })).json.thing).toEqual({ id: "t1", name: "n", size: 3 });
    expect((await call("DELETE", "/v1/things/t9")).json.thing.id).toBe("t9");
    expect((await call("POST", "/v1/things/a:b:cancel", { reason: "r" })).json).toMatchObject({ thing: { id: "a:b" }, reason: "r" });
    const search = await call("SEARCH", "/v1/things", { query: "q", limit: 3 });
    expect(search.json.things.map((t: { id: string }) => t.id)).toEqual(["q-0", "q-1", "q-2"]);
  });

  it("response_body: only the named field is the HTTP body", async () => {
    const { status, json } = await call("GET", "/v1/things/t1/name");
    expect(status).toBe(200);
    expect(json).toBe("name of t1");
  });
});

describe("routing errors", () => {
  it("404 for no route, 405 with Allow for the wrong method", async () => {
    const missing = await call("GET", "/v1/nothing-here");
    expect(missing.status).toBe(404);
    expect(missing.json.code).toBe(Code.NotFound);
    const wrong = await call("DELETE", "/v1/echo/abc");
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("GET");
  });
});

describe("server streaming", () => {
  it("as newline-delimited JSON", async () => {
    const { status, headers, text } = await call("GET", "/v1/count/3");
    expect(status).toBe(200);
    expect(headers.get("content-type")).toBe("application/x-ndjson");
    expect(
      text
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line)),
    ).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
  });

  it("as Server-Sent Events", async () => {
    const { headers, text } = await call("GET", "/v1/count/2", undefined, { accept: "text/event-stream" });
    expect(headers.get("content-type")).toBe("text/event-stream");
    expect(text).toBe('data: {"n":1}\n\ndata: {"n":2}\n\n');
  });

  it("ends with the error when the stream fails midway", async () => {
    const ndjson = await call("GET", "/v1/count/5?fail_after=2");
    const lines = ndjson.text
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines.slice(0, 2)).toEqual([{ n: 1 }, { n: 2 }]);
    expect(lines[2].error).toMatchObject({ code: Code.DataLoss, message: "counting failed on purpose" });
    const sse = await call("GET", "/v1/count/5?fail_after=1", undefined, { accept: "text/event-stream" });
    expect(sse.text).toContain('event: error\ndata: {"code":15');
  });

  it("an error before the first message is a normal error response", async () => {
    const { status, json } = await call("GET", "/v1/count/3", undefined, { authorization: "" });
    expect(status).toBe(401);
    expect(json.code).toBe(Code.Unauthenticated);
  });
});

describe("error mapping", () => {
  // google.rpc.Code → HTTP, as googleapis' code.proto gives it.
  const table: [Code, number][] = [
    [Code.Canceled, 499],
    [Code.Unknown, 500],
    [Code.InvalidArgument, 400],
    [Code.DeadlineExceeded, 504],
    [Code.NotFound, 404],
    [Code.AlreadyExists, 409],
    [Code.PermissionDenied, 403],
    [Code.ResourceExhausted, 429],
    [Code.FailedPrecondition, 400],
    [Code.Aborted, 409],
    [Code.OutOfRange, 400],
    [Code.Unimplemented, 501],
    [Code.Internal, 500],
    [Code.Unavailable, 503],
    [Code.DataLoss, 500],
    [Code.Unauthenticated, 401],
  ];
  it.each(table)("code %i → HTTP %i, as google.rpc.Status JSON", async (code, httpStatus) => {
    const { status, json, headers } = await call("GET", `/v1/fail/${code}?message=boom`);
    expect(status).toBe(httpStatus);
    expect(headers.get("content-type")).toBe("application/json");
    expect(json).toEqual({ code, message: "boom", details: [] });
  });
});
