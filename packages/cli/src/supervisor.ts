// `qenex start`: every service in a child process of its own (`qenex serve NAME`), all started
// at once (each port is chosen first, so every URL is known before any service runs; a
// service that calls another before it serves retries), restarted with backoff when one dies.
// Children run in process groups of their own so a terminal's Ctrl-C reaches only the
// supervisor, which stops the edge first and the ledger last; a child whose supervisor
// vanishes stops itself (its IPC channel closes).
import { type ChildProcess, spawn } from "node:child_process";
import * as net from "node:net";
import { type Config, serviceStorage } from "@qenex/platform/config";
import type { Logger } from "@qenex/platform/logger";
import { resolveJwtSecret, resolveSecret } from "@qenex/platform/secrets";
import { splitLegacyDataDir } from "./legacy-layout.js";
import { isReady, type MeshService, nextRestart, portVariable, type RestartBackoff, urlVariable } from "./mesh-services.js";

/** Stop order: each service before those it calls. */
const stopWaves: readonly (readonly MeshService[])[] = [["edge"], ["payments"], ["risk"], ["ledger", "auth"]];
/** Longest a service may take to serve (migrations on a large embedded database included). */
const startTimeoutMs = 180_000;
/** A service that served a minute before it died counts as healthy: its next restart comes at once. */
const serviceRestart: RestartBackoff = { delayMsMin: 250, delayMsMax: 30_000, healthyRunMs: 60_000 };
/** Time a child gets beyond its own shutdown grace before it is killed. */
const stopMarginMs = 5_000;

export type SupervisorOptions = {
  config: Config;
  logger: Logger;
  /** Processes per service (node:cluster); services not named run one. */
  workers: Partial<Record<MeshService, number>>;
  /** The argv that runs `qenex` in this Node (loader flags included). */
  command: { execPath: string; execArgv: readonly string[]; main: string };
};

type Child = {
  name: MeshService;
  /** The port it serves on: configured, or a free one chosen once and kept across restarts. */
  port: number;
  url: string;
  process?: ChildProcess;
  /** Set once it served: from then on an exit means a restart. */
  served: boolean;
  consecutiveFailures: number;
};

export type Supervisor = { urls: Record<MeshService, string>; stop(): Promise<void> };

