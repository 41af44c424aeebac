// Who may call which LedgerService RPC. The handlers enforce this one table, the README shows
// it (access.test.ts keeps the two equal) and rbac.test.ts walks it against a real server.
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { LedgerService, TransferKind } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { type Role, requireRole, roles } from "@qenex/platform";

/** A LedgerService method by its local name ("createAccount"). */
export type LedgerMethod = keyof typeof LedgerService.method;

/** Roles that act on every account; a customer acts only on the accounts it owns. */
export type StaffRole = Exclude<Role, "customer">;

/** "own accounts": a customer may call it for accounts whose owner_id is its subject. */
export type CustomerAccess = "own accounts" | "denied";

export type Access = { roles: readonly StaffRole[]; customer: CustomerAccess };

const readers: readonly StaffRole[] = ["admin", "operator", "auditor", "service"];
const movers: readonly StaffRole[] = ["admin", "operator", "service"];
const administrators: readonly StaffRole[] = ["admin", "operator"];

/**
 * The access table. Auditors read and write nothing; services (payments, risk) read, open
 * accounts and move money, but do not close accounts, set rates or verify the audit chain;
 * operators do all but reopen accounts; admins do everything.
 */
export const ledgerAccess: Readonly<Record<LedgerMethod, Access>> = {
  createAccount: { roles: movers, customer: "denied" },
  createAccounts: { roles: movers, customer: "denied" },
  getAccount: { roles: readers, customer: "own accounts" },
  listAccounts: { roles: readers, customer: "own accounts" },
  closeAccount: { roles: administrators, customer: "denied" },
  getBalance: { roles: readers, customer: "own accounts" },
  createTransfer: { roles: movers, customer: "own accounts" },
  createTransfers: { roles: movers, customer: "own accounts" },
  getTransfer: { roles: readers, customer: "own accounts" },
  listTransfers: { roles: readers, customer: "own accounts" },
  reopenAccount: { roles: ["admin"], customer: "denied" },
  reverseTransfer: { roles: movers, customer: "denied" },
  setExchangeRate: { roles: administrators, customer: "denied" },
  createFxTransfer: { roles: movers, customer: "own accounts" },
  getTrialBalance: { roles: readers, customer: "denied" },
  reconcile: { roles: readers, customer: "denied" },
  verifyAudit: { roles: ["admin", "operator", "auditor"], customer: "denied" },
  watchTransfers: { roles: readers, customer: "own accounts" },
};

/** What a caller may touch: every account, or (a customer) only the accounts it owns. */
export type Caller = { subject: string; ownAccountsOnly: boolean };

/** The caller of `method`, or PermissionDenied (Unauthenticated without a principal). */
export function authorize(ctx: HandlerContext, method: LedgerMethod): Caller {
  const access = ledgerAccess[method];
  const allowed: readonly Role[] = access.customer === "own accounts" ? [...access.roles, "customer"] : access.roles;
  const principal = requireRole(ctx, allowed);
  const staff = principal.roles.some((role) => role !== "customer" && access.roles.includes(role));
  return { subject: principal.subject, ownAccountsOnly: !staff };
}

/**
 * One answer for an account that belongs to someone else and one that does not exist, so a
 * customer cannot learn which ids exist.
 */
function notYours(caller: Caller): ConnectError {
  return new ConnectError(`${caller.subject} may only use accounts it owns`, Code.PermissionDenied);
}

/** For a customer: PermissionDenied unless the account exists and is the caller's. */
export function requireOwner(caller: Caller, account: { ownerId: string } | undefined): void {
  if (caller.ownAccountsOnly && account?.ownerId !== caller.subject) throw notYours(caller);
}

/** The owner filter a ListAccounts runs with: a customer's is always its own subject. */
export function ownerFilter(caller: Caller, requested: string): string {
  if (!caller.ownAccountsOnly) return requested;
  if (requested !== "" && requested !== caller.subject) throw notYours(caller);
  return caller.subject;
}

