// The human-readable API reference the edge serves at GET /docs: one self-contained HTML
// page rendered from the OpenAPI document, with no scripts and no outside resources, so it
// works offline and under a strict Content-Security-Policy.
import { createHash } from "node:crypto";
import {
  httpVerbs,
  type MediaTypeObject,
  type OpenApiDocument,
  type OperationObject,
  type ParameterObject,
  type SchemaObject,
} from "./openapi.js";
import { componentsPrefix } from "./openapi-schema.js";

const css = `
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1b1f24;background:#fff}
header,main,nav{max-width:1100px;margin:0 auto;padding:0 24px}
header{padding-top:24px}
h1{margin:0 0 4px}h2{border-bottom:1px solid #d0d7de;padding-bottom:4px;margin-top:40px}
h3{margin:0 0 6px;font-size:17px}h4{margin:14px 0 4px;font-size:14px}
code{font:13px ui-monospace,monospace;background:#f3f4f6;padding:1px 4px;border-radius:4px}
article{border:1px solid #d0d7de;border-radius:6px;padding:12px 16px;margin:14px 0}
table{border-collapse:collapse;width:100%;font-size:14px}
th,td{border-top:1px solid #e5e7eb;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa}
.verb{display:inline-block;min-width:58px;text-align:center;color:#fff;border-radius:4px;padding:1px 6px;font:bold 13px ui-monospace,monospace}
.verb-get{background:#1f6feb}.verb-post{background:#1a7f37}.verb-put,.verb-patch{background:#9a6700}.verb-delete{background:#cf222e}
.verb-head,.verb-options,.verb-trace{background:#6e7781}
.meta,.muted{color:#57606a;font-size:13px}.req{color:#cf222e;font-size:12px}
nav ul{columns:2;padding-left:18px}
`;

/** The Content-Security-Policy to serve the page with: nothing may load, only its own style block applies. */
export const referencePageContentSecurityPolicy = `default-src 'none'; style-src 'sha256-${createHash("sha256").update(css).digest("base64")}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

export function referencePage(document: OpenApiDocument): string {
  const operations = listOperations(document);
  const tags = [...new Set(operations.map((o) => o.operation.tags[0] ?? "Other"))];
  const server = document.servers?.[0]?.url;
  return [
    "<!doctype html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(document.info.title)} API reference</title>`,
    `<style>${css}</style>`,
    "</head>",
    "<body>",
    "<header>",
    `<h1>${esc(document.info.title)}</h1>`,
    `<p class="meta">Version ${esc(document.info.version)}${server ? ` · Server <code>${esc(server)}</code>` : ""} · OpenAPI ${esc(document.openapi)}: <a href="openapi.json">openapi.json</a></p>`,
    `<p>${text(document.info.description)}</p>`,
    '<p>Every operation needs <code>Authorization: Bearer &lt;token&gt;</code> unless it says otherwise. Errors are google.rpc.Status JSON (see <a href="#schema-Status">Status</a>).</p>',
    "</header>",
    "<nav>",
    ...tags.map((tag) => tableOfContents(tag, operations)),
    '<p><a href="#schemas">Schemas</a></p>',
    "</nav>",
    "<main>",
    ...tags.map((tag) => tagSection(tag, operations)),
    unlistedSection(document),
    '<h2 id="schemas">Schemas</h2>',
    ...Object.entries(document.components.schemas).map(([name, schema]) => schemaArticle(name, schema)),
    "</main>",
    "</body>",
    "</html>",
    "",
  ].join("\n");
}

type ListedOperation = { verb: string; path: string; operation: OperationObject };

function listOperations(document: OpenApiDocument): ListedOperation[] {
  const listed: ListedOperation[] = [];
  for (const [path, item] of Object.entries(document.paths)) {
    for (const verb of httpVerbs) {
      const operation = item[verb];
      if (operation) listed.push({ verb, path, operation });
    }
  }
  return listed;
}

