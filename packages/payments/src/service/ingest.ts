// IngestMessage: an inbound MT103, pacs.008 or NACHA file, read whole (a malformed one is
// refused, naming the line or element), each beneficiary credited from the rail's settlement
// account once. Transfer ids come from the message id, so ingesting again (or finishing an
// ingest cut short) never credits twice; the first outcome is stored and answered again.
import { createHash } from "node:crypto";
import { create, fromJsonString, toJsonString } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { CreateTransferStatus, TransferKind } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import {
  EntryStatus,
  type IngestedEntry,
  IngestedEntrySchema,
  type IngestMessageResponse,
  IngestMessageResponseSchema,
  MessageFormat,
} from "@qenex/gen/qenex/payments/v1/payments_pb.js";
import { DomainError, formatMoney } from "@qenex/platform";
import { type InboundEntry, InboundError, type InboundMessage, parseInbound } from "../rails/inbound.js";
import type { PaymentStore } from "../store/payment-store.js";
import type { Rail } from "../validation/rails.js";
import { badInput, ledgerAccountId } from "./payment-request.js";
import { settlementAccount } from "./processor.js";
import type { Upstreams } from "./upstreams.js";

/** Entries credited per ledger call. */
const ingestBatchSize = 1000;

const creditedStatuses = new Set([CreateTransferStatus.CREATED, CreateTransferStatus.EXISTS]);
const noAccountStatuses = new Set([
  CreateTransferStatus.DESTINATION_ACCOUNT_NOT_FOUND,
  CreateTransferStatus.DESTINATION_ACCOUNT_CLOSED,
  CreateTransferStatus.CURRENCY_MISMATCH,
]);

function entryOf(entry: InboundEntry, outcome: { status: EntryStatus; transferId?: string; reason?: string }): IngestedEntry {
  return create(IngestedEntrySchema, {
    index: entry.index,
    creditorAccount: entry.creditorAccount,
    creditorName: entry.creditorName,
    amount: { currency: entry.currency, amount: formatMoney(entry.amountMinor, entry.currency) },
    reference: entry.reference,
    ...outcome,
  });
}

export function createIngest(deps: {
  store: PaymentStore;
  upstreams: Upstreams;
  ensureSettlementAccount(rail: Rail, currency: string): Promise<string>;
}): (content: string) => Promise<IngestMessageResponse> {
  const { store, upstreams } = deps;

  function answerFromEarlier(earlier: { contentHash: string; result: string }, contentHash: string, messageId: string) {
    if (earlier.contentHash !== contentHash) {
      throw new DomainError(Code.AlreadyExists, `message ${messageId} was ingested before with different content`, "content");
    }
    return { ...fromJsonString(IngestMessageResponseSchema, earlier.result), existed: true };
  }

  /** Credits one batch of entries that name ledger accounts, in one ledger call. */
  async function credit(inbound: InboundMessage, batch: readonly InboundEntry[], rail: Rail, idPrefix: string): Promise<IngestedEntry[]> {
    for (const currency of new Set(batch.map((entry) => entry.currency))) await deps.ensureSettlementAccount(rail, currency);
    const response = await upstreams.ledger.call((options) =>
      upstreams.ledger.client.createTransfers(
        {
          transfers: batch.map((entry) => ({
            transferId: `${idPrefix}-${entry.index}`,
            sourceAccount: settlementAccount(rail, entry.currency),
            destinationAccount: entry.creditorAccount,
            amount: formatMoney(entry.amountMinor, entry.currency),
            currency: entry.currency,
            reference: `inbound ${inbound.format} ${inbound.messageId} #${entry.index} ${entry.reference}`.slice(0, 256),
            kind: TransferKind.TRANSFER,
          })),
        },
        options,
      ),
    );
    return batch.map((entry, i) => {
      const result = response.results[i];
      if (result && creditedStatuses.has(result.status))
        return entryOf(entry, { status: EntryStatus.CREDITED, transferId: `${idPrefix}-${entry.index}` });
      if (result && noAccountStatuses.has(result.status)) return entryOf(entry, { status: EntryStatus.NO_ACCOUNT, reason: result.message });
      const status = result ? CreateTransferStatus[result.status] : "no result";
      throw new DomainError(Code.Internal, `ledger refused entry ${entry.index}: ${status}; ingest again to finish`);
    });
  }

  return async (content) => {
    let inbound: InboundMessage;
    try {
      inbound = parseInbound(content);
    } catch (error) {
      if (error instanceof InboundError) throw badInput(`message refused: ${error.message}`, "content");
      throw error;
    }
    const messageId = `${inbound.format}:${inbound.messageId}`;
    const contentHash = createHash("sha256").update(content).digest("hex");
    const earlier = await store.ingested(store.db, messageId);
    if (earlier) return answerFromEarlier(earlier, contentHash, messageId);
    const rail: Rail = inbound.format === "NACHA" ? "ACH" : "SWIFT";
    const idPrefix = `in-${createHash("sha256").update(messageId).digest("hex").slice(0, 24)}`;
    const entries: IngestedEntry[] = [];
    for (let start = 0; start < inbound.entries.length; start += ingestBatchSize) {
      const slice = inbound.entries.slice(start, start + ingestBatchSize);
      // A beneficiary named only by its bank (MT103 :59A:) has no account of ours to credit.
      for (const entry of slice.filter((e) => !ledgerAccountId.test(e.creditorAccount))) {
        const reason =
          entry.creditorAccount === ""
            ? "the message names no beneficiary account"
            : `"${entry.creditorAccount}" is not an account id of ours`;
        entries.push(entryOf(entry, { status: EntryStatus.NO_ACCOUNT, reason }));
      }
      const batch = slice.filter((e) => ledgerAccountId.test(e.creditorAccount));
      if (batch.length > 0) entries.push(...(await credit(inbound, batch, rail, idPrefix)));
    }
    entries.sort((a, b) => a.index - b.index);
    const response = create(IngestMessageResponseSchema, { messageId, format: MessageFormat[inbound.format], entries, existed: false });
    if (!(await store.recordIngest(messageId, inbound.format, contentHash, toJsonString(IngestMessageResponseSchema, response)))) {
      // Another call ingested it at the same time: its outcome (the same transfers) stands.
      const recorded = await store.ingested(store.db, messageId);
      if (recorded) return answerFromEarlier(recorded, contentHash, messageId);
    }
    return response;
  };
}
