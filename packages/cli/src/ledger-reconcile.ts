// `qenex ledger reconcile`: asks a running ledger to recompute every balance from its
// transfers. Progress goes to stderr and the report to stdout, so `--json > report.json`
// stays clean; the exit code is the verdict, for cron jobs and CI.
import { parseArgs } from "node:util";
import { toJson } from "@bufbuild/protobuf";
import { ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import {
  LedgerService,
  type ReconcileProgress,
  type ReconcileReport,
  ReconcileReportSchema,
} from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { createAuth, loadConfig, resolveJwtSecret } from "@qenex/platform";

const synopsis = "qenex ledger reconcile [--url URL] [--token T] [--json]";

export const exitReconciled = 0;
export const exitNotReconciled = 1;
/** Bad arguments, or no answer from the ledger: the book was not checked. */
export const exitNotChecked = 2;

const urlDefault = "http://127.0.0.1:50051";
/** A minted token only has to outlive the call's start: the server checks it once. */
const mintedTokenTtlSeconds = 600;
const progressBarWidth = 30;

type ReconcileArgs = { url: string; token: string | undefined; json: boolean };

class ReconcileUsageError extends Error {}

function parseReconcileArgs(args: string[]): ReconcileArgs {
  let values: { url?: string | undefined; token?: string | undefined; json?: boolean | undefined };
  try {
    ({ values } = parseArgs({ args, options: { url: { type: "string" }, token: { type: "string" }, json: { type: "boolean" } } }));
  } catch (error) {
    throw new ReconcileUsageError((error as Error).message);
  }
  const url = values.url ?? urlDefault;
  if (!URL.canParse(url) || !["http:", "https:"].includes(new URL(url).protocol)) {
    throw new ReconcileUsageError(`--url must be an http:// or https:// URL, not "${url}"`);
  }
  return { url, token: values.token, json: values.json ?? false };
}

/** --token, else QENEX_TOKEN, else an auditor token signed with this machine's mesh secret. */
async function bearerToken(explicit: string | undefined): Promise<string> {
  const given = explicit || process.env.QENEX_TOKEN;
  if (given) return given;
  const config = loadConfig(process.env, { forServer: false });
  const auth = createAuth(resolveJwtSecret(config.jwtSecret, config.dataDir));
  return auth.issue({ subject: "qenex-ledger-reconcile", roles: ["auditor"] }, mintedTokenTtlSeconds);
}

type ProgressView = { show(progress: ReconcileProgress): void; finish(): void };

/** A redrawn bar on a terminal; one line per event when stderr is a file or a pipe (logs). */
function progressView(stream: NodeJS.WriteStream): ProgressView {
  if (!stream.isTTY) {
    return {
      show: (p) => stream.write(`reconcile: ${p.accountsChecked} of ${p.accountsTotal} accounts checked\n`),
      finish: () => {},
    };
  }
  let drawn = false;
  return {
    show(p) {
      const fraction = p.accountsTotal > 0n ? Number(p.accountsChecked) / Number(p.accountsTotal) : 1;
      const filled = Math.round(fraction * progressBarWidth);
      const bar = `${"#".repeat(filled)}${"-".repeat(progressBarWidth - filled)}`;
      stream.write(`\rreconciling [${bar}] ${Math.floor(fraction * 100)}% ${p.accountsChecked}/${p.accountsTotal} accounts`);
      drawn = true;
    },
    finish() {
      if (drawn) stream.write("\r\x1b[2K");
    },
  };
}

/** Streams Reconcile, showing each progress event, and returns the final report. */
async function fetchReport(args: ReconcileArgs, token: string, view: ProgressView): Promise<ReconcileReport> {
  const client = createClient(LedgerService, createGrpcTransport({ baseUrl: args.url }));
  try {
    for await (const res of client.reconcile({}, { headers: { authorization: `Bearer ${token}` } })) {
      if (res.event.case === "progress") view.show(res.event.value);
      if (res.event.case === "report") return res.event.value;
    }
  } finally {
    view.finish();
  }
  throw new ConnectError("the ledger ended the stream without a report");
}

export function isReconciled(report: ReconcileReport): boolean {
  return report.differencesTotal === 0n && report.currencies.every((c) => c.balanced);
}

/** Columns padded to their widest cell; numbers right-aligned so digits line up. */
function table(headers: readonly string[], rows: readonly string[][], rightAligned: ReadonlySet<number>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (rightAligned.has(i) ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(headers), ...rows.map(line)].join("\n");
}

function reportText(report: ReconcileReport): string {
  const parts = [`accounts checked: ${report.accountsChecked}`, `differences: ${report.differencesTotal}`];
  if (report.differences.length > 0) {
    const rows = report.differences.map((d) => [d.accountId, d.currency, d.field, d.stored?.amount ?? "", d.recomputed?.amount ?? ""]);
    parts.push("", table(["ACCOUNT", "CURRENCY", "FIELD", "STORED", "RECOMPUTED"], rows, new Set([3, 4])));
    const unlisted = report.differencesTotal - BigInt(report.differences.length);
    if (unlisted > 0n) parts.push(`(${unlisted} more not listed)`);
  }
  const totals = report.currencies.map((c) => [
    c.currency,
    c.debitsPosted?.amount ?? "",
    c.creditsPosted?.amount ?? "",
    c.debitsPending?.amount ?? "",
    c.creditsPending?.amount ?? "",
    c.balanced ? "yes" : "NO",
  ]);
  const headers = ["CURRENCY", "DEBITS POSTED", "CREDITS POSTED", "DEBITS PENDING", "CREDITS PENDING", "BALANCED"];
  parts.push("", table(headers, totals, new Set([1, 2, 3, 4])), "");
  parts.push(isReconciled(report) ? "reconciled: every balance matches its transfers and every currency balances" : "NOT RECONCILED");
  return `${parts.join("\n")}\n`;
}

/** Runs the command; resolves with the process exit code. */
export async function ledgerReconcile(argv: string[]): Promise<number> {
  let args: ReconcileArgs;
  try {
    args = parseReconcileArgs(argv);
  } catch (error) {
    if (!(error instanceof ReconcileUsageError)) throw error;
    process.stderr.write(`qenex: ${error.message}\nusage: ${synopsis}\n`);
    return exitNotChecked;
  }
  let report: ReconcileReport;
  try {
    report = await fetchReport(args, await bearerToken(args.token), progressView(process.stderr));
  } catch (error) {
    if (!(error instanceof ConnectError)) throw error;
    process.stderr.write(`qenex: ledger reconcile against ${args.url} failed: ${error.message}\n`);
    return exitNotChecked;
  }
  const output = args.json
    ? `${JSON.stringify(toJson(ReconcileReportSchema, report, { alwaysEmitImplicit: true }), null, 2)}\n`
    : reportText(report);
  process.stdout.write(output);
  return isReconciled(report) ? exitReconciled : exitNotReconciled;
}
