import { create, createFileRegistry, type DescService, type MessageInitShape, setExtension } from "@bufbuild/protobuf";
import {
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  type FieldDescriptorProtoSchema,
  FileDescriptorProtoSchema,
  file_google_protobuf_timestamp,
  MethodOptionsSchema,
} from "@bufbuild/protobuf/wkt";
import { http } from "@qenex/gen/google/api/annotations_pb.js";
import { HttpRuleSchema } from "@qenex/gen/google/api/http_pb.js";
import { LedgerService } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import {
  httpVerbs,
  type OpenApiDocument,
  type OperationObject,
  openApiDocument,
  queryDepthMax,
  queryParametersMax,
  type SchemaObject,
} from "./openapi.js";

const info = { title: "QENEX", version: "1.0.0", serverUrl: "http://localhost:8080" };
const ledger = openApiDocument([LedgerService], info, {
  publicOperations: new Set(["/qenex.ledger.v1.LedgerService/GetTrialBalance"]),
});

function op(document: OpenApiDocument, verb: (typeof httpVerbs)[number], path: string): OperationObject {
  const found = document.paths[path]?.[verb];
  if (!found) throw new Error(`${verb.toUpperCase()} ${path} is not in the document`);
  return found;
}

/** Follows $refs (and nothing else) to the schema they name. */
function deref(document: OpenApiDocument, schema: SchemaObject | undefined): SchemaObject {
  if (schema?.$ref === undefined) return schema ?? {};
  return deref(document, resolvePointer(document, schema.$ref) as SchemaObject | undefined);
}

function resolvePointer(document: unknown, ref: string): unknown {
  if (!ref.startsWith("#/")) return undefined;
  let at: unknown = document;
  for (const raw of ref.slice(2).split("/")) {
    const key = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    if (typeof at !== "object" || at === null || !Object.hasOwn(at, key)) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

/**
 * The OpenAPI 3.1 rules a generator can get wrong, checked without a validator package:
 * refs resolve, path templates and path parameters agree, ids are unique, no two templated
 * paths differ only in parameter names, security names a defined scheme.
 */
function structuralProblems(document: OpenApiDocument): string[] {
  const problems: string[] = [];
  const visit = (value: unknown, where: string) => {
    if (Array.isArray(value)) {
      for (const [i, v] of value.entries()) visit(v, `${where}/${i}`);
      return;
    }
    if (typeof value !== "object" || value === null) return;
    for (const [key, child] of Object.entries(value)) {
      if (key === "$ref" && (typeof child !== "string" || resolvePointer(document, child) === undefined)) {
        problems.push(`${where}: $ref ${String(child)} does not resolve`);
      }
      visit(child, `${where}/${key}`);
    }
  };
  visit(document, "#");
  if (document.openapi !== "3.1.0") problems.push("openapi is not 3.1.0");
  for (const name of Object.keys(document.components.schemas)) {
    if (!/^[a-zA-Z0-9.\-_]+$/.test(name)) problems.push(`component name ${name} is not allowed`);
  }
  const operationIds = new Set<string>();
  const shapes = new Map<string, string>();
  const tags = new Set(document.tags.map((t) => t.name));
  for (const [path, item] of Object.entries(document.paths)) {
    if (!path.startsWith("/")) problems.push(`${path}: does not start with /`);
    const shape = path.replace(/\{[^}]*\}/g, "{}");
    if (shapes.has(shape)) problems.push(`${path}: same shape as ${shapes.get(shape)}`);
    shapes.set(shape, path);
    const templateNames = [...path.matchAll(/\{([^}]*)\}/g)].map((m) => m[1] ?? "");
    for (const [verb, operation] of Object.entries(item) as [string, OperationObject][]) {
      const where = `${verb.toUpperCase()} ${path}`;
      if (!(httpVerbs as readonly string[]).includes(verb)) problems.push(`${where}: unknown verb`);
      if (operationIds.has(operation.operationId)) problems.push(`${where}: duplicate operationId ${operation.operationId}`);
      operationIds.add(operation.operationId);
      const pathParameters = operation.parameters.filter((p) => p.in === "path").map((p) => p.name);
      for (const name of templateNames) if (!pathParameters.includes(name)) problems.push(`${where}: {${name}} has no path parameter`);
      for (const name of pathParameters)
        if (!templateNames.includes(name)) problems.push(`${where}: path parameter ${name} is not in the template`);
      for (const p of operation.parameters)
        if (p.in === "path" && !p.required) problems.push(`${where}: path parameter ${p.name} is not required`);
      const keys = operation.parameters.map((p) => `${p.in}:${p.name}`);
      if (new Set(keys).size !== keys.length) problems.push(`${where}: duplicate parameters`);
      if (Object.keys(operation.responses).length === 0) problems.push(`${where}: no responses`);
      for (const [status, response] of Object.entries(operation.responses)) {
        if (!/^([1-5]([0-9]{2}|XX)|default)$/.test(status)) problems.push(`${where}: response key ${status}`);
        if (typeof response.description !== "string") problems.push(`${where}: response ${status} has no description`);
      }
      if (operation.requestBody && Object.keys(operation.requestBody.content).length === 0)
        problems.push(`${where}: empty request body content`);
      for (const tag of operation.tags) if (!tags.has(tag)) problems.push(`${where}: tag ${tag} is not declared`);
      for (const requirement of [...(operation.security ?? []), ...document.security]) {
        for (const scheme of Object.keys(requirement)) {
          if (!(scheme in document.components.securitySchemes)) problems.push(`${where}: unknown security scheme ${scheme}`);
        }
      }
    }
  }
  return problems;
}

