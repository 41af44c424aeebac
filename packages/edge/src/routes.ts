// The edge's REST routes, read from the google.api.http rules of the services it fronts:
// one route per rule and per additional binding. Nothing here is written by hand per RPC.
import { type DescField, type DescMessage, type DescMethod, type DescService, getOption, hasOption } from "@bufbuild/protobuf";
import { http } from "@qenex/gen/google/api/annotations_pb.js";
import type { HttpRule } from "@qenex/gen/google/api/http_pb.js";
import { matchTemplate, type PathTemplate, parseTemplate, TemplateError } from "./path-template.js";

export type Route = {
  /** GET, POST, PUT, PATCH, DELETE, or a custom rule's kind. */
  httpMethod: string;
  template: PathTemplate;
  /** "" (no body), "*" (the whole request) or a top-level request field's proto name. */
  body: string;
  /** "" (the whole response) or a top-level response field's proto name. */
  responseBody: string;
  service: DescService;
  method: DescMethod;
};

/** The rules of every method, checked against the messages they name. */
export function routesOf(services: readonly DescService[]): Route[] {
  const routes: Route[] = [];
  const seen = new Set<string>();
  for (const service of services) {
    for (const method of service.methods) {
      if (!hasOption(method, http)) continue;
      const rule = getOption(method, http);
      for (const binding of [rule, ...rule.additionalBindings]) {
        const route = toRoute(service, method, binding);
        const key = `${route.httpMethod} ${route.template.text}`;
        if (seen.has(key)) throw new TemplateError(`${key} is bound twice (second: ${method.parent.typeName}.${method.name})`);
        seen.add(key);
        routes.push(route);
      }
    }
  }
  // Most specific first: a custom verb, then more literal segments, then fewer wildcards.
  return routes.sort((a, b) => specificity(b.template) - specificity(a.template));
}

function specificity(template: PathTemplate): number {
  const literals = template.segments.filter((s) => s.kind === "literal").length;
  const rest = template.segments.some((s) => s.kind === "rest") ? 1 : 0;
  return (template.verb === undefined ? 0 : 10_000) + literals * 100 + template.segments.length - rest * 50;
}

function toRoute(service: DescService, method: DescMethod, rule: HttpRule): Route {
  const where = `${service.typeName}.${method.name}`;
  const [httpMethod, path] = ruleTarget(rule);
  if (!path) throw new TemplateError(`${where}: the HttpRule names no path`);
  const template = parseTemplate(path);
  for (const variable of template.variables) {
    const field = fieldAt(method.input, variable.fieldPath);
    if (field?.fieldKind !== "scalar") {
      throw new TemplateError(
        `${where}: path variable {${variable.fieldPath.join(".")}} is not a singular scalar field of ${method.input.typeName}`,
      );
    }
  }
  if (rule.body !== "" && rule.body !== "*" && !method.input.fields.some((f) => f.name === rule.body)) {
    throw new TemplateError(`${where}: body "${rule.body}" is not a field of ${method.input.typeName}`);
  }
  if (rule.responseBody !== "" && !method.output.fields.some((f) => f.name === rule.responseBody)) {
    throw new TemplateError(`${where}: response_body "${rule.responseBody}" is not a field of ${method.output.typeName}`);
  }
  if (method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming") {
    throw new TemplateError(`${where}: client-streaming methods cannot be served over REST`);
  }
  return { httpMethod, template, body: rule.body, responseBody: rule.responseBody, service, method };
}

function ruleTarget(rule: HttpRule): [string, string] {
  switch (rule.pattern.case) {
    case "get":
    case "put":
    case "post":
    case "delete":
    case "patch":
      return [rule.pattern.case.toUpperCase(), rule.pattern.value];
    case "custom":
      return [rule.pattern.value.kind.toUpperCase(), rule.pattern.value.path];
    default:
      return ["", ""];
  }
}

/** The field at a path of proto names, descending through singular message fields. */
export function fieldAt(message: DescMessage, path: readonly string[]): DescField | undefined {
  let current: DescMessage | undefined = message;
  let field: DescField | undefined;
  for (const name of path) {
    if (!current) return undefined;
    field = current.fields.find((f) => f.name === name || f.jsonName === name);
    if (!field) return undefined;
    current = field.fieldKind === "message" ? field.message : undefined;
  }
  return field;
}

export type RouteMatch = { route: Route; bindings: { fieldPath: string[]; value: string }[] };

/**
 * The route for a request, or why there is none: "no route" (404) or "wrong method" (405,
 * with the methods the path does accept).
 */
export function findRoute(
  routes: readonly Route[],
  httpMethod: string,
  rawPath: string,
): { match: RouteMatch } | { allowed: string[] } | undefined {
  const allowed = new Set<string>();
  for (const route of routes) {
    const matched = matchTemplate(route.template, rawPath);
    if (!matched) continue;
    if (route.httpMethod === httpMethod) return { match: { route, bindings: matched.bindings } };
    allowed.add(route.httpMethod);
  }
  return allowed.size > 0 ? { allowed: [...allowed] } : undefined;
}