function tableOfContents(tag: string, operations: readonly ListedOperation[]): string {
  const items = operations
    .filter((o) => (o.operation.tags[0] ?? "Other") === tag)
    .map((o) => `<li><a href="#${anchor("op", o.operation.operationId)}">${esc(o.verb.toUpperCase())} ${esc(o.path)}</a></li>`);
  return `<h4>${esc(tag)}</h4>\n<ul>\n${items.join("\n")}\n</ul>`;
}

function tagSection(tag: string, operations: readonly ListedOperation[]): string {
  const articles = operations.filter((o) => (o.operation.tags[0] ?? "Other") === tag).map(operationArticle);
  return [`<h2 id="${anchor("tag", tag)}">${esc(tag)}</h2>`, ...articles].join("\n");
}

function operationArticle({ verb, path, operation }: ListedOperation): string {
  const auth = operation.security?.length === 0 ? "no token needed" : "bearer token";
  const parts = [
    `<article id="${anchor("op", operation.operationId)}">`,
    `<h3><span class="verb verb-${esc(verb)}">${esc(verb.toUpperCase())}</span> <code>${esc(path)}</code>${operation.deprecated ? ' <span class="req">deprecated</span>' : ""}</h3>`,
    `<p><strong>${esc(operation.summary)}</strong> — ${text(operation.description)}</p>`,
    `<p class="meta">operationId <code>${esc(operation.operationId)}</code> · RPC <code>${esc(operation["x-rpc"])}</code> · ${auth}</p>`,
  ];
  if (operation.parameters.length > 0) parts.push("<h4>Parameters</h4>", parametersTable(operation.parameters));
  if (operation.requestBody) {
    const required = operation.requestBody.required ? "" : ' <span class="muted">(optional)</span>';
    parts.push(`<h4>Request body${required}</h4>`, contentBlock(operation.requestBody.content));
  }
  parts.push("<h4>Responses</h4>");
  for (const [status, response] of Object.entries(operation.responses)) {
    parts.push(`<p><code>${esc(status)}</code> ${text(response.description)}</p>`);
    if (response.content) parts.push(contentBlock(response.content));
  }
  parts.push("</article>");
  return parts.join("\n");
}

function parametersTable(parameters: readonly ParameterObject[]): string {
  const rows = parameters.map(
    (p) =>
      `<tr><td><code>${esc(p.name)}</code>${p.required ? ' <span class="req">required</span>' : ""}</td><td>${esc(p.in)}</td><td>${typeHtml(p.schema)}${p.explode ? " (repeat the parameter)" : ""}</td><td>${constraintsHtml(p.schema)}</td><td>${text([p.description, p.schema.description].filter(Boolean).join(" "))}</td></tr>`,
  );
  return `<table>\n<tr><th>Name</th><th>In</th><th>Type</th><th>Limits</th><th>Notes</th></tr>\n${rows.join("\n")}\n</table>`;
}

/** One or more media types sharing a schema are shown once. */
function contentBlock(content: Record<string, MediaTypeObject>): string {
  const types = Object.keys(content);
  const first = Object.values(content)[0];
  if (!first) return "";
  const media = `<p class="meta">${types.map((t) => `<code>${esc(t)}</code>`).join(" or ")}</p>`;
  return `${media}\n${schemaBlock(first.schema)}`;
}

/** A $ref is a link; an inline object is a table of its properties; anything else a type. */
function schemaBlock(schema: SchemaObject): string {
  if (schema.properties) return propertiesTable(schema);
  const limits = constraintsHtml(schema);
  return `<p>${typeHtml(schema)}${limits ? ` · ${limits}` : ""}${schema.description ? ` · ${text(schema.description)}` : ""}</p>`;
}

