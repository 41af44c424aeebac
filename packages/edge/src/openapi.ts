// The OpenAPI 3.1 document the edge serves at GET /openapi.json, derived from the same
// routes the edge transcodes (routes.ts), so the document cannot promise a route the edge
// does not serve. https://spec.openapis.org/oas/v3.1.0
import type { DescMessage, DescMethod, DescService } from "@bufbuild/protobuf";
import {
  createSchemaCatalog,
  isScalarLikeWellKnown,
  rulesOf,
  type SchemaCatalog,
  type SchemaObject,
  statusSchemaName,
  wellKnownSchema,
} from "./openapi-schema.js";
import type { PathTemplate } from "./path-template.js";
import { fieldAt, type Route, routesOf } from "./routes.js";

export type { SchemaObject } from "./openapi-schema.js";

export type ParameterObject = {
  name: string;
  in: "path" | "query";
  required: boolean;
  description?: string;
  deprecated?: boolean;
  style?: "form";
  explode?: boolean;
  schema: SchemaObject;
};

export type MediaTypeObject = { schema: SchemaObject };

export type ResponseObject = { description: string; content?: Record<string, MediaTypeObject> };

export type SecurityRequirement = Record<string, string[]>;

export type OperationObject = {
  operationId: string;
  summary: string;
  description: string;
  tags: string[];
  deprecated?: boolean;
  parameters: ParameterObject[];
  requestBody?: { required: boolean; content: Record<string, MediaTypeObject> };
  responses: Record<string, ResponseObject>;
  /** Present (and empty) only on operations that need no token. */
  security?: SecurityRequirement[];
  /** The RPC the operation calls: "/qenex.ledger.v1.LedgerService/CreateAccount". */
  "x-rpc": string;
};

export const httpVerbs = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;
export type HttpVerb = (typeof httpVerbs)[number];

export type PathItemObject = Partial<Record<HttpVerb, OperationObject>>;

/** An HttpRule binding the document cannot describe, and why; the edge may still serve it. */
export type UnlistedBinding = { rpc: string; httpMethod: string; path: string; reason: string };

export type OpenApiDocument = {
  openapi: "3.1.0";
  info: { title: string; version: string; description: string };
  servers?: { url: string }[];
  security: SecurityRequirement[];
  tags: { name: string; description: string }[];
  paths: Record<string, PathItemObject>;
  components: {
    schemas: Record<string, SchemaObject>;
    securitySchemes: Record<string, { type: "http"; scheme: "bearer"; bearerFormat: string; description: string }>;
  };
  "x-unlisted-bindings"?: UnlistedBinding[];
};

export type OpenApiOptions = {
  /** RPCs that need no bearer token ("/pkg.Service/Method"): their operations get `security: []`. */
  publicOperations?: ReadonlySet<string>;
};

/** Query parameters come from walking nested request messages; this bounds the walk. */
export const queryDepthMax = 8;
export const queryParametersMax = 256;

export function openApiDocument(
  services: readonly DescService[],
  info: { title: string; version: string; serverUrl?: string },
  options: OpenApiOptions = {},
): OpenApiDocument {
  const catalog = createSchemaCatalog();
  const document: OpenApiDocument = {
    openapi: "3.1.0",
    info: {
      title: info.title,
      version: info.version,
      description: `REST/JSON bindings of ${services.map((s) => s.typeName).join(", ")}, generated from their google.api.http annotations. Bodies use the proto3 JSON mapping; 64-bit integers are strings; errors are google.rpc.Status.`,
    },
    security: [{ bearerAuth: [] }],
    tags: [],
    paths: {},
    components: {
      schemas: catalog.components,
      securitySchemes: {
        bearerAuth: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description: "A JWT or a service token, in `Authorization: Bearer <token>`.",
        },
      },
    },
  };
  if (info.serverUrl !== undefined) document.servers = [{ url: info.serverUrl }];
  const unlisted: UnlistedBinding[] = [];
  const operationIds = new Map<string, DescMethod>();
  // OpenAPI forbids two templated paths that differ only in parameter names.
  const pathByShape = new Map<string, string>();
  for (const route of inDeclarationOrder(routesOf(services), services)) {
    const place = placement(route, document, pathByShape);
    if ("reason" in place) {
      unlisted.push({ rpc: rpcName(route), httpMethod: route.httpMethod, path: route.template.text, reason: place.reason });
      continue;
    }
    const item = document.paths[place.path] ?? {};
    item[place.verb] = operation(route, catalog, uniqueOperationId(route, operationIds), options);
    document.paths[place.path] = item;
    addTag(document, route.service);
  }
  if (unlisted.length > 0) document["x-unlisted-bindings"] = unlisted;
  // Sorted by name, so a reader (and a diff) finds a schema where it expects it.
  const { [statusSchemaName]: status, ...rest } = catalog.components;
  document.components.schemas = {
    [statusSchemaName]: status ?? {},
    ...Object.fromEntries(Object.entries(rest).sort(([a], [b]) => (a < b ? -1 : 1))),
  };
  return document;
}

