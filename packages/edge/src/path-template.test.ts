import { describe, expect, it } from "vitest";
import { matchTemplate, parseTemplate, TemplateError } from "./path-template.js";

const match = (template: string, path: string) =>
  matchTemplate(parseTemplate(template), path)?.bindings.map((b) => [b.fieldPath.join("."), b.value]);

describe("path templates", () => {
  it("binds a one-segment variable, fully decoded", () => {
    expect(match("/v1/things/{id}", "/v1/things/abc")).toEqual([["id", "abc"]]);
    expect(match("/v1/things/{id}", "/v1/things/a%2Fb%20c")).toEqual([["id", "a/b c"]]);
    expect(match("/v1/things/{id=*}", "/v1/things/x")).toEqual([["id", "x"]]);
  });

  it("does not match a different number of segments or other literals", () => {
    expect(match("/v1/things/{id}", "/v1/things/a/b")).toBeUndefined();
    expect(match("/v1/things/{id}", "/v1/things/")).toBeUndefined();
    expect(match("/v1/things/{id}", "/v1/other/a")).toBeUndefined();
  });

  it("binds multi-segment variables and keeps %2F inside them", () => {
    expect(match("/v1/{name=shelves/*/books/*}", "/v1/shelves/s1/books/b%2F2")).toEqual([["name", "shelves/s1/books/b%2F2"]]);
    expect(match("/v1/{name=shelves/*/books/*}", "/v1/shelves/s1/notes/b2")).toBeUndefined();
    expect(match("/v1/files/{path=**}", "/v1/files/a/b%20c/d.txt")).toEqual([["path", "a/b c/d.txt"]]);
  });

  it("binds nested field paths", () => {
    expect(match("/v1/{book.name=shelves/*}", "/v1/shelves/s1")).toEqual([["book.name", "shelves/s1"]]);
  });

  it("requires the verb and strips it before matching", () => {
    expect(match("/v1/things/{id}:cancel", "/v1/things/a:b:cancel")).toEqual([["id", "a:b"]]);
    expect(match("/v1/things/{id}:cancel", "/v1/things/a")).toBeUndefined();
    expect(match("/v1/things:search", "/v1/things:search")).toEqual([]);
  });

  it("rejects malformed templates", () => {
    expect(() => parseTemplate("v1/x")).toThrow(TemplateError);
    expect(() => parseTemplate("/v1/{id")).toThrow(TemplateError);
    expect(() => parseTemplate("/v1/{a-b}")).toThrow(TemplateError);
    expect(() => parseTemplate("/v1/**/x")).toThrow(TemplateError);
  });

  it("rejects invalid percent-encoding as no match", () => {
    expect(match("/v1/things/{id}", "/v1/things/%E0%A4%A")).toBeUndefined();
  });
});
