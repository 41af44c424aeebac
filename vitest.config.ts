import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { conditions: ["source"] },
  test: {
    include: ["packages/*/src/**/*.test.ts"],
    testTimeout: 120_000,
    // On the embedded stores every test file has its own data folder, ports and processes, so
    // two files run at once (vitest's default on two cores is one); against PostgreSQL the files
    // share one database (the ledger tests extend one audit chain), so they run one at a time.
    maxWorkers: process.env.DATABASE_URL ? 1 : 2,
    hookTimeout: 60_000,
    // A machine-readable report beside the console one: CI counts passed and failed from it.
    reporters: ["default", "json"],
    outputFile: { json: process.env.QENEX_TEST_REPORT ?? ".ci/out/vitest.json" },
  },
});
