// A PostgreSQL and a Redis of a test's own, run as child processes so the test can stop,
// freeze (SIGSTOP) and restart them without touching the machine's servers.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import pg from "pg";

const execFileAsync = promisify(execFile);
/** A server has this long to accept connections after it is started. */
const readyTimeoutMs = 20_000;
const readyPollMs = 50;
/** A stopped server has this long to exit. */
const exitTimeoutMs = 10_000;

/** A TCP port nothing listens on right now (bound to port 0, then closed). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Polls check until it resolves, at most readyTimeoutMs; the last failure is reported. */
async function waitUntil(what: string, check: () => Promise<void>, exited: () => boolean): Promise<void> {
  const deadlineMs = Date.now() + readyTimeoutMs;
  let lastError: unknown;
  while (Date.now() < deadlineMs) {
    if (exited()) throw new Error(`${what} exited while starting`);
    try {
      await check();
      return;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, readyPollMs));
  }
  throw new Error(`${what} did not become ready within ${readyTimeoutMs} ms: ${String(lastError)}`);
}

/**
 * Signals a running child and every process it forked. PostgreSQL's backends each call
 * setsid(), so its process group does not reach them: they are found by parent pid.
 */
function signalTree(child: ChildProcess | undefined, signal: NodeJS.Signals): void {
  if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const pids = [child.pid, ...childPids(child.pid)];
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // Exited since it was listed.
    }
  }
}

/** The pids whose parent is parentPid, from /proc (Linux). */
function childPids(parentPid: number): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces, so split after ")".
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === parentPid) pids.push(Number(entry));
    } catch {
      // Exited while being read.
    }
  }
  return pids;
}

/**
 * Sends signal and waits for the child to exit, SIGKILL if it has not in time. A frozen
 * child (with tree, its frozen children too) is thawed first.
 */
async function stopChild(child: ChildProcess, signal: NodeJS.Signals, options: { tree: boolean }): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  if (options.tree) signalTree(child, "SIGCONT");
  else child.kill("SIGCONT");
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), exitTimeoutMs);
  await exited;
  clearTimeout(timer);
}

const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

function track(child: ChildProcess): ChildProcess {
  running.add(child);
  child.once("exit", () => running.delete(child));
  return child;
}

/** PostgreSQL refuses to run as root: then it runs as the "postgres" (else "nobody") user. */
function unprivilegedUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const users = fs.readFileSync("/etc/passwd", "utf8").split("\n");
  for (const name of ["postgres", "nobody"]) {
    const fields = users.find((line) => line.startsWith(`${name}:`))?.split(":");
    if (fields) return { uid: Number(fields[2]), gid: Number(fields[3]) };
  }
  throw new Error("running as root and no postgres or nobody user to run PostgreSQL as");
}

/** The directory holding initdb and postgres: QENEX_PG_BIN, else the newest /usr/lib/postgresql/N/bin. */
function postgresBinDir(): string {
  const candidates = process.env.QENEX_PG_BIN
    ? [process.env.QENEX_PG_BIN]
    : (fs.existsSync("/usr/lib/postgresql") ? fs.readdirSync("/usr/lib/postgresql") : [])
        .sort((a, b) => Number(b) - Number(a))
        .map((version) => path.join("/usr/lib/postgresql", version, "bin"));
  const found = candidates.find((dir) => fs.existsSync(path.join(dir, "initdb")) && fs.existsSync(path.join(dir, "postgres")));
  if (!found) {
    throw new Error(
      "initdb and postgres not found (looked in QENEX_PG_BIN and /usr/lib/postgresql/*/bin): these tests need a PostgreSQL installation",
    );
  }
  return found;
}

export type PrivatePostgres = {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  /** Starts it again (same data, same port) and waits until it accepts connections. */
  start(): Promise<void>;
  /** Fast shutdown (SIGINT): sessions are ended, the server exits. */
  stop(): Promise<void>;
  /** SIGSTOP to the server and its backends: it keeps its sockets but answers nothing. */
  freeze(): void;
  /** SIGCONT after freeze(). */
  thaw(): void;
  /** pg_terminate_backend on every other client connection; how many were ended. */
  terminateBackends(): Promise<number>;
  /** Stops it and removes its data. */
  destroy(): Promise<void>;
};

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const binDir = postgresBinDir();
  const user = unprivilegedUser();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "qenex-pg-"));
  if (user) fs.chownSync(dataDir, user.uid, user.gid);
  const asUser = user ? { uid: user.uid, gid: user.gid } : {};
  await execFileAsync(path.join(binDir, "initdb"), ["-D", dataDir, "-U", "postgres", "--auth=trust", "-N", "-E", "UTF8"], {
    ...asUser,
    cwd: dataDir,
  });
  const port = await freePort();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let child: ChildProcess | undefined;
  const isDown = () => child === undefined || child.exitCode !== null || child.signalCode !== null;
  const connect = async <T>(use: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
    client.on("error", () => {});
    try {
      await client.connect();
      return await use(client);
    } finally {
      await client.end().catch(() => {});
    }
  };
  const start = async () => {
    // fsync off: a test database need not survive a power cut, and CI disks are slow.
    const args = ["-D", dataDir, "-p", String(port), "-k", dataDir, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"];
    child = track(spawn(path.join(binDir, "postgres"), args, { ...asUser, cwd: dataDir, stdio: "ignore" }));
    await waitUntil(`PostgreSQL on port ${port}`, () => connect((client) => client.query("SELECT 1").then(() => {})), isDown);
  };
  await start();
  return {
    url,
    start,
    stop: async () => {
      if (child) await stopChild(child, "SIGINT", { tree: true });
    },
    freeze: () => signalTree(child, "SIGSTOP"),
    thaw: () => signalTree(child, "SIGCONT"),
    terminateBackends: () =>
      connect(async (client) => {
        const result = await client.query(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'",
        );
        return result.rowCount ?? 0;
      }),
    destroy: async () => {
      if (child) await stopChild(child, "SIGQUIT", { tree: true });
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export type PrivateRedis = {
  url: string;
  /** Starts it again on the same port and waits until it answers PING. */
  start(): Promise<void>;
  stop(): Promise<void>;
  destroy(): Promise<void>;
};

/** One PING over a fresh connection: resolves on +PONG. */
function ping(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.setTimeout(1_000, () => socket.destroy(new Error("no answer")));
    socket.once("error", reject);
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (data) => {
      socket.destroy();
      if (data.toString().startsWith("+PONG")) resolve();
      else reject(new Error(`unexpected answer ${data.toString()}`));
    });
  });
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const isDown = () => child === undefined || child.exitCode !== null || child.signalCode !== null;
  const start = async () => {
    const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
    child = track(spawn("redis-server", args, { stdio: "ignore" }));
    await waitUntil(`Redis on port ${port}`, () => ping(port), isDown);
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}/0`,
    start,
    stop: async () => {
      if (child) await stopChild(child, "SIGTERM", { tree: false });
    },
    destroy: async () => {
      if (child) await stopChild(child, "SIGKILL", { tree: false });
    },
  };
}

/** How a call that must fail failed, and how long it took; throws when it succeeds. */
export async function timedFailure(call: Promise<unknown>): Promise<{ error: unknown; elapsedMs: number }> {
  const startMs = performance.now();
  try {
    await call;
  } catch (error) {
    return { error, elapsedMs: performance.now() - startMs };
  }
  throw new Error("expected the call to fail");
}