/** Where the route goes in `paths`, or why OpenAPI cannot hold it. */
function placement(
  route: Route,
  document: OpenApiDocument,
  pathByShape: Map<string, string>,
): { path: string; verb: HttpVerb } | { reason: string } {
  const verb = route.httpMethod.toLowerCase();
  if (!isHttpVerb(verb)) return { reason: `"${route.httpMethod}" is not an HTTP method OpenAPI can describe` };
  const path = openApiPath(route.template);
  if (path === undefined) return { reason: "the template has a wildcard segment outside a variable, which OpenAPI cannot name" };
  const shape = path.replace(/\{[^}]*\}/g, "{}");
  const samePath = pathByShape.get(shape);
  if (samePath !== undefined && samePath !== path) return { reason: `it differs from ${samePath} only in parameter names` };
  const taken = document.paths[path]?.[verb];
  if (taken) return { reason: `${route.httpMethod} ${path} already describes ${taken["x-rpc"]}` };
  pathByShape.set(shape, path);
  return { path, verb };
}

function rpcName(route: Route): string {
  return `/${route.service.typeName}/${route.method.name}`;
}

function isHttpVerb(verb: string): verb is HttpVerb {
  return (httpVerbs as readonly string[]).includes(verb);
}

/** routesOf orders routes for matching; the document follows the .proto's order instead. */
function inDeclarationOrder(routes: Route[], services: readonly DescService[]): Route[] {
  const rank = new Map<DescMethod, number>();
  for (const service of services) for (const method of service.methods) rank.set(method, rank.size);
  return routes.sort((a, b) => (rank.get(a.method) ?? 0) - (rank.get(b.method) ?? 0));
}

function uniqueOperationId(route: Route, taken: Map<string, DescMethod>): string {
  let base = `${route.service.name}_${route.method.name}`;
  // A same-named service of another package gets its package in the id.
  const owner = taken.get(base);
  if (owner !== undefined && owner !== route.method) base = `${route.service.typeName.replaceAll(".", "_")}_${route.method.name}`;
  // Additional bindings of one method get a numeric suffix.
  let id = base;
  for (let n = 2; taken.has(id); n++) id = `${base}_${n}`;
  taken.set(id, route.method);
  return id;
}

function addTag(document: OpenApiDocument, service: DescService): void {
  if (document.tags.some((t) => t.name === service.typeName)) return;
  document.tags.push({ name: service.typeName, description: `Methods of the RPC service ${service.typeName}.` });
}

/** "/v1/{name=shelves/*}:cancel" → "/v1/{name}:cancel"; undefined when a wildcard has no name. */
export function openApiPath(template: PathTemplate): string | undefined {
  const parts: string[] = [];
  for (let i = 0; i < template.segments.length; ) {
    const variable = template.variables.find((v) => v.start === i);
    if (variable) {
      parts.push(`{${variable.fieldPath.join(".")}}`);
      i += variable.length;
      continue;
    }
    const segment = template.segments[i];
    if (segment?.kind !== "literal") return undefined;
    parts.push(segment.text);
    i++;
  }
  return `/${parts.join("/")}${template.verb === undefined ? "" : `:${template.verb}`}`;
}

function operation(route: Route, catalog: SchemaCatalog, operationId: string, options: OpenApiOptions): OperationObject {
  const { method, template } = route;
  const rpc = rpcName(route);
  const pathBound = template.variables.map((v) => v.fieldPath);
  const parameters = pathParameters(route, catalog);
  let truncated = false;
  if (route.body !== "*") {
    const bound = route.body === "" ? pathBound : [...pathBound, [route.body]];
    const query = queryParameters(method.input, bound, catalog);
    truncated = query.length > queryParametersMax;
    parameters.push(...query.slice(0, queryParametersMax));
  }
  const body = requestBody(route, catalog, pathBound);
  const op: OperationObject = {
    operationId,
    // protoc-gen-es strips source comments from the descriptors it embeds, so the RPC's name is all there is.
    summary: method.name,
    description: [
      `Calls the RPC \`${rpc}\`.`,
      method.methodKind === "server_streaming" ? "Server streaming: the response is a stream of messages." : "",
      truncated ? `Only the first ${queryParametersMax} query parameters are listed.` : "",
    ]
      .filter(Boolean)
      .join(" "),
    tags: [route.service.typeName],
    parameters,
    ...(body ? { requestBody: body } : {}),
    responses: responses(route, catalog),
    "x-rpc": rpc,
  };
  if (method.deprecated) op.deprecated = true;
  if (options.publicOperations?.has(rpc)) op.security = [];
  return op;
}