/** A customer watches one account of its own; everyone else may watch all. */
export function requireWatchable(caller: Caller, accountId: string, account: { ownerId: string } | undefined): void {
  if (caller.ownAccountsOnly && accountId === "") {
    throw new ConnectError(`${caller.subject} may only watch an account it owns: set account_id`, Code.PermissionDenied);
  }
  requireOwner(caller, account);
}

/** What the ownership checks read; the ledger store provides it. */
export type OwnershipLookup = {
  getAccount(id: string): Promise<{ ownerId: string } | undefined>;
  getTransfer(id: string): Promise<{ debitAccountId: string; creditAccountId: string } | undefined>;
};

/** For a customer: PermissionDenied unless one side of the transfer is the caller's account. */
export async function requireParty(
  lookup: OwnershipLookup,
  caller: Caller,
  transfer: { debitAccountId: string; creditAccountId: string } | undefined,
): Promise<void> {
  if (!caller.ownAccountsOnly) return;
  if (!transfer) throw notYours(caller);
  for (const accountId of [transfer.debitAccountId, transfer.creditAccountId]) {
    if ((await lookup.getAccount(accountId))?.ownerId === caller.subject) return;
  }
  throw notYours(caller);
}

type SourceOf = { kind: TransferKind; debitAccountId: string; pendingId: string };

const resolvesPending = new Set([TransferKind.POST_PENDING, TransferKind.VOID_PENDING]);

/**
 * For a customer: every transfer must debit one of the caller's accounts — for a post or void,
 * the pending transfer's source, which must already exist (a pending transfer created earlier
 * in the same batch could carry an id that is someone else's). One foreign item denies the
 * whole call before anything is written. Lookups stop at the first foreign item, so a customer
 * costs at most one lookup per account or pending transfer of its own, plus one.
 */
export async function requireOwnSources(lookup: OwnershipLookup, caller: Caller, transfers: readonly SourceOf[]): Promise<void> {
  if (!caller.ownAccountsOnly) return;
  const ownAccounts = new Set<string>();
  const ownPendings = new Set<string>();
  const requireAccount = async (accountId: string) => {
    if (ownAccounts.has(accountId)) return;
    requireOwner(caller, await lookup.getAccount(accountId));
    ownAccounts.add(accountId);
  };
  for (const transfer of transfers) {
    if (resolvesPending.has(transfer.kind)) {
      if (!ownPendings.has(transfer.pendingId)) {
        const pending = await lookup.getTransfer(transfer.pendingId);
        if (!pending) throw notYours(caller);
        await requireAccount(pending.debitAccountId);
        ownPendings.add(transfer.pendingId);
      }
      if (transfer.debitAccountId !== "") await requireAccount(transfer.debitAccountId);
    } else {
      await requireAccount(transfer.debitAccountId);
    }
  }
}

const yes = "✓";
const no = "✗";

/** The table as the README shows it: rows are RPCs, columns roles. */
export function accessCells(): Map<string, Record<Role, string>> {
  const rows = new Map<string, Record<Role, string>>();
  for (const method of LedgerService.methods) {
    const access = ledgerAccess[method.localName as LedgerMethod];
    const cells = Object.fromEntries(
      roles.map((role) => [role, role === "customer" ? (access.customer === "own accounts" ? "own accounts" : no) : cellOf(access, role)]),
    ) as Record<Role, string>;
    rows.set(method.name, cells);
  }
  return rows;
}

function cellOf(access: Access, role: StaffRole): string {
  return access.roles.includes(role) ? yes : no;
}

/** The README's table in Markdown, to paste when the table changes. */
export function renderAccessTable(): string {
  const header = `| RPC | ${roles.map((role) => `\`${role}\``).join(" | ")} |`;
  const rule = `| --- | ${roles.map(() => ":---:").join(" | ")} |`;
  const lines = [...accessCells()].map(([rpc, cells]) => `| \`${rpc}\` | ${roles.map((role) => cells[role]).join(" | ")} |`);
  return [header, rule, ...lines].join("\n");
}