export async function supervise(options: SupervisorOptions): Promise<Supervisor> {
  const { config, logger } = options;
  // Generated once here, before any child could race another to create them.
  resolveJwtSecret(config.jwtSecret, config.dataDir);
  resolveSecret(config.auditKey, config.dataDir, "audit-key");
  const split = splitLegacyDataDir(config);
  if (split) logger.warn(split);

  const configuredPort: Record<MeshService, number> = {
    ledger: config.ledgerPort,
    auth: config.authPort,
    risk: config.riskPort,
    payments: config.paymentsPort,
    edge: config.edgePort,
  };
  const scheme = config.tls ? "https" : "http";
  const shownHost = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
  const children = new Map<MeshService, Child>();
  const names = stopWaves.flat();
  const chosenPorts = await freePorts(config.host, names.filter((name) => !configuredPort[name]).length);
  for (const name of names) {
    const port = configuredPort[name] || (chosenPorts.shift() as number);
    children.set(name, { name, port, url: `${scheme}://${shownHost}:${port}`, served: false, consecutiveFailures: 0 });
  }
  let stopping = false;

  const envOf = (child: Child): NodeJS.ProcessEnv => {
    const env: NodeJS.ProcessEnv = { ...process.env, [portVariable[child.name]]: String(child.port) };
    for (const [service, variable] of Object.entries(urlVariable)) env[variable] = children.get(service as MeshService)?.url;
    return env;
  };

  /** Spawns the child and resolves with its URL once it serves; rejects if it exits first. */
  const launch = (child: Child): Promise<string> =>
    new Promise((resolve, reject) => {
      const workers = options.workers[child.name] ?? 1;
      const args = [...options.command.execArgv, ...embeddedFlags(config, child.name), options.command.main, "serve", child.name];
      if (workers > 1) args.push("--workers", String(workers));
      const proc = spawn(options.command.execPath, args, {
        env: envOf(child),
        stdio: ["ignore", "inherit", "inherit", "ipc"],
        detached: true,
      });
      child.process = proc;
      const startedAtMs = Date.now();
      const timer = setTimeout(() => {
        proc.kill("SIGKILL");
        reject(new Error(`${child.name} did not serve within ${startTimeoutMs} ms`));
      }, startTimeoutMs);
      proc.on("message", (message: unknown) => {
        if (!isReady(message)) return;
        clearTimeout(timer);
        resolve(message.qenexReady.url);
      });
      proc.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${child.name} exited (${signal ?? `code ${code}`}) before it served`));
        if (stopping || !child.served) return;
        const { failures, delayMs } = nextRestart(serviceRestart, child.consecutiveFailures, Date.now() - startedAtMs);
        child.consecutiveFailures = failures;
        logger.warn({ service: child.name, pid: proc.pid, code, signal, restartInMs: delayMs }, `${child.name} exited; restarting it`);
        // Not unref'd: with every child dead, this timer is what keeps the supervisor alive.
        setTimeout(() => restart(child), delayMs);
      });
    });

  const restart = (child: Child) => {
    if (stopping) return;
    launch(child).then(
      () => logger.info({ service: child.name, pid: child.process?.pid }, `${child.name} serving again`),
      // Its exit handler schedules the next try.
      (error: unknown) => logger.error({ service: child.name, err: error }, `${child.name} failed to restart`),
    );
  };

  const stop = async () => {
    stopping = true;
    for (const wave of stopWaves) {
      await Promise.all(wave.map((name) => stopChild(children.get(name), config.shutdownGraceMs + stopMarginMs)));
    }
  };

  try {
    await Promise.all(
      [...children.values()].map(async (child) => {
        await launch(child);
        child.served = true;
        // Over TLS the supervisor has no CA to trust the services' certificates with (yet):
        // their ready message, sent once they serve, stands in for the health check.
        if (config.tls === undefined) await untilHealthy(child);
      }),
    );
  } catch (error) {
    await stop();
    throw error;
  }
  const urls = Object.fromEntries([...children].map(([name, child]) => [name, child.url])) as Record<MeshService, string>;
  return { urls, stop };
}

/**
 * V8 flags for a service on an embedded PGlite. Liftoff alone (no optimising tier for the
 * WebAssembly PostgreSQL) takes about 50 MB less per process for about a quarter slower SQL,
 * measured on a transfer-like workload: the embedded default is for trying the mesh on one
 * machine, where memory counts more. --expose-gc lets it drop initdb's memory at once.
 */
function embeddedFlags(config: Config, name: MeshService): string[] {
  if (name === "edge" || serviceStorage(config, name).databaseUrl !== undefined) return [];
  return ["--liftoff-only", "--expose-gc"];
}

/** How often, and how many times, the supervisor asks a new service's GET /health. */
const healthPollMs = 100;
const healthPollsMax = 600;

/**
 * Waits until the service's own GET /health says it can serve (its database answers), as a
 * load balancer would, before the mesh is announced.
 */
async function untilHealthy(child: Child): Promise<void> {
  let last = "no answer";
  for (let poll = 0; poll < healthPollsMax; poll++) {
    const res = await fetch(`${child.url}/health`, { signal: AbortSignal.timeout(2_000) }).catch((error: Error) => error);
    if (!(res instanceof Error) && res.ok) return;
    last = res instanceof Error ? res.message : `HTTP ${res.status} ${await res.text()}`;
    await new Promise((resolve) => setTimeout(resolve, healthPollMs));
  }
  throw new Error(`${child.name} did not become healthy: ${last}`);
}

/**
 * `count` distinct ports free right now, for services configured with port 0 (tests, benches).
 * Every probe stays bound until all are chosen: one closed first could be handed out again,
 * and two services given one port (seen: ledger and risk both on one, risk EADDRINUSE).
 */
async function freePorts(host: string, count: number): Promise<number[]> {
  const probes: net.Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const probe = net.createServer();
      probes.push(probe);
      ports.push(
        await new Promise<number>((resolve, reject) => {
          probe.once("error", reject);
          probe.listen(0, host, () => resolve((probe.address() as net.AddressInfo).port));
        }),
      );
    }
    return ports;
  } finally {
    await Promise.all(probes.map((probe) => new Promise((resolve) => probe.close(resolve))));
  }
}

async function stopChild(child: Child | undefined, killAfterMs: number): Promise<void> {
  const proc = child?.process;
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  proc.kill("SIGTERM");
  const timer = setTimeout(() => proc.kill("SIGKILL"), killAfterMs);
  await exited;
  clearTimeout(timer);
}
