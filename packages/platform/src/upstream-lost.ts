// A call to another service whose connection was lost under it (the service died or
// restarted), as connect-node reports it: not ABORTED or CANCELED by anyone's choice, but
// "that service went away" — retryable with the same id, since every create is idempotent.
import { Code, ConnectError } from "@connectrpc/connect";

/** Node error codes of a connection lost mid-call; connect-node reports these as ABORTED. */
const lostConnectionCodes = new Set(["ECONNRESET", "EPIPE", "ERR_STREAM_DESTROYED", "ERR_HTTP2_INVALID_STREAM", "ERR_HTTP2_STREAM_CANCEL"]);

/**
 * True when the call failed because its connection went away. An HTTP/2 session closing
 * under a call resets the stream with CANCEL, which connect-node reports as CANCELED with
 * this message and no cause; `callerCanceled` tells it from a cancel the caller asked for.
 * A CANCELED or ABORTED the service itself sent is not a lost connection.
 */
export function upstreamWentAway(error: unknown, callerCanceled = false): boolean {
  if (!(error instanceof ConnectError)) return false;
  if (error.code === Code.Canceled) return !callerCanceled && /stream closed with error code CANCEL\b/.test(error.rawMessage);
  if (error.code !== Code.Aborted) return false;
  for (let cause: unknown = error.cause, depth = 0; cause instanceof Error && depth < 8; cause = cause.cause, depth++) {
    if (lostConnectionCodes.has(String((cause as { code?: unknown }).code))) return true;
  }
  return false;
}
