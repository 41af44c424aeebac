// google.api.HttpRule path templates
// (https://github.com/googleapis/googleapis/blob/master/google/api/http.proto):
//
//   Template = "/" Segments [ Verb ] ;
//   Segments = Segment { "/" Segment } ;
//   Segment  = "*" | "**" | LITERAL | Variable ;
//   Variable = "{" FieldPath [ "=" Segments ] "}" ;
//   FieldPath = IDENT { "." IDENT } ;
//   Verb     = ":" LITERAL ;
//
// A template compiles to a list of segment patterns; a variable captures one segment
// (`{id}`, `{id=*}`) or several (`{name=shelves/*/books/*}`, `{path=**}`).

export type SegmentPattern = { kind: "literal"; text: string } | { kind: "one" } | { kind: "rest" };

export type TemplateVariable = {
  /** Field path in the request message, proto names: ["parent", "id"]. */
  fieldPath: string[];
  /** Index of the variable's first segment pattern. */
  start: number;
  /** Number of segment patterns it spans (a `**` spans any number of request segments). */
  length: number;
};

export type PathTemplate = {
  text: string;
  segments: SegmentPattern[];
  variables: TemplateVariable[];
  verb: string | undefined;
};

export class TemplateError extends Error {
  override name = "TemplateError";
}

const identPattern = /^[A-Za-z_][A-Za-z0-9_]*$/;
// Literals may hold anything but the template's own punctuation.
const literalPattern = /^[^/{}=*:]+$/;

export function parseTemplate(text: string): PathTemplate {
  if (!text.startsWith("/")) throw new TemplateError(`path template "${text}" must start with "/"`);
  let body = text.slice(1);
  let verb: string | undefined;
  // The verb is the part after the last ":" outside braces.
  const lastBrace = body.lastIndexOf("}");
  const colon = body.indexOf(":", lastBrace + 1);
  if (colon >= 0) {
    verb = body.slice(colon + 1);
    body = body.slice(0, colon);
    if (!literalPattern.test(verb)) throw new TemplateError(`path template "${text}" has an invalid verb`);
  }
  const segments: SegmentPattern[] = [];
  const variables: TemplateVariable[] = [];
  for (const part of splitOutsideBraces(body, text)) {
    if (part.startsWith("{")) {
      if (!part.endsWith("}")) throw new TemplateError(`path template "${text}": unclosed variable`);
      const inner = part.slice(1, -1);
      const eq = inner.indexOf("=");
      const fieldPath = (eq < 0 ? inner : inner.slice(0, eq)).split(".");
      if (!fieldPath.every((name) => identPattern.test(name))) {
        throw new TemplateError(`path template "${text}": invalid field path "${inner}"`);
      }
      const sub = eq < 0 ? [{ kind: "one" } as const] : parseSegments(inner.slice(eq + 1), text);
      if (sub.some((s) => s.kind === "literal" && s.text.includes("{")))
        throw new TemplateError(`path template "${text}": nested variable`);
      variables.push({ fieldPath, start: segments.length, length: sub.length });
      segments.push(...sub);
    } else {
      segments.push(...parseSegments(part, text));
    }
  }
  if (segments.filter((s) => s.kind === "rest").length > 1 || segments.slice(0, -1).some((s) => s.kind === "rest")) {
    throw new TemplateError(`path template "${text}": "**" may only be the last segment`);
  }
  return { text, segments, variables, verb };
}

function splitOutsideBraces(body: string, text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const char of body) {
    if (char === "{") depth++;
    if (char === "}") depth--;
    if (depth < 0 || depth > 1) throw new TemplateError(`path template "${text}": unbalanced braces`);
    if (char === "/" && depth === 0) {
      parts.push(current);
      current = "";
    } else {
      current += char;
    }
  }
  if (depth !== 0) throw new TemplateError(`path template "${text}": unbalanced braces`);
  parts.push(current);
  return parts;
}

function parseSegments(text: string, template: string): SegmentPattern[] {
  return text.split("/").map((segment) => {
    if (segment === "*") return { kind: "one" };
    if (segment === "**") return { kind: "rest" };
    if (!literalPattern.test(segment)) throw new TemplateError(`path template "${template}": invalid segment "${segment}"`);
    return { kind: "literal", text: segment };
  });
}

export type TemplateMatch = { bindings: { fieldPath: string[]; value: string }[] };

/**
 * Matches a request path (still percent-encoded, without the query) against a template.
 * Literals compare after decoding. A one-segment variable is fully decoded; a multi-segment
 * one keeps "%2F" as is, as the HttpRule spec asks, so its segments stay apart.
 */
export function matchTemplate(template: PathTemplate, rawPath: string): TemplateMatch | undefined {
  if (!rawPath.startsWith("/")) return undefined;
  let body = rawPath.slice(1);
  if (template.verb !== undefined) {
    const suffix = `:${template.verb}`;
    if (!body.endsWith(suffix)) return undefined;
    body = body.slice(0, -suffix.length);
  }
  const parts = body.split("/");
  const spans = alignSegments(template.segments, parts);
  if (!spans) return undefined;
  const bindings: TemplateMatch["bindings"] = [];
  for (const variable of template.variables) {
    const first = spans[variable.start];
    const last = spans[variable.start + variable.length - 1];
    if (first === undefined || last === undefined) return undefined;
    const raw = parts.slice(first[0], last[1]);
    const single = variable.length === 1 && template.segments[variable.start]?.kind === "one";
    const value = single ? decode(raw.join("/"), false) : raw.map((p) => decode(p, true)).join("/");
    if (value === undefined) return undefined;
    bindings.push({ fieldPath: variable.fieldPath, value });
  }
  return { bindings };
}

/** For each segment pattern, the [from, to) range of request segments it covers. */
function alignSegments(patterns: readonly SegmentPattern[], parts: readonly string[]): [number, number][] | undefined {
  const spans: [number, number][] = [];
  let at = 0;
  for (const [i, pattern] of patterns.entries()) {
    if (pattern.kind === "rest") {
      const rest = patterns.length - 1 - i;
      const to = parts.length - rest;
      if (to < at) return undefined;
      spans.push([at, to]);
      at = to;
      continue;
    }
    const part = parts[at];
    if (part === undefined || part === "") return undefined;
    if (pattern.kind === "literal" && decode(part, false) !== pattern.text) return undefined;
    spans.push([at, at + 1]);
    at++;
  }
  return at === parts.length ? spans : undefined;
}

function decode(text: string, keepSlash: boolean): string | undefined {
  try {
    if (!keepSlash) return decodeURIComponent(text);
    return text
      .split(/(%2[fF])/)
      .map((piece) => (/^%2[fF]$/.test(piece) ? piece : decodeURIComponent(piece)))
      .join("");
  } catch {
    return undefined;
  }
}
