// N processes of one service on one port (node:cluster), so a stateless service uses every
// core. The primary only forks, restarts and relays; the workers serve. Without Redis the
// primary also holds the in-process store the edge's workers share (idempotency records), so
// a retry answered by another worker still finds its key.
import cluster, { type Worker } from "node:cluster";
import { createMemoryKv, type Kv, type Logger } from "@qenex/platform";
import { isReady, nextRestart, type RestartBackoff } from "./mesh-services.js";

/** How long a worker may take to start serving before it counts as failed. */
const workerStartTimeoutMs = 120_000;
/** A worker that ran half a minute before it died counts as healthy. */
const workerRestart: RestartBackoff = { delayMsMin: 250, delayMsMax: 10_000, healthyRunMs: 30_000 };
/** Longest a kv call to the primary may take. */
const kvCallTimeoutMs = 2_000;

type KvOp = "get" | "set" | "incrBy" | "mget" | "incrByMany" | "del" | "ping";
type KvRequest = { qenexKv: { id: number; op: KvOp; args: unknown[] } };
type KvReply = { qenexKvReply: { id: number; value?: unknown; error?: string } };

/** The primary: forks `count` workers, resolves with the URL once every one serves. */
export async function runWorkers(options: {
  service: string;
  count: number;
  logger: Logger;
  /** Share one in-process kv among the workers (no REDIS_URL). */
  shareKv: boolean;
}): Promise<{ url: string; stop(): Promise<void> }> {
  const { service, count, logger } = options;
  cluster.setupPrimary({ exec: process.argv[1] as string, args: ["serve", service], execArgv: process.execArgv });
  const kv = options.shareKv ? createMemoryKv() : undefined;
  let stopping = false;
  let url: string | undefined;
  let consecutiveFailures = 0;

  const fork = (): Promise<string> =>
    new Promise((resolve, reject) => {
      const startedAtMs = Date.now();
      const worker = cluster.fork({ QENEX_WORKERS: String(count), QENEX_KV_IN_PRIMARY: kv ? "1" : "" });
      const timer = setTimeout(
        () => reject(new Error(`${service} worker did not start within ${workerStartTimeoutMs} ms`)),
        workerStartTimeoutMs,
      );
      worker.on("message", (message: unknown) => {
        if (isReady(message)) {
          clearTimeout(timer);
          resolve(message.qenexReady.url);
        } else if (kv && isKvRequest(message)) {
          answerKv(kv, worker, message);
        }
      });
      worker.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${service} worker exited (${signal ?? `code ${code}`}) before it served`));
        if (stopping || url === undefined) return;
        const next = nextRestart(workerRestart, consecutiveFailures, Date.now() - startedAtMs);
        consecutiveFailures = next.failures;
        const { delayMs } = next;
        logger.warn({ worker: worker.process.pid, code, signal, restartInMs: delayMs }, `${service} worker exited; restarting it`);
        setTimeout(() => {
          if (!stopping) fork().catch((error: unknown) => logger.error({ err: error }, `${service} worker failed to start`));
        }, delayMs);
      });
    });

  const urls = await Promise.all(Array.from({ length: count }, fork));
  url = urls[0] as string;
  return {
    url,
    async stop() {
      stopping = true;
      const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
      await Promise.all(
        workers.map(
          (worker) =>
            new Promise<void>((resolve) => {
              if (worker.isDead()) return resolve();
              worker.once("exit", () => resolve());
              worker.process.kill("SIGTERM");
            }),
        ),
      );
      await kv?.close();
    },
  };
}

function isKvRequest(message: unknown): message is KvRequest {
  return typeof message === "object" && message !== null && "qenexKv" in message;
}

function answerKv(kv: Kv, worker: Worker, message: KvRequest): void {
  const { id, op, args } = message.qenexKv;
  const method = kv[op] as (...a: unknown[]) => Promise<unknown>;
  // A worker that died meanwhile cannot be answered; its exit is handled elsewhere.
  const reply = (message: KvReply) => {
    if (worker.isConnected()) worker.send(message, undefined, {}, () => {});
  };
  method.apply(kv, args).then(
    (value) => reply({ qenexKvReply: { id, value } }),
    (error: unknown) => reply({ qenexKvReply: { id, error: (error as Error).message } }),
  );
}

/** In a cluster worker whose primary holds the kv: a Kv that asks the primary. Else undefined. */
export function createWorkerKv(): Kv | undefined {
  if (!cluster.isWorker || process.env.QENEX_KV_IN_PRIMARY !== "1") return undefined;
  let nextId = 1;
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  process.on("message", (message: unknown) => {
    if (typeof message !== "object" || message === null || !("qenexKvReply" in message)) return;
    const { id, value, error } = (message as KvReply).qenexKvReply;
    const waiter = pending.get(id);
    pending.delete(id);
    if (error !== undefined) waiter?.reject(new Error(error));
    else waiter?.resolve(value);
  });
  const call = <T>(op: KvOp, ...args: unknown[]): Promise<T> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`kv unavailable: the primary did not answer ${op} within ${kvCallTimeoutMs} ms`));
      }, kvCallTimeoutMs);
      pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value as T);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      process.send?.({ qenexKv: { id, op, args } } satisfies KvRequest, undefined, {}, (error: Error | null) => {
        if (error) pending.get(id)?.reject(new Error(`kv unavailable: ${error.message}`));
      });
    });
  return {
    kind: "memory",
    get: (key) => call("get", key),
    set: (key, value, ttlMs) => call("set", key, value, ttlMs),
    incrBy: (key, delta, ttlMs) => call("incrBy", key, delta, ttlMs),
    // Structured clone over IPC turns undefined in an array into null.
    mget: async (keys) => (await call<(string | null)[]>("mget", keys)).map((value) => value ?? undefined),
    incrByMany: (increments) => call("incrByMany", increments),
    del: (key) => call("del", key),
    ping: () => call("ping"),
    close: async () => {},
  };
}

/** How many workers share this process's service (1 outside a cluster). */
export function workerCount(): number {
  return cluster.isWorker ? Number(process.env.QENEX_WORKERS ?? "1") || 1 : 1;
}