function pathParameters(route: Route, catalog: SchemaCatalog): ParameterObject[] {
  const { template } = route;
  return template.variables.map((variable) => {
    const name = variable.fieldPath.join(".");
    const field = fieldAt(route.method.input, variable.fieldPath);
    // routesOf has already rejected a variable that names no singular scalar field.
    const parameter: ParameterObject = { name, in: "path", required: true, schema: field ? catalog.field(field) : { type: "string" } };
    const segments = template.segments.slice(variable.start, variable.start + variable.length);
    if (segments.length !== 1 || segments[0]?.kind !== "one") {
      const pattern = segments.map((s) => (s.kind === "literal" ? s.text : s.kind === "one" ? "*" : "**")).join("/");
      parameter.description = `Matches the path pattern \`${pattern}\`: the value spans those segments, "/" included.`;
    }
    return parameter;
  });
}

/**
 * Every request field no path variable or body takes, as a query parameter named by its
 * lowerCamel JSON path ("page.pageSize"). Repeated scalars repeat the parameter; maps,
 * repeated messages and free-form well-known types cannot be written in a query.
 */
function queryParameters(input: DescMessage, bound: readonly (readonly string[])[], catalog: SchemaCatalog): ParameterObject[] {
  const parameters: ParameterObject[] = [];
  const walk = (
    message: DescMessage,
    prefix: readonly string[],
    excluded: readonly (readonly string[])[],
    visiting: ReadonlySet<string>,
  ) => {
    for (const field of message.fields) {
      const below = excluded.filter((p) => p[0] === field.name);
      if (below.some((p) => p.length === 1)) continue;
      const name = [...prefix, field.jsonName].join(".");
      const required = prefix.length === 0 && rulesOf(field)?.required === true;
      const scalarLike = field.fieldKind === "scalar" || field.fieldKind === "enum";
      if (scalarLike || (field.fieldKind === "message" && isScalarLikeWellKnown(field.message.typeName))) {
        parameters.push(queryParameter(name, required, catalog.field(field), field.deprecated));
      } else if (field.fieldKind === "list" && field.listKind !== "message") {
        parameters.push({ ...queryParameter(name, required, catalog.field(field), field.deprecated), style: "form", explode: true });
      } else if (field.fieldKind === "message" && wellKnownSchema(field.message.typeName) === undefined) {
        const nested = field.message;
        // A recursive message would nest forever: stop where it repeats, and at a fixed depth.
        if (visiting.has(nested.typeName) || prefix.length + 1 >= queryDepthMax) continue;
        walk(
          nested,
          [...prefix, field.jsonName],
          below.map((p) => p.slice(1)),
          new Set([...visiting, nested.typeName]),
        );
      }
      // One more than the limit, so the caller can tell the list was cut.
      if (parameters.length > queryParametersMax) return;
    }
  };
  walk(input, [], bound, new Set([input.typeName]));
  return parameters;
}

function queryParameter(name: string, required: boolean, schema: SchemaObject, deprecated: boolean): ParameterObject {
  const parameter: ParameterObject = { name, in: "query", required, schema };
  if (deprecated) parameter.deprecated = true;
  return parameter;
}

function requestBody(route: Route, catalog: SchemaCatalog, pathBound: readonly (readonly string[])[]): OperationObject["requestBody"] {
  const input = route.method.input;
  if (route.body === "") return undefined;
  if (route.body === "*") {
    const topLevelBound = new Set(pathBound.filter((p) => p.length === 1).map((p) => p[0]));
    const hasBodyFields = input.fields.some((f) => !topLevelBound.has(f.name));
    return { required: hasBodyFields, content: { "application/json": { schema: catalog.messageWithout(input, pathBound) } } };
  }
  const field = input.fields.find((f) => f.name === route.body);
  // routesOf has already rejected a body that names no field.
  return { required: true, content: { "application/json": { schema: field ? catalog.field(field) : {} } } };
}

function responses(route: Route, catalog: SchemaCatalog): Record<string, ResponseObject> {
  const output = route.method.output;
  const field = route.responseBody === "" ? undefined : output.fields.find((f) => f.name === route.responseBody);
  const schema = field ? catalog.field(field) : catalog.message(output);
  const shown = field ? `${output.typeName}.${field.jsonName}` : output.typeName;
  const error: ResponseObject = {
    description: "The error as google.rpc.Status JSON, with the HTTP status that matches its code.",
    content: { "application/json": { schema: { $ref: `#/components/schemas/${statusSchemaName}` } } },
  };
  if (route.method.methodKind === "server_streaming") {
    return {
      "200": {
        description: `A stream of ${shown}, as the Accept header asks: one JSON object per line (NDJSON) or one per \`data:\` event (SSE).`,
        content: { "application/x-ndjson": { schema }, "text/event-stream": { schema } },
      },
      default: error,
    };
  }
  return { "200": { description: shown, content: { "application/json": { schema } } }, default: error };
}
