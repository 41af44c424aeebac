// Group commit: transfer requests that arrive while earlier ones are being written wait in
// a queue and are then written together, in one database transaction. Each request stays
// contiguous and its linked chains end with it, and planTransfers decides items in order,
// so every client sees exactly the results it would have seen alone. Under light load a
// request is written at once; under heavy load the queue turns many round trips into one.
import { Code, ConnectError } from "@connectrpc/connect";
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
      const result = await write(commands, { segmentEnds });
      let start = 0;
      for (const w of group) {
        const outcomes = result.plan.outcomes.slice(start, start + w.commands.length);
        start += w.commands.length;
        w.resolve({ outcomes, created: result.created, createdAt: result.createdAt });
      }
    } catch (error) {
      for (const w of group) w.reject(error);
    }
  };

  return {
    submit(commands) {
      if (queuedTransfers + commands.length > limits.queuedTransfersMax) {
        return Promise.reject(new ConnectError("the ledger is overloaded; retry later", Code.ResourceExhausted));
      }
      return new Promise<RequestResult>((resolve, reject) => {
        queue.push({ commands, resolve, reject });
        queuedTransfers += commands.length;
        flush();
      });
    },
  };
}