function propertiesTable(schema: SchemaObject): string {
  const required = new Set(schema.required ?? []);
  const entries = Object.entries(schema.properties ?? {});
  const head = schema.description ? `<p>${text(schema.description)}</p>\n` : "";
  if (entries.length === 0) return `${head}<p class="muted">An object with no fields: send <code>{}</code>.</p>`;
  const rows = entries.map(
    ([name, property]) =>
      `<tr><td><code>${esc(name)}</code>${required.has(name) ? ' <span class="req">required</span>' : ""}</td><td>${typeHtml(property)}</td><td>${constraintsHtml(property)}</td><td>${text(property.description ?? "")}</td></tr>`,
  );
  return `${head}<table>\n<tr><th>Field</th><th>Type</th><th>Limits</th><th>Notes</th></tr>\n${rows.join("\n")}\n</table>`;
}

function typeHtml(schema: SchemaObject): string {
  if (schema.$ref !== undefined) {
    const name = schema.$ref.startsWith(componentsPrefix) ? schema.$ref.slice(componentsPrefix.length) : schema.$ref;
    return `<a href="#${anchor("schema", name)}">${esc(name)}</a>`;
  }
  if (schema.type === "array") return `array of ${schema.items ? typeHtml(schema.items) : "any"}`;
  if (schema.type === "object" && typeof schema.additionalProperties === "object") {
    const key = schema.propertyNames?.pattern === undefined ? "string" : `string <code>${esc(schema.propertyNames.pattern)}</code>`;
    return `map from ${key} to ${typeHtml(schema.additionalProperties)}`;
  }
  if (schema.type === undefined) return "any JSON value";
  return esc(schema.format === undefined ? schema.type : `${schema.type} (${schema.format})`);
}

function constraintsHtml(schema: SchemaObject): string {
  const limits: string[] = [];
  const add = (label: string, value: unknown) => {
    if (value !== undefined) limits.push(`${esc(label)} <code>${esc(String(value))}</code>`);
  };
  add("pattern", schema.pattern);
  add("min length", schema.minLength);
  add("max length", schema.maxLength);
  add("≥", schema.minimum);
  add(">", schema.exclusiveMinimum);
  add("≤", schema.maximum);
  add("<", schema.exclusiveMaximum);
  add("min items", schema.minItems);
  add("max items", schema.maxItems);
  add("min entries", schema.minProperties);
  add("max entries", schema.maxProperties);
  add("exactly", schema.const);
  if (schema.uniqueItems) limits.push("unique items");
  if (schema.contentEncoding) add("encoding", schema.contentEncoding);
  if (schema.enum) limits.push(`one of ${schema.enum.map((v) => `<code>${esc(String(v))}</code>`).join(", ")}`);
  if (schema.items && schema.items.$ref === undefined) {
    const inner = constraintsHtml(schema.items);
    if (inner) limits.push(`each: ${inner}`);
  }
  return limits.join("; ");
}

function schemaArticle(name: string, schema: SchemaObject): string {
  const body = schema.enum && schema.type === "string" && schema.properties === undefined ? enumList(schema) : schemaBlock(schema);
  return `<article id="${anchor("schema", name)}">\n<h3>${esc(name)}</h3>\n${body}\n</article>`;
}

function enumList(schema: SchemaObject): string {
  const values = (schema.enum ?? []).map((v) => `<code>${esc(String(v))}</code>`);
  return `<p>string, one of: ${values.join(", ")}</p>`;
}

function unlistedSection(document: OpenApiDocument): string {
  const unlisted = document["x-unlisted-bindings"] ?? [];
  if (unlisted.length === 0) return "";
  const items = unlisted.map(
    (u) => `<li><code>${esc(u.httpMethod)} ${esc(u.path)}</code> → <code>${esc(u.rpc)}</code>: ${esc(u.reason)}</li>`,
  );
  return `<h2 id="unlisted">Bindings not described above</h2>\n<ul>\n${items.join("\n")}\n</ul>`;
}

/** Escaped text where `backticked` spans become code. */
function text(value: string): string {
  return esc(value).replace(/`([^`]+)`/g, "<code>$1</code>");
}

function anchor(prefix: string, name: string): string {
  return `${prefix}-${name.replace(/[^A-Za-z0-9._-]/g, "-")}`;
}

const escapes: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

function esc(value: string): string {
  return value.replace(/[&<>"']/g, (c) => escapes[c] ?? c);
}
