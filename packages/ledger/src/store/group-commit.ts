// Group commit: transfer requests that arrive while earlier ones are being written wait in
// a queue and are then written together, in one database transaction. Each request stays
// contiguous and its linked chains end with it, and planTransfers decides items in order,
// so every client sees exactly the results it would have seen alone. Under light load a
// request is written at once; under heavy load the queue turns many round trips into one.
// A group is written in a call scope of its own: it ends when any member's call ends, and
// then the group rolls back and is written again without the requests whose calls ended.
import { Code, ConnectError } from "@connectrpc/connect";
import { type CallScope, callEnded, currentCall, runInCall } from "@qenex/platform";
import type { TransferCommand, TransferOutcome } from "../domain/transfer.js";
import { transfersPerBatchMax } from "../domain/transfer.js";
import type { BatchOptions, BatchResult, CreatedTransfer } from "./transfer-batch.js";

export type RequestResult = { outcomes: TransferOutcome[]; created: ReadonlyMap<string, CreatedTransfer>; createdAt: Date };

export type GroupCommitter = { submit(commands: readonly TransferCommand[]): Promise<RequestResult> };

export type GroupCommitLimits = {
  /** Database transactions writing groups at the same time. */
  flushesInFlightMax: number;
  /** Transfers waiting in the queue before new requests are refused. */
  queuedTransfersMax: number;
  /** Transfers that must be waiting before a group starts while another is being written. */
  parallelGroupMin: number;
};

export const defaultGroupCommitLimits: GroupCommitLimits = { flushesInFlightMax: 3, queuedTransfersMax: 200_000, parallelGroupMin: 64 };

type Waiting = {
  commands: readonly TransferCommand[];
  /** The call that submitted the request: its deadline and abort signal. */
  call: CallScope;
  resolve: (result: RequestResult) => void;
  reject: (error: unknown) => void;
};

export function createGroupCommitter(
  write: (commands: TransferCommand[], options: BatchOptions) => Promise<BatchResult>,
  limits: GroupCommitLimits = defaultGroupCommitLimits,
): GroupCommitter {
  const queue: Waiting[] = [];
  let queuedTransfers = 0;
  let inFlight = 0;

  const takeGroup = (): Waiting[] => {
    const group: Waiting[] = [];
    let size = 0;
    while (queue.length > 0) {
      const next = queue[0] as Waiting;
      const ended = callEnded(whenEnded, next.call);
      if (ended) {
        queue.shift();
        queuedTransfers -= next.commands.length;
        next.reject(ended);
        continue;
      }
      if (group.length > 0 && size + next.commands.length > transfersPerBatchMax) break;
      queue.shift();
      group.push(next);
      size += next.commands.length;
    }
    queuedTransfers -= size;
    return group;
  };

  // A second group is started beside a running one only once enough is waiting: starting
  // it for a lone request would write groups of one that queue on the first group's locks.
  const mayStart = () =>
    queue.length > 0 && (inFlight === 0 || (inFlight < limits.flushesInFlightMax && queuedTransfers >= limits.parallelGroupMin));

  const flush = (): void => {
    while (mayStart()) {
      const group = takeGroup();
      // Every request waiting had its call end: nothing to write.
      if (group.length === 0) return;
      inFlight++;
      writeGroup(group).finally(() => {
        inFlight--;
        flush();
      });
    }
  };

  const writeGroup = async (group: Waiting[]): Promise<void> => {
    const commands = group.flatMap((w) => w.commands);
    const segmentEnds: number[] = [];
    let end = -1;
    for (const w of group) {
      end += w.commands.length;
      segmentEnds.push(end);
    }
    try {
      const result = await runInCall(groupScope(group), () => write(commands, { segmentEnds }));
      let start = 0;
      for (const w of group) {
        const outcomes = result.plan.outcomes.slice(start, start + w.commands.length);
        start += w.commands.length;
        w.resolve({ outcomes, created: result.created, createdAt: result.createdAt });
      }
    } catch (error) {
      // Requests whose calls ended get why; the others go back to the front of the queue, to
      // be written without them (each pass drops at least one, so this ends).
      const alive = group.filter((w) => {
        const ended = callEnded(whenEnded, w.call);
        if (ended) w.reject(ended);
        return !ended;
      });
      if (alive.length === group.length) {
        for (const w of group) w.reject(error);
        return;
      }
      queue.unshift(...alive);
      queuedTransfers += alive.reduce((sum, w) => sum + w.commands.length, 0);
    }
  };

  return {
    submit(commands) {
      if (queuedTransfers + commands.length > limits.queuedTransfersMax) {
        return Promise.reject(new ConnectError("the ledger is overloaded; retry later", Code.ResourceExhausted));
      }
      return new Promise<RequestResult>((resolve, reject) => {
        queue.push({ commands, call: currentCall(), resolve, reject });
        queuedTransfers += commands.length;
        flush();
      });
    },
  };
}

const whenEnded = "before its changes were committed; nothing was written";

/**
 * The scope a group is written in: statements may run until the latest member's deadline
 * (none if a member has none), and the group's signal aborts as soon as any member's call
 * ends, so that no statement starts and no COMMIT is sent for a caller that stopped waiting.
 */
function groupScope(group: readonly Waiting[]): CallScope {
  const nowMs = Date.now();
  const deadlines = group.map((w) => w.call.deadlineAtMs);
  const ends: AbortSignal[] = [];
  for (const { call } of group) {
    if (call.signal) ends.push(call.signal);
    if (call.deadlineAtMs !== undefined) ends.push(AbortSignal.timeout(Math.max(0, call.deadlineAtMs - nowMs)));
  }
  return {
    deadlineAtMs: deadlines.some((d) => d === undefined) ? undefined : Math.max(...(deadlines as number[])),
    signal: ends.length > 0 ? AbortSignal.any(ends) : undefined,
  };
}