describe("openApiDocument for LedgerService", () => {
  it("binds GET /api/v1/accounts/{account_id}/balance with a required path parameter", () => {
    const getBalance = op(ledger, "get", "/api/v1/accounts/{account_id}/balance");
    expect(getBalance["x-rpc"]).toBe("/qenex.ledger.v1.LedgerService/GetBalance");
    expect(getBalance.summary).toBe("GetBalance");
    const accountId = getBalance.parameters.find((p) => p.name === "account_id");
    expect(accountId).toMatchObject({ in: "path", required: true, schema: { type: "string", minLength: 1, maxLength: 64 } });
    // The rest of the request is the query: as_of, a Timestamp, is one RFC 3339 string.
    expect(getBalance.parameters.find((p) => p.name === "asOf")).toMatchObject({
      in: "query",
      schema: { type: "string", format: "date-time" },
    });
    expect(getBalance.requestBody).toBeUndefined();
  });

  it("takes CreateTransferRequest as the body of POST /api/v1/transactions, money as decimal strings", () => {
    const createTransfer = op(ledger, "post", "/api/v1/transactions");
    const body = deref(ledger, createTransfer.requestBody?.content["application/json"]?.schema);
    expect(Object.keys(body.properties ?? {})).toEqual(
      expect.arrayContaining(["transferId", "sourceAccount", "destinationAccount", "amount", "currency"]),
    );
    expect(body.properties?.amount).toMatchObject({ type: "string", pattern: "^[0-9]+(\\.[0-9]+)?$", maxLength: 40 });
    expect(body.properties?.sourceAccount).toMatchObject({ type: "string", maxLength: 64 });
    expect(body.properties?.timeoutSeconds).toMatchObject({ type: "integer", maximum: 2592000 });
    const response = deref(ledger, createTransfer.responses["200"]?.content?.["application/json"]?.schema);
    const transfer = deref(ledger, response.properties?.transfer);
    expect(deref(ledger, transfer.properties?.amount).properties?.amount).toMatchObject({ type: "string" });
  });

  it("turns ListAccounts' filters and nested paging into query parameters", () => {
    const listAccounts = op(ledger, "get", "/api/v1/accounts");
    const query = Object.fromEntries(listAccounts.parameters.map((p) => [p.name, p]));
    expect(Object.keys(query)).toEqual(["currency", "accountType", "ownerId", "page.pageSize", "page.pageToken"]);
    expect(Object.values(query).every((p) => p.in === "query" && !p.required)).toBe(true);
    expect(query["page.pageSize"]?.schema).toMatchObject({ type: "integer", format: "int32", minimum: 0, maximum: 1000 });
    expect(query["page.pageToken"]?.schema).toMatchObject({ type: "string", maxLength: 512 });
    expect(query.currency?.schema).toMatchObject({ pattern: "^[A-Z]{3}$" });
    expect(query.accountType?.schema.$ref).toBe("#/components/schemas/qenex.ledger.v1.AccountType");
  });

  it('leaves fields bound by the path out of a body: "*"', () => {
    const reverse = op(ledger, "post", "/api/v1/transactions/{transfer_id}:reverse");
    const body = reverse.requestBody?.content["application/json"]?.schema;
    expect(Object.keys(body?.properties ?? {})).toEqual(["reversalId", "amount", "reference"]);
    expect(reverse.parameters.map((p) => `${p.in}:${p.name}`)).toEqual(["path:transfer_id"]);
    // CloseAccount's only field is in the path: the body is an empty object and may be left out.
    const close = op(ledger, "post", "/api/v1/accounts/{account_id}:close");
    expect(close.requestBody).toMatchObject({
      required: false,
      content: { "application/json": { schema: { type: "object", properties: {} } } },
    });
  });

  it("answers the server-streaming WatchTransfers as NDJSON or server-sent events", () => {
    const watch = op(ledger, "get", "/api/v1/transactions:watch");
    const ok = watch.responses["200"]?.content ?? {};
    expect(Object.keys(ok).sort()).toEqual(["application/x-ndjson", "text/event-stream"]);
    for (const media of Object.values(ok)) expect(media.schema.$ref).toBe("#/components/schemas/qenex.ledger.v1.WatchTransfersResponse");
    // after_sequence is an int64 with gte 0: a string of digits without a sign.
    expect(watch.parameters.find((p) => p.name === "afterSequence")?.schema).toMatchObject({ type: "string", pattern: "^[0-9]+$" });
    const unary = op(ledger, "get", "/api/v1/transactions/{transfer_id}");
    expect(Object.keys(unary.responses["200"]?.content ?? {})).toEqual(["application/json"]);
  });

  it("writes 64-bit integers as strings of digits and 32-bit ones as integers", () => {
    const schemas = ledger.components.schemas;
    expect(schemas["qenex.ledger.v1.Transfer"]?.properties?.sequence).toEqual({ type: "string", format: "int64", pattern: "^-?[0-9]+$" });
    expect(schemas["qenex.ledger.v1.ReconcileProgress"]?.properties?.accountsTotal?.type).toBe("string");
    expect(schemas["qenex.ledger.v1.CreateTransferResult"]?.properties?.index).toEqual({ type: "integer", format: "int32" });
  });

  it("lists enum value names, narrowed where a field's rules allow fewer", () => {
    const accountType = ledger.components.schemas["qenex.ledger.v1.AccountType"];
    expect(accountType?.type).toBe("string");
    expect(accountType?.enum).toEqual([
      "ACCOUNT_TYPE_UNSPECIFIED",
      "UNSPECIFIED",
      "CHECKING",
      "SAVINGS",
      "BUSINESS",
      "LOAN",
      "EQUITY",
      "SETTLEMENT",
      "FX_LIQUIDITY",
      "REVENUE",
    ]);
    const createAccount = ledger.components.schemas["qenex.ledger.v1.CreateAccountRequest"];
    expect(createAccount?.properties?.accountType).toEqual({
      $ref: "#/components/schemas/qenex.ledger.v1.AccountType",
      enum: ["CHECKING", "SAVINGS", "BUSINESS", "LOAN", "SETTLEMENT", "REVENUE"],
    });
  });

  it("lists each enum value by its full name and by its name without the type prefix, as requests may send it", () => {
    const kind = ledger.components.schemas["qenex.ledger.v1.TransferKind"];
    expect(kind?.enum).toContain("TRANSFER_KIND_PENDING");
    expect(kind?.enum).toContain("PENDING");
    expect(kind?.description).toContain("requests take the full name or the name without the `TRANSFER_KIND_` prefix");
    const createTransfer = ledger.components.schemas["qenex.ledger.v1.CreateTransferRequest"];
    expect(createTransfer?.properties?.kind?.enum).toEqual([
      "TRANSFER_KIND_UNSPECIFIED",
      "UNSPECIFIED",
      "TRANSFER_KIND_TRANSFER",
      "TRANSFER",
      "TRANSFER_KIND_PENDING",
      "PENDING",
      "TRANSFER_KIND_POST_PENDING",
      "POST_PENDING",
      "TRANSFER_KIND_VOID_PENDING",
      "VOID_PENDING",
    ]);
  });

  it("asks for money as a decimal amount beside its currency in every request that moves money", () => {
    const schemas = ledger.components.schemas;
    for (const name of ["CreateTransferRequest", "CreateFxTransferRequest"]) {
      const properties = schemas[`qenex.ledger.v1.${name}`]?.properties;
      expect(properties?.amount, name).toMatchObject({ type: "string" });
      expect(properties?.currency, name).toMatchObject({ type: "string", pattern: "^[A-Z]{3}$" });
    }
    expect(schemas["qenex.ledger.v1.CreateFxTransferRequest"]?.properties?.amountMoney?.deprecated).toBe(true);
  });

  it("carries protovalidate limits, well-known types and oneofs into the schemas", () => {
    const schemas = ledger.components.schemas;
    expect(schemas["qenex.ledger.v1.CreateAccountsRequest"]?.properties?.accounts).toMatchObject({
      type: "array",
      items: { $ref: "#/components/schemas/qenex.ledger.v1.CreateAccountRequest" },
      minItems: 1,
      maxItems: 8190,
    });
    expect(schemas["qenex.ledger.v1.SetExchangeRateRequest"]?.required).toEqual(["validUntil"]);
    expect(schemas["qenex.ledger.v1.Account"]?.properties?.createdAt).toMatchObject({ type: "string", format: "date-time" });
    expect(schemas["qenex.ledger.v1.ReconcileResponse"]?.description).toBe("At most one of `progress`, `report` is set.");
    expect(schemas["qenex.common.v1.Money"]?.properties?.amount).toMatchObject({ type: "string", pattern: "^-?[0-9]+(\\.[0-9]+)?$" });
  });

  it("answers every error with google.rpc.Status", () => {
    expect(ledger.components.schemas.Status?.properties?.details?.items?.required).toEqual(["@type"]);
    const operations = Object.values(ledger.paths).flatMap((item) => Object.values(item));
    expect(operations).toHaveLength(LedgerService.methods.length);
    for (const operation of operations) {
      expect(operation.responses.default?.content?.["application/json"]?.schema).toEqual({ $ref: "#/components/schemas/Status" });
    }
  });

  it("requires a bearer token everywhere except on the operations marked public", () => {
    expect(ledger.security).toEqual([{ bearerAuth: [] }]);
    expect(ledger.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer", bearerFormat: "JWT" });
    expect(op(ledger, "get", "/api/v1/ledger/trial-balance").security).toEqual([]);
    expect(op(ledger, "post", "/api/v1/transactions").security).toBeUndefined();
    expect(ledger.servers).toEqual([{ url: "http://localhost:8080" }]);
  });

  it("passes the structural check and is plain JSON", () => {
    expect(structuralProblems(ledger)).toEqual([]);
    expect(JSON.parse(JSON.stringify(ledger))).toEqual(ledger);
    expect(ledger["x-unlisted-bindings"]).toBeUndefined();
  });

  it("validates against the official OpenAPI 3.1 schema, and the validator would catch a broken one", async () => {
    const result = await new Validator().validate(structuredClone(ledger) as unknown as Record<string, unknown>);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    const broken = structuredClone(ledger);
    broken.paths["/api/v1/accounts/{account_id}"]?.get?.parameters.push({
      name: "x",
      in: "nowhere" as "query",
      required: false,
      schema: {},
    });
    expect((await new Validator().validate(broken as unknown as Record<string, unknown>)).valid).toBe(false);
  });

  it("has a structural check that finds a dangling $ref and a path parameter missing from the template", () => {
    const broken = structuredClone(ledger);
    const getAccount = broken.paths["/api/v1/accounts/{account_id}"]?.get;
    if (!getAccount) throw new Error("GetAccount is missing");
    getAccount.parameters.push({ name: "ghost", in: "path", required: true, schema: { $ref: "#/components/schemas/Nowhere" } });
    expect(structuralProblems(broken)).toEqual([
      "#/paths//api/v1/accounts/{account_id}/get/parameters/1/schema: $ref #/components/schemas/Nowhere does not resolve",
      "GET /api/v1/accounts/{account_id}: path parameter ghost is not in the template",
    ]);
  });
});

// A contract with what the ledger's does not use: additional bindings, custom verbs,
// multi-segment and nested path variables, body and response_body fields, recursion, maps.
function thingService(): DescService {
  const { STRING: TYPE_STRING, MESSAGE: TYPE_MESSAGE, INT64: TYPE_INT64, INT32: TYPE_INT32 } = FieldDescriptorProto_Type;
  const { OPTIONAL: LABEL_OPTIONAL, REPEATED: LABEL_REPEATED } = FieldDescriptorProto_Label;
  const field = (
    name: string,
    number: number,
    type: FieldDescriptorProto_Type,
    extra: MessageInitShape<typeof FieldDescriptorProtoSchema> = {},
  ) => ({
    name,
    number,
    type,
    label: LABEL_OPTIONAL,
    jsonName: name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()),
    ...extra,
  });
  const method = (name: string, input: string, output: string, rule: MessageInitShape<typeof HttpRuleSchema>, serverStreaming = false) => {
    const options = create(MethodOptionsSchema);
    setExtension(options, http, create(HttpRuleSchema, rule));
    return { name, inputType: `.test.v1.${input}`, outputType: `.test.v1.${output}`, options, serverStreaming };
  };
  const file = create(FileDescriptorProtoSchema, {
    name: "test/v1/thing.proto",
    package: "test.v1",
    syntax: "proto3",
    dependency: ["google/protobuf/timestamp.proto"],
    messageType: [
      {
        name: "Node",
        field: [
          field("id", 1, TYPE_STRING),
          field("child", 2, TYPE_MESSAGE, { typeName: ".test.v1.Node" }),
          field("tags", 3, TYPE_STRING, { label: LABEL_REPEATED }),
          field("counts", 4, TYPE_MESSAGE, { label: LABEL_REPEATED, typeName: ".test.v1.Node.CountsEntry" }),
          field("seen_at", 5, TYPE_MESSAGE, { typeName: ".google.protobuf.Timestamp" }),
        ],
        nestedType: [
          { name: "CountsEntry", options: { mapEntry: true }, field: [field("key", 1, TYPE_STRING), field("value", 2, TYPE_INT64)] },
        ],
      },
      { name: "Parent", field: [field("id", 1, TYPE_STRING), field("note", 2, TYPE_STRING)] },
      { name: "Thing", field: [field("name", 1, TYPE_STRING), field("size", 2, TYPE_INT32)] },
      { name: "GetThingRequest", field: [field("name", 1, TYPE_STRING), field("node", 2, TYPE_MESSAGE, { typeName: ".test.v1.Node" })] },
      {
        name: "UpdateThingRequest",
        field: [
          field("parent", 1, TYPE_MESSAGE, { typeName: ".test.v1.Parent" }),
          field("thing", 2, TYPE_MESSAGE, { typeName: ".test.v1.Thing" }),
          field("dry_run", 3, TYPE_STRING),
        ],
      },
      { name: "ThingResponse", field: [field("thing", 1, TYPE_MESSAGE, { typeName: ".test.v1.Thing" })] },
      // More fields than the query limit, and a nesting deeper than the query depth limit.
      { name: "Wide", field: Array.from({ length: queryParametersMax + 10 }, (_, i) => field(`f${i + 1}`, i + 1, TYPE_STRING)) },
      ...Array.from({ length: queryDepthMax + 2 }, (_, i) => ({
        name: `Level${i}`,
        field: [
          field("v", 1, TYPE_STRING),
          ...(i <= queryDepthMax ? [field("next", 2, TYPE_MESSAGE, { typeName: `.test.v1.Level${i + 1}` })] : []),
        ],
      })),
    ],
    service: [
      {
        name: "ThingService",
        method: [
          method("GetThing", "GetThingRequest", "Node", {
            pattern: { case: "get", value: "/v1/{name=shelves/*/things/*}" },
            additionalBindings: [
              create(HttpRuleSchema, { pattern: { case: "get", value: "/v1/things/{name}" } }),
              create(HttpRuleSchema, { pattern: { case: "custom", value: { kind: "HEAD", path: "/v1/things/{name}" } } }),
              create(HttpRuleSchema, { pattern: { case: "custom", value: { kind: "FETCH", path: "/v1/fetched/{name}" } } }),
              create(HttpRuleSchema, { pattern: { case: "get", value: "/v1/*/things" } }),
            ],
          }),
          method("UpdateThing", "UpdateThingRequest", "ThingResponse", {
            pattern: { case: "patch", value: "/v1/parents/{parent.id}/thing:update" },
            body: "thing",
            responseBody: "thing",
          }),
          method("ListWide", "Wide", "Thing", { pattern: { case: "get", value: "/v1/wide" } }),
          method("Deep", "Level0", "Thing", { pattern: { case: "get", value: "/v1/deep" } }),
          method(
            "WatchThing",
            "GetThingRequest",
            "ThingResponse",
            { pattern: { case: "post", value: "/v1/things/{name}:watch" }, body: "*" },
            true,
          ),
        ],
      },
    ],
  });
  const registry = createFileRegistry(file, (name) =>
    name === "google/protobuf/timestamp.proto" ? file_google_protobuf_timestamp : undefined,
  );
  const service = registry.getService("test.v1.ThingService");
  if (!service) throw new Error("test.v1.ThingService did not build");
  return service;
}

