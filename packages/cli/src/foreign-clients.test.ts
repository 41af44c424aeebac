// Protocol conformance with clients this project did not write, against the mesh as `qenex
// start` runs it (one process per service): Python's grpcio (Debian's python3-grpcio, message
// classes from `buf build` output) and buf curl on gRPC, gRPC-Web and Connect. Each service
// port and the edge answer the same.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { qenexToken, startTestMesh, type TestMesh } from "./testing/mesh.js";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../../../", import.meta.url));
const buf = path.join(root, "node_modules/.bin/buf");
const script = fileURLToPath(new URL("./testing/grpc_conformance.py", import.meta.url));
// Debian's interpreter, where python3-grpcio lives; a python3 earlier on PATH may lack it.
const python = "/usr/bin/python3";
const services = ["ledger", "auth", "risk", "payments"] as const;
const targets = [...services, "edge"] as const;
type Target = (typeof targets)[number];

/** What the conformance needs from the machine; CI installs it (.ci/run), so there a gap fails. */
async function missingTools(): Promise<string | undefined> {
  try {
    await run(python, ["-c", "import grpc, google.protobuf"]);
  } catch (e) {
    return `${python} with grpc and google.protobuf (apt-get install python3-grpcio python3-protobuf): ${(e as Error).message}`;
  }
  if (!fs.existsSync(buf)) return `buf at ${buf}`;
  return undefined;
}
const missing = await missingTools();
if (missing && process.env.CI) throw new Error(`foreign-client conformance cannot run in CI: missing ${missing}`);
if (missing) console.warn(`foreign-client conformance skipped: missing ${missing}`);

const runId = `${process.pid}${Date.now().toString(36)}`;
let mesh: TestMesh | undefined;
let work: string;
let schema: string;
let adminToken: string;
let report: Promise<Map<string, { ok: boolean; detail: unknown }>>;

const hostPort = (url: string) => new URL(url).host;

beforeAll(async () => {
  if (missing) return;
  work = fs.mkdtempSync(path.join(os.tmpdir(), "qenex-foreign-"));
  schema = path.join(work, "contracts.binpb");
  // The contracts as a FileDescriptorSet with every import: the Python client's only schema.
  const built = run(buf, ["build", "-o", schema], { cwd: root });
  // On PostgreSQL, a database of this file's own.
  const started = startTestMesh("foreign", {
    env: { QENEX_RATE_LIMIT_PRINCIPAL: "1000000/1000000", QENEX_RATE_LIMIT_IP: "1000000/1000000", QENEX_SHUTDOWN_GRACE_MS: "2000" },
  });
  [mesh] = await Promise.all([started, built]);
  adminToken = await qenexToken(mesh.env, "admin");
  const urls = mesh.urls;
  const config = path.join(work, "config.json");
  fs.writeFileSync(
    config,
    JSON.stringify({
      descriptors: schema,
      targets: Object.fromEntries(targets.map((t) => [t, hostPort(urls[t] as string)])),
      adminToken,
      runId,
    }),
  );
  // Started here, awaited by the checks, so buf curl runs beside it.
  report = run(python, [script, config], { timeout: 120_000, maxBuffer: 16 << 20 }).then(({ stdout }) => {
    const parsed = JSON.parse(stdout) as { checks: { name: string; ok: boolean; detail: unknown }[] };
    return new Map(parsed.checks.map((c) => [c.name, c]));
  });
  report.catch(() => undefined);
}, 120_000);

