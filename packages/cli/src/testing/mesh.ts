// `qenex start` as a user runs it, for tests: a real supervisor, real service processes.
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { anyFreePortsEnv } from "@qenex/platform";
import { freshDatabase } from "@qenex/platform/testing";

const root = fileURLToPath(new URL("../../../../", import.meta.url));
// Node itself with tsx as a loader (not the tsx CLI, which would relay signals to a child).
export const node = process.execPath;
export const main = path.join(root, "packages/cli/src/main.ts");
export const qenexArgs = ["--import", "tsx", "--conditions=source", main];
/** The bundle `pnpm start` runs (build it first: buildQenexBundle), run directly so the child is the supervisor. */
export const qenexBundleArgs = ["--enable-source-maps", path.join(root, "packages/cli/dist/qenex.mjs")];

export function buildQenexBundle(): void {
  execFileSync(node, [path.join(root, "packages/cli/bundle.mjs")], { stdio: "inherit" });
}

export function qenexEnv(dataDir: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    // The harness's key: servers sharing a test database must extend one audit chain.
    QENEX_AUDIT_KEY: "test-audit-key-test-audit-key-test-0123",
    QENEX_DATA_DIR: dataDir,
    ...anyFreePortsEnv,
    QENEX_HOST: "127.0.0.1",
    QENEX_LOG_LEVEL: "warn",
    // Redis outlives test runs: a mesh's counters (sign-in failures, rate limits) are its own.
    QENEX_REDIS_KEY_PREFIX: `qenex-test:${randomBytes(6).toString("hex")}:`,
  };
}

export type Mesh = { child: ChildProcess; urls: Record<string, string>; output(): string };

/**
 * Starts `qenex start` and resolves once it prints every service's address. `via: "pnpm"`
 * runs the README's quick start itself, `pnpm start`: the bundle, built first, under pnpm;
 * `via: "bundle"` runs that bundle (built already) as the child itself.
 */
export function startMesh(env: NodeJS.ProcessEnv, args: string[] = [], via: "tsx" | "pnpm" | "bundle" = "tsx"): Promise<Mesh> {
  const child =
    via === "pnpm"
      ? spawn("pnpm", ["start", ...args], { env, cwd: root, stdio: ["ignore", "pipe", "pipe"] })
      : spawn(node, [...(via === "bundle" ? qenexBundleArgs : qenexArgs), "start", ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let output = "";
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      // The supervisor's summary comes after every service serves; it starts with a blank line.
      const summary = output.slice(output.indexOf("\n\nQENEX edge listening on"));
      const urls = Object.fromEntries(
        [...summary.matchAll(/QENEX ([a-z]+) listening on (https?:\/\/[0-9.]+:[0-9]+)/g)].map((m) => [m[1] as string, m[2] as string]),
      );
      if (output.includes("\n\nQENEX edge listening on") && Object.keys(urls).length === 5) {
        resolve({ child, urls, output: () => output });
      }
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    child.once("exit", (code) => reject(new Error(`qenex start exited with ${code}: ${output}`)));
  });
}

/** Stops a supervisor as an operator does (SIGTERM) and waits for it to exit; one already gone is left be. */
export async function stopMesh(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}

export type TestMesh = Mesh & {
  /** What the mesh runs with: `qenex token` and other commands against it need the same. */
  env: NodeJS.ProcessEnv;
  /** Stops the supervisor, then drops the database and removes the data folder made for it. */
  stop(): Promise<void>;
};

/**
 * `qenex start` on storage of its own: with DATABASE_URL, a fresh database on that server
 * (`qenex_<name>_...`), so a test that follows every transfer or claims every job sees only
 * its own; without it, embedded in a new data folder. `env` overrides come last; one that
 * names DATABASE_URL is used as it is, and no database is created.
 */
export async function startTestMesh(name: string, options: { env?: NodeJS.ProcessEnv; args?: string[] } = {}): Promise<TestMesh> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `qenex-${name}-`));
  const database = options.env?.DATABASE_URL === undefined ? await freshDatabase(`qenex_${name}`) : undefined;
  const env = { ...qenexEnv(dataDir), DATABASE_URL: database?.url ?? "", ...options.env };
  const cleanUp = async () => {
    await database?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  let mesh: Mesh;
  try {
    mesh = await startMesh(env, options.args);
  } catch (error) {
    await cleanUp();
    throw error;
  }
  return {
    ...mesh,
    env,
    async stop() {
      await stopMesh(mesh.child);
      await cleanUp();
    },
  };
}

export async function qenexToken(env: NodeJS.ProcessEnv, role = "operator"): Promise<string> {
  const { stdout } = await promisify(execFile)(node, [...qenexArgs, "token", "--role", role], { env });
  return stdout.trim();
}

/** The service processes a supervisor runs, by name, read from /proc. */
export function serviceProcesses(supervisorPid: number): Map<string, number> {
  const children = fs.readFileSync(`/proc/${supervisorPid}/task/${supervisorPid}/children`, "utf8").trim().split(/\s+/).filter(Boolean);
  const byName = new Map<string, number>();
  for (const pid of children.map(Number)) {
    try {
      const argv = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      const at = argv.indexOf("serve");
      if (at >= 0 && argv[at + 1]) byName.set(argv[at + 1] as string, pid);
    } catch {
      // It exited between the two reads.
    }
  }
  return byName;
}