describe("openApiDocument for other HttpRule shapes", () => {
  const things = openApiDocument([thingService()], { title: "Things", version: "0" });

  it("documents every additional binding, a custom HEAD among them, with unique operationIds", () => {
    expect(op(things, "get", "/v1/{name}").operationId).toBe("ThingService_GetThing");
    expect(op(things, "get", "/v1/things/{name}").operationId).toBe("ThingService_GetThing_2");
    expect(op(things, "head", "/v1/things/{name}").operationId).toBe("ThingService_GetThing_3");
    expect(structuralProblems(things)).toEqual([]);
  });

  it("names a multi-segment variable by its field and describes its pattern", () => {
    const name = op(things, "get", "/v1/{name}").parameters.find((p) => p.name === "name");
    expect(name).toMatchObject({ in: "path", required: true });
    expect(name?.description).toContain("shelves/*/things/*");
  });

  it("lists, instead of inventing, the bindings OpenAPI cannot describe", () => {
    expect(things["x-unlisted-bindings"]?.map((u) => `${u.httpMethod} ${u.path}`)).toEqual([
      "FETCH /v1/fetched/{name}",
      "GET /v1/*/things",
    ]);
  });

  it("flattens nested query fields, stops at recursion and repeats repeated scalars", () => {
    const names = op(things, "get", "/v1/things/{name}").parameters.map((p) => `${p.in}:${p.name}`);
    // node.child is a Node again: not walked; node.counts is a map: no query form.
    expect(names).toEqual(["path:name", "query:node.id", "query:node.tags", "query:node.seenAt"]);
    const tags = op(things, "get", "/v1/things/{name}").parameters.find((p) => p.name === "node.tags");
    expect(tags).toMatchObject({ style: "form", explode: true, schema: { type: "array", items: { type: "string" } } });
  });

  it("keeps a recursive message as a $ref to itself and maps as objects", () => {
    const node = things.components.schemas["test.v1.Node"];
    expect(node?.properties?.child).toEqual({ $ref: "#/components/schemas/test.v1.Node" });
    expect(node?.properties?.counts).toMatchObject({ type: "object", additionalProperties: { type: "string", pattern: "^-?[0-9]+$" } });
  });

  it("uses the body field as the request body and response_body as the response, with nested path fields", () => {
    const update = op(things, "patch", "/v1/parents/{parent.id}/thing:update");
    expect(update.parameters.map((p) => `${p.in}:${p.name}`)).toEqual(["path:parent.id", "query:parent.note", "query:dryRun"]);
    expect(update.requestBody).toEqual({
      required: true,
      content: { "application/json": { schema: { $ref: "#/components/schemas/test.v1.Thing" } } },
    });
    expect(update.responses["200"]?.content?.["application/json"]?.schema).toEqual({ $ref: "#/components/schemas/test.v1.Thing" });
  });

  it("lists at most queryParametersMax query parameters and says when it cut the list", () => {
    const wide = op(things, "get", "/v1/wide");
    expect(wide.parameters).toHaveLength(queryParametersMax);
    expect(wide.parameters.at(-1)?.name).toBe(`f${queryParametersMax}`);
    expect(wide.description).toContain(`Only the first ${queryParametersMax} query parameters are listed.`);
    expect(op(things, "get", "/v1/things/{name}").description).not.toContain("Only the first");
  });

  it("walks nested messages for query parameters no deeper than queryDepthMax", () => {
    const names = op(things, "get", "/v1/deep").parameters.map((p) => p.name);
    expect(names).toHaveLength(queryDepthMax);
    expect(names.at(-1)).toBe(`${"next.".repeat(queryDepthMax - 1)}v`);
  });

  it("streams a server-streaming POST and keeps its custom verb in the path", () => {
    const watch = op(things, "post", "/v1/things/{name}:watch");
    expect(Object.keys(watch.responses["200"]?.content ?? {})).toEqual(["application/x-ndjson", "text/event-stream"]);
    expect(Object.keys(watch.requestBody?.content["application/json"]?.schema.properties ?? {})).toEqual(["node"]);
  });
});
