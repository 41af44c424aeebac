// The ledger and risk services as the payments service calls them: generated clients (Connect
// over HTTP/2, createMeshTransport) with a service token, a deadline on every call, a short retry for transient failures
// (every call made here is idempotent: ledger ids and risk transaction ids are the payment's),
// and a circuit breaker per upstream so a service that is down is not hammered by every job.
import { type Client, Code, ConnectError, createClient } from "@connectrpc/connect";
import { LedgerService } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { RiskService } from "@qenex/gen/qenex/risk/v1/risk_pb.js";
import { type Auth, bearerInterceptor, createMeshTransport, serviceTokens, upstreamWentAway } from "@qenex/platform";
import { BrokenCircuitError, ConsecutiveBreaker, circuitBreaker, ExponentialBackoff, handleWhen, retry, wrap } from "cockatiel";

/** Every upstream call's deadline. */
export const upstreamTimeoutMs = 5_000;

const transientCodes = new Set([Code.Unavailable, Code.DeadlineExceeded, Code.ResourceExhausted, Code.Aborted, Code.Unknown]);

export function isTransient(error: unknown): boolean {
  if (error instanceof BrokenCircuitError || upstreamWentAway(error)) return true;
  return transientCodes.has(ConnectError.from(error).code);
}

export type Guarded<S> = {
  client: S;
  /** Runs `call` under the upstream's retry and circuit breaker; passes a signal and the deadline. */
  call<T>(call: (options: { signal: AbortSignal; timeoutMs: number }) => Promise<T>): Promise<T>;
};

function guard<S>(client: S): Guarded<S> {
  const breaker = circuitBreaker(handleWhen(isTransient), { halfOpenAfter: 5_000, breaker: new ConsecutiveBreaker(5) });
  const retries = retry(handleWhen(isTransient), { maxAttempts: 2, backoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 500 }) });
  const policy = wrap(retries, breaker);
  return {
    client,
    call: (call) => policy.execute(({ signal }) => call({ signal, timeoutMs: upstreamTimeoutMs })),
  };
}

export type Upstreams = {
  ledger: Guarded<Client<typeof LedgerService>>;
  risk: Guarded<Client<typeof RiskService>>;
};

export function createUpstreams(options: { ledgerUrl: string; riskUrl: string; auth: Auth }): Upstreams {
  // A call may carry its own token (an analyst's, for the alert it closes); the rest go as the service.
  const bearer = bearerInterceptor(serviceTokens(options.auth, "payments"));
  const transport = (baseUrl: string) => createMeshTransport({ baseUrl, interceptors: [bearer] });
  return {
    ledger: guard(createClient(LedgerService, transport(options.ledgerUrl))),
    risk: guard(createClient(RiskService, transport(options.riskUrl))),
  };
}
