// GetTrialBalance and Reconcile: read-only checks that the stored balance counters agree
// with the transfers they were built from, and that each currency's book balances.
import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  type AccountDifference,
  AccountDifferenceSchema,
  type CurrencyTotals,
  CurrencyTotalsSchema,
  type LedgerService,
  type ReconcileResponse,
  ReconcileResponseSchema,
} from "@qenex/gen/qenex/ledger/v1/ledger_pb.js";
import type { Db } from "@qenex/platform";
import { authorize } from "../access.js";
import { money } from "../convert.js";
import { type CounterDifference, type CurrencyTotalsMinor, createReconcileStore, isBalanced, type PageCheck } from "./reconcile-store.js";

/** Accounts per statement: large enough to keep round trips few, small enough that one
 * page's sums stay a short query and progress moves often. */
const accountsPerPage = 500;
/** The report lists at most this many differences, so a badly broken book still fits in one
 * message; `differences_total` counts them all. */
export const differencesListedMax = 1000;

function currencyTotalsMessage(totals: CurrencyTotalsMinor): CurrencyTotals {
  const m = (amountMinor: bigint) => money(amountMinor, totals.currency);
  return create(CurrencyTotalsSchema, {
    currency: totals.currency,
    debitsPosted: m(totals.debitsPostedMinor),
    creditsPosted: m(totals.creditsPostedMinor),
    debitsPending: m(totals.debitsPendingMinor),
    creditsPending: m(totals.creditsPendingMinor),
    balanced: isBalanced(totals),
  });
}

function differenceMessage(difference: CounterDifference): AccountDifference {
  return create(AccountDifferenceSchema, {
    accountId: difference.accountId,
    currency: difference.currency,
    field: difference.field,
    stored: money(difference.storedMinor, difference.currency),
    recomputed: money(difference.recomputedMinor, difference.currency),
  });
}

/** What the walk has found so far. */
type Tally = { accountsChecked: number; differencesTotal: number; differences: AccountDifference[] };

function addPage(tally: Tally, page: PageCheck): void {
  tally.accountsChecked += page.accountsChecked;
  tally.differencesTotal += page.differences.length;
  const room = differencesListedMax - tally.differences.length;
  tally.differences.push(...page.differences.slice(0, Math.max(room, 0)).map(differenceMessage));
}

function progressEvent(accountsChecked: number, accountsTotal: number): ReconcileResponse {
  // Accounts opened during the walk are checked too: never report more checked than total.
  const total = Math.max(accountsTotal, accountsChecked);
  return create(ReconcileResponseSchema, {
    event: { case: "progress", value: { accountsChecked: BigInt(accountsChecked), accountsTotal: BigInt(total) } },
  });
}

export function createReconcileHandlers(db: Db): Pick<ServiceImpl<typeof LedgerService>, "getTrialBalance" | "reconcile"> {
  const store = createReconcileStore(db);

  return {
    async getTrialBalance(req, ctx) {
      authorize(ctx, "getTrialBalance");
      const asOf = req.asOf ? timestampDate(req.asOf) : new Date();
      const totals = req.asOf ? await store.totalsAsOf(asOf) : await store.storedTotals();
      const currencies = totals.map(currencyTotalsMessage);
      return { currencies, asOf: timestampFromDate(asOf), balanced: currencies.every((c) => c.balanced) };
    },

    async *reconcile(_req, ctx) {
      authorize(ctx, "reconcile");
      const accountsTotal = await store.countAccounts();
      const tally: Tally = { accountsChecked: 0, differencesTotal: 0, differences: [] };
      for await (const page of store.checkAllAccounts(accountsPerPage)) {
        addPage(tally, page);
        yield progressEvent(tally.accountsChecked, accountsTotal);
      }
      const currencies = (await store.storedTotals()).map(currencyTotalsMessage);
      const report = {
        accountsChecked: BigInt(tally.accountsChecked),
        differences: tally.differences,
        differencesTotal: BigInt(tally.differencesTotal),
        currencies,
      };
      yield create(ReconcileResponseSchema, { event: { case: "report", value: report } });
    },
  };
}
