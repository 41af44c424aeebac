// What the vitest setup (vitest-setup.ts, vitest-global-setup.ts) and CI's two passes agree on.

/**
 * What CI's two passes (.ci/run) differ in: the stores, and the fuzz test's size. A variable
 * added to one pass alone belongs here, or the second pass would leave out files that read it.
 */
export const passVariables: ReadonlySet<string> = new Set(["DATABASE_URL", "REDIS_URL", "QENEX_FUZZ_RUNS"]);

/** Names the first pass writes its pass-dependent files to, one path (from the root) a line. */
export const passDependentOutVariable = "QENEX_TEST_PASS_DEPENDENT_OUT";

/**
 * DATABASE_URL for the vitest worker `poolId`: a database per worker (vitest-global-setup.ts
 * makes them), so files running at once never share one, and each worker's files still share
 * theirs one after another as the whole suite did on one worker.
 */
export function workerDatabaseUrl(databaseUrl: string, poolId: number): string {
  const url = new URL(databaseUrl);
  url.pathname = `${url.pathname}_w${poolId}`;
  return url.toString();
}
