// Sign-in outcomes for Prometheus: a rise in "failed" or "throttled" is guessing in progress.
import { Counter, type Registry } from "prom-client";

export type SignInOutcome = "ok" | "failed" | "throttled";

export type SignInMetrics = { signIn(outcome: SignInOutcome): void };

export function createSignInMetrics(registry: Registry): SignInMetrics {
  const signIns = new Counter({
    name: "qenex_auth_sign_ins_total",
    help: "IssueToken calls by outcome: ok, failed (wrong password, unknown or disabled user), throttled (refused before any check).",
    labelNames: ["outcome"],
    registers: [registry],
  });
  return { signIn: (outcome) => signIns.inc({ outcome }) };
}
