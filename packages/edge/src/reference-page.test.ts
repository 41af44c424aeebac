import { createHash } from "node:crypto";
import { LedgerService } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { describe, expect, it } from "vitest";
import { httpVerbs, openApiDocument } from "./openapi.js";
import { referencePage, referencePageContentSecurityPolicy } from "./reference-page.js";

const document = openApiDocument(
  [LedgerService],
  { title: "QENEX", version: "1.0.0" },
  {
    publicOperations: new Set(["/qenex.ledger.v1.LedgerService/GetTrialBalance"]),
  },
);

const voidElements = new Set(["meta", "br", "hr", "img", "input", "link"]);

/** Open and close tags pair up, innermost first: the page parses as its author meant. */
function unbalancedTags(html: string): string[] {
  const stack: string[] = [];
  const problems: string[] = [];
  for (const match of html.matchAll(/<(\/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*>/g)) {
    const [, closing, rawName] = match;
    const name = (rawName ?? "").toLowerCase();
    if (voidElements.has(name)) continue;
    if (!closing) {
      stack.push(name);
    } else if (stack.pop() !== name) {
      problems.push(`</${name}> at ${match.index}`);
    }
  }
  return [...problems, ...stack.map((name) => `<${name}> never closed`)];
}

describe("referencePage", () => {
  const page = referencePage(document);

  it("is one well-formed HTML page", () => {
    expect(page.startsWith('<!doctype html>\n<html lang="en">')).toBe(true);
    expect(page.trimEnd().endsWith("</html>")).toBe(true);
    expect(page).toContain("<title>QENEX API reference</title>");
    expect(unbalancedTags(page)).toEqual([]);
  });

  it("lists every operation with its method, path, RPC and the schemas it links to", () => {
    for (const [path, item] of Object.entries(document.paths)) {
      for (const verb of httpVerbs) {
        const operation = item[verb];
        if (!operation) continue;
        expect(page).toContain(`<span class="verb verb-${verb}">${verb.toUpperCase()}</span> <code>${path}</code>`);
        expect(page).toContain(`id="op-${operation.operationId}"`);
        expect(page).toContain(`<code>${operation["x-rpc"]}</code>`);
      }
    }
    expect(page).toContain('<a href="#schema-qenex.ledger.v1.CreateTransferRequest">qenex.ledger.v1.CreateTransferRequest</a>');
    expect(page).toContain("<code>page.pageSize</code>");
    // Every in-page link lands on an element of the page.
    const ids = new Set([...page.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]));
    const targets = [...page.matchAll(/href="#([^"]+)"/g)].map((m) => m[1]);
    expect(targets.length).toBeGreaterThan(50);
    expect(targets.filter((t) => !ids.has(t))).toEqual([]);
  });

  it("says which operations need no token", () => {
    const trialBalance = page.slice(page.indexOf('id="op-LedgerService_GetTrialBalance"'));
    expect(trialBalance.slice(0, trialBalance.indexOf("</article>"))).toContain("no token needed");
    const createTransfer = page.slice(page.indexOf('id="op-LedgerService_CreateTransfer"'));
    expect(createTransfer.slice(0, createTransfer.indexOf("</article>"))).toContain("bearer token");
  });

  it("escapes every piece of text it takes from the document", () => {
    const hostile = structuredClone(document);
    hostile.info.title = '<script>alert("title")</script>';
    hostile.info.description = "a < b & `c<d>`";
    const getAccount = hostile.paths["/api/v1/accounts/{account_id}"]?.get;
    if (!getAccount) throw new Error("GetAccount is missing");
    getAccount.summary = "<img src=x onerror=alert(1)>";
    const html = referencePage(hostile);
    expect(html).not.toContain("<script>");
    expect(html).not.toContain("<img");
    expect(html).toContain("&lt;script&gt;alert(&quot;title&quot;)&lt;/script&gt;");
    expect(html).toContain("a &lt; b &amp; <code>c&lt;d&gt;</code>");
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(unbalancedTags(html)).toEqual([]);
  });

  it("loads nothing from elsewhere and matches its Content-Security-Policy", () => {
    expect(page).not.toMatch(/<script|<link|<img|src=|url\(/i);
    const style = page.slice(page.indexOf("<style>") + "<style>".length, page.indexOf("</style>"));
    const hash = createHash("sha256").update(style).digest("base64");
    expect(referencePageContentSecurityPolicy).toContain(`style-src 'sha256-${hash}'`);
    expect(referencePageContentSecurityPolicy).toContain("default-src 'none'");
  });
});