afterAll(async () => {
  await mesh?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

/** The script's checks, by name; the list here is what the test requires, the script reports. */
function expectedChecks(target: Target): string[] {
  const own = target === "edge" ? services : [target];
  return [
    `${target}: health Check (300 s deadline)`,
    `${target}: health Watch`,
    `${target}: short deadline on a stream`,
    `${target}: long deadline on a stream`,
    `${target}: reflection lists services`,
    ...(target === "auth" || target === "edge" ? [`${target}: unary sign-in (CreateUser, IssueToken)`] : []),
    ...(own.includes("ledger") ? [`${target}: unary ledger calls and a server stream (WatchTransfers)`] : []),
    ...(own.includes("risk") ? [`${target}: unary risk call (ListRules)`] : []),
    ...(own.includes("payments") ? [`${target}: unary payments call (ListPayments)`] : []),
    ...own.map((s) => `${target}: ${s} validation error details decode as buf.validate.Violations`),
  ];
}

describe.skipIf(missing !== undefined)("Python grpcio (Debian python3-grpcio, messages from buf build)", () => {
  for (const target of targets) {
    describe(target, () => {
      for (const name of expectedChecks(target)) {
        it(name.slice(target.length + 2), async () => {
          const check = (await report).get(name);
          expect(check, `the script reported no check "${name}"`).toBeDefined();
          expect(check, JSON.stringify(check?.detail)).toMatchObject({ ok: true });
        });
      }
    });
  }
});

/** buf curl's names for the codes the calls below end with, and their numbers. */
const codes = { not_found: 5, unauthenticated: 16, invalid_argument: 3 } as const;
/** A unary call each service answers, and one it refuses with a known code. */
const calls: Record<(typeof services)[number], { ok: [string, object]; error: [string, object, keyof typeof codes] }> = {
  ledger: {
    ok: ["qenex.ledger.v1.LedgerService/ListAccounts", {}],
    error: ["qenex.ledger.v1.LedgerService/GetAccount", { accountId: "NO-SUCH-ACCOUNT" }, "not_found"],
  },
  auth: {
    ok: ["qenex.auth.v1.AuthService/ListUsers", {}],
    error: ["qenex.auth.v1.AuthService/IssueToken", { username: "nobody", password: "wrong" }, "unauthenticated"],
  },
  risk: {
    ok: ["qenex.risk.v1.RiskService/ListRules", {}],
    error: ["qenex.risk.v1.RiskService/GetAlert", { alertId: "no-such-alert" }, "not_found"],
  },
  payments: {
    ok: ["qenex.payments.v1.PaymentsService/ListPayments", {}],
    error: ["qenex.payments.v1.PaymentsService/GetPayment", { paymentId: "no-such-payment" }, "not_found"],
  },
};
const protocols = ["grpc", "grpcweb", "connect"] as const;

async function bufCurl(protocol: (typeof protocols)[number], url: string, body: object, schemaFrom: "file" | "reflection" = "file") {
  const args = [
    "curl",
    "--protocol",
    protocol,
    // gRPC needs HTTP/2; the ports take it without TLS only by prior knowledge.
    ...(protocol === "grpc" ? ["--http2-prior-knowledge"] : []),
    ...(schemaFrom === "file" ? ["--schema", schema] : []),
    "-H",
    `Authorization: Bearer ${adminToken}`,
    "-d",
    JSON.stringify(body),
    url,
  ];
  try {
    const { stdout } = await run(buf, args, { timeout: 30_000 });
    return { exitCode: 0, stdout, stderr: "" };
  } catch (e) {
    const failed = e as { code?: number; stdout?: string; stderr?: string };
    return { exitCode: failed.code ?? -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

describe.skipIf(missing !== undefined)("buf curl", () => {
  for (const target of targets) {
    const service = target === "edge" ? "ledger" : target;
    for (const protocol of protocols) {
      it(`${target}: ${protocol} unary call and an error with its code`, async () => {
        const base = mesh?.urls[target] as string;
        const [okPath, okBody] = calls[service].ok;
        const ok = await bufCurl(protocol, `${base}/${okPath}`, okBody);
        expect(ok, ok.stderr).toMatchObject({ exitCode: 0 });
        expect(() => JSON.parse(ok.stdout)).not.toThrow();
        const [errorPath, errorBody, code] = calls[service].error;
        // A user of its own per call: five failed sign-ins for one name lock it (sign-in throttling).
        const body = "username" in errorBody ? { ...errorBody, username: `nobody-${target}-${protocol}` } : errorBody;
        const failed = await bufCurl(protocol, `${base}/${errorPath}`, body);
        // buf curl exits with the RPC's code shifted left by 3 and prints the error as JSON.
        expect(failed.exitCode, failed.stderr).toBe(codes[code] << 3);
        expect(JSON.parse(failed.stderr)).toMatchObject({ code });
      });
    }
  }

  it("edge: --list-services lists every routed service, health and reflection", async () => {
    const { stdout } = await run(
      buf,
      ["curl", "--protocol", "grpc", "--http2-prior-knowledge", "--list-services", mesh?.urls.edge as string],
      {
        timeout: 30_000,
      },
    );
    expect(stdout.trim().split("\n").sort()).toEqual(
      expect.arrayContaining([
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "qenex.auth.v1.AuthService",
        "qenex.ledger.v1.LedgerService",
        "qenex.payments.v1.PaymentsService",
        "qenex.risk.v1.RiskService",
      ]),
    );
  });

  /** A request each service refuses by its contract, and the field it names. */
  const invalid: Record<(typeof services)[number], [string, object, string]> = {
    ledger: [
      "qenex.ledger.v1.LedgerService/CreateAccount",
      { accountId: "bad id!", accountType: "CHECKING", currency: "USD" },
      "account_id",
    ],
    auth: ["qenex.auth.v1.AuthService/IssueToken", { username: "bad user!", password: "x" }, "username"],
    risk: ["qenex.risk.v1.RiskService/GetAlert", { alertId: "bad id!" }, "alert_id"],
    payments: ["qenex.payments.v1.PaymentsService/GetPayment", { paymentId: "" }, "payment_id"],
  };
  for (const target of targets) {
    it(`${target}: a validation error carries buf.validate.Violations naming the field`, async () => {
      const [method, body, field] = invalid[target === "edge" ? "ledger" : target];
      const failed = await bufCurl("grpc", `${mesh?.urls[target]}/${method}`, body, "reflection");
      expect(failed.exitCode, failed.stderr).toBe(codes.invalid_argument << 3);
      expect(JSON.parse(failed.stderr)).toMatchObject({
        code: "invalid_argument",
        details: [{ type: "buf.validate.Violations", debug: { violations: [{ field: { elements: [{ fieldName: field }] } }] } }],
      });
    });

    // buf itself knows buf.validate (it embeds protovalidate), so the decode above would pass
    // without the server's help; this asks the server's reflection for the type directly.
    it(`${target}: reflection resolves buf.validate.Violations`, async () => {
      const { stdout } = await run(
        buf,
        [
          "curl",
          "--protocol",
          "grpc",
          "--http2-prior-knowledge",
          "-d",
          JSON.stringify({ fileContainingSymbol: "buf.validate.Violations" }),
          `${mesh?.urls[target]}/grpc.reflection.v1.ServerReflection/ServerReflectionInfo`,
        ],
        { timeout: 30_000 },
      );
      const response = JSON.parse(stdout) as { fileDescriptorResponse?: { fileDescriptorProto: string[] }; errorResponse?: unknown };
      expect(response.errorResponse).toBeUndefined();
      expect(response.fileDescriptorResponse?.fileDescriptorProto.length).toBeGreaterThan(0);
    });
  }
});
