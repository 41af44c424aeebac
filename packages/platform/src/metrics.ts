// Prometheus metrics in go-grpc-prometheus's names, served at GET /metrics.
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export type Metrics = { registry: Registry; interceptor: Interceptor };

const grpcTypes = {
  unary: "unary",
  server_streaming: "server_stream",
  client_streaming: "client_stream",
  bidi_streaming: "bidi_stream",
} as const;

export function createMetrics(registry: Registry = new Registry()): Metrics {
  collectDefaultMetrics({ register: registry });
  const labelNames = ["grpc_type", "grpc_service", "grpc_method"] as const;
  const started = new Counter({
    name: "grpc_server_started_total",
    help: "RPCs started on the server.",
    labelNames,
    registers: [registry],
  });
  const handled = new Counter({
    name: "grpc_server_handled_total",
    help: "RPCs completed on the server, by code.",
    labelNames: [...labelNames, "grpc_code"],
    registers: [registry],
  });
  const seconds = new Histogram({
    name: "grpc_server_handling_seconds",
    help: "Time to handle an RPC, until the response message (unary) or stream start.",
    labelNames,
    registers: [registry],
  });
  const interceptor: Interceptor = (next) => async (req) => {
    const labels = {
      grpc_type: grpcTypes[req.method.methodKind],
      grpc_service: req.service.typeName,
      grpc_method: req.method.name,
    };
    started.inc(labels);
    const end = seconds.startTimer(labels);
    try {
      const res = await next(req);
      handled.inc({ ...labels, grpc_code: "OK" });
      return res;
    } catch (error) {
      handled.inc({ ...labels, grpc_code: Code[ConnectError.from(error).code] ?? "Unknown" });
      throw error;
    } finally {
      end();
    }
  };
  return { registry, interceptor };
}

/**
 * SEED.md's process-level gauges: qenex_active_connections (database connections open) and
 * qenex_system_health (100 while the process is ready, 0 when not).
 */
export function registerProcessGauges(registry: Registry, sources: { connections: () => number; ready: () => Promise<boolean> }): void {
  new Gauge({
    name: "qenex_active_connections",
    help: "Database connections open in this process's pool.",
    registers: [registry],
    collect() {
      this.set(sources.connections());
    },
  });
  new Gauge({
    name: "qenex_system_health",
    help: "Overall health, 0-100: 100 while the process and its database answer.",
    registers: [registry],
    async collect() {
      this.set((await sources.ready().catch(() => false)) ? 100 : 0);
    },
  });
}
