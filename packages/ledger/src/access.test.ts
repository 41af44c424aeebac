import * as fs from "node:fs";
import { Code, ConnectError, createContextValues, createHandlerContext } from "@connectrpc/connect";
import { LedgerService } from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import { principalKey, type Role, roles } from "@qenex/platform";
import { describe, expect, it } from "vitest";
import { accessCells, authorize, type LedgerMethod, ledgerAccess, ownerFilter, renderAccessTable } from "./access.js";

const readmePath = new URL("../README.md", import.meta.url);

/** The README's access table as RPC → role → cell, read from its Markdown. */
function readmeTable(): Map<string, Record<string, string>> {
  const text = fs.readFileSync(readmePath, "utf8");
  const start = text.indexOf("<!-- access-table");
  const end = text.indexOf("<!-- /access-table -->");
  if (start < 0 || end < start) throw new Error("README.md has no <!-- access-table --> … <!-- /access-table --> block");
  const rows = text
    .slice(start, end)
    .split("\n")
    .filter((line) => line.startsWith("|"))
    .map((line) =>
      line
        .slice(1, -1)
        .split("|")
        .map((cell) => cell.trim().replaceAll("`", "")),
    );
  const [header, , ...body] = rows;
  if (!header) throw new Error("README access table has no header");
  const table = new Map<string, Record<string, string>>();
  for (const [rpc, ...cells] of body) {
    if (rpc === undefined) continue;
    if (table.has(rpc)) throw new Error(`README access table lists ${rpc} twice`);
    table.set(rpc, Object.fromEntries(header.slice(1).map((role, i) => [role, cells[i] ?? ""])));
  }
  return table;
}

function contextOf(principal: { subject: string; roles: Role[] } | undefined) {
  const method = LedgerService.method.getAccount;
  const contextValues = createContextValues();
  if (principal) contextValues.set(principalKey, principal);
  return createHandlerContext({ service: LedgerService, method, protocolName: "connect", requestMethod: "POST", url: "/", contextValues });
}

function codeOf(run: () => unknown): Code | undefined {
  try {
    run();
  } catch (error) {
    return ConnectError.from(error).code;
  }
  return undefined;
}

describe("the access table", () => {
  it("has exactly one entry for every LedgerService RPC", () => {
    const methods = LedgerService.methods.map((method) => method.localName).sort();
    expect(Object.keys(ledgerAccess).sort()).toEqual(methods);
  });

  it("gives admin every RPC and customers none of the book-wide ones", () => {
    for (const [method, access] of Object.entries(ledgerAccess)) expect(access.roles, method).toContain("admin");
    for (const method of ["getTrialBalance", "reconcile", "verifyAudit", "reverseTransfer", "reopenAccount"] as const) {
      expect(ledgerAccess[method].customer, method).toBe("denied");
    }
  });

  it("lets auditors read everything and write nothing", () => {
    const reads = new Set<string>([
      "getAccount",
      "listAccounts",
      "getBalance",
      "getTransfer",
      "listTransfers",
      "watchTransfers",
      "getTrialBalance",
      "reconcile",
      "verifyAudit",
    ]);
    for (const method of LedgerService.methods.map((m) => m.localName as LedgerMethod)) {
      expect(ledgerAccess[method].roles.includes("auditor"), method).toBe(reads.has(method));
    }
  });

  it("is the table the README shows", () => {
    const fromCode = Object.fromEntries(accessCells());
    const fromReadme = Object.fromEntries(readmeTable());
    expect(fromReadme, `README.md out of date; paste this table:\n${renderAccessTable()}\n`).toEqual(fromCode);
    expect(Object.keys(Object.values(fromReadme)[0] ?? {})).toEqual([...roles]);
  });
});

describe("authorize", () => {
  it("refuses a call without a principal as unauthenticated", () => {
    expect(codeOf(() => authorize(contextOf(undefined), "getAccount"))).toBe(Code.Unauthenticated);
  });

  it("refuses a principal without a listed role", () => {
    expect(codeOf(() => authorize(contextOf({ subject: "a", roles: [] }), "getAccount"))).toBe(Code.PermissionDenied);
    expect(codeOf(() => authorize(contextOf({ subject: "a", roles: ["auditor"] }), "createTransfer"))).toBe(Code.PermissionDenied);
    expect(codeOf(() => authorize(contextOf({ subject: "a", roles: ["customer"] }), "reverseTransfer"))).toBe(Code.PermissionDenied);
  });

  it("limits a customer to its own accounts, unless it also holds a staff role", () => {
    expect(authorize(contextOf({ subject: "c1", roles: ["customer"] }), "getAccount")).toEqual({ subject: "c1", ownAccountsOnly: true });
    expect(authorize(contextOf({ subject: "c1", roles: ["customer", "auditor"] }), "getAccount")).toEqual({
      subject: "c1",
      ownAccountsOnly: false,
    });
    expect(authorize(contextOf({ subject: "s", roles: ["service"] }), "createTransfer")).toEqual({ subject: "s", ownAccountsOnly: false });
  });
});

describe("ownerFilter", () => {
  const customer = { subject: "c1", ownAccountsOnly: true };
  it("forces a customer's filter to its subject", () => {
    expect(ownerFilter(customer, "")).toBe("c1");
    expect(ownerFilter(customer, "c1")).toBe("c1");
  });

  it("denies a customer another owner's accounts", () => {
    expect(codeOf(() => ownerFilter(customer, "c2"))).toBe(Code.PermissionDenied);
  });

  it("leaves staff filters as asked", () => {
    expect(ownerFilter({ subject: "op", ownAccountsOnly: false }, "")).toBe("");
    expect(ownerFilter({ subject: "op", ownAccountsOnly: false }, "c2")).toBe("c2");
  });
});
