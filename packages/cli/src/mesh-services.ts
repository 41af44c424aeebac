// The services `qenex start` runs and how the processes find each other. Kept free of heavy
// imports: the supervisor loads this, not the services' code.

export const meshServices = ["ledger", "auth", "risk", "payments", "edge"] as const;
export type MeshService = (typeof meshServices)[number];

export function isMeshService(name: string): name is MeshService {
  return (meshServices as readonly string[]).includes(name);
}

/** The port variable of each service, as the supervisor sets it for a child. */
export const portVariable: Record<MeshService, string> = {
  ledger: "QENEX_LEDGER_PORT",
  auth: "QENEX_AUTH_PORT",
  risk: "QENEX_RISK_PORT",
  payments: "QENEX_PAYMENTS_PORT",
  edge: "QENEX_EDGE_PORT",
};

/** The URL variable other processes find each service by. */
export const urlVariable: Record<Exclude<MeshService, "edge">, string> = {
  ledger: "QENEX_LEDGER_URL",
  auth: "QENEX_AUTH_URL",
  risk: "QENEX_RISK_URL",
  payments: "QENEX_PAYMENTS_URL",
};

/** What a serving process tells whoever started it (a supervisor, a cluster primary). */
export type ReadyMessage = { qenexReady: { service: string; url: string } };

export function isReady(message: unknown): message is ReadyMessage {
  return typeof message === "object" && message !== null && "qenexReady" in message;
}

/** Backoff of a process restarted after it died: the supervisor's services and a cluster's workers. */
export type RestartBackoff = { delayMsMin: number; delayMsMax: number; healthyRunMs: number };

/**
 * How long to wait before restarting a process that ran `ranMs`, and its new failure count:
 * one that ran `healthyRunMs` restarts after the minimum; each quick failure doubles the wait.
 */
export function nextRestart(backoff: RestartBackoff, failures: number, ranMs: number): { failures: number; delayMs: number } {
  const next = ranMs >= backoff.healthyRunMs ? 0 : failures + 1;
  return { failures: next, delayMs: Math.min(backoff.delayMsMax, backoff.delayMsMin * 2 ** Math.max(0, next - 1)) };
}
