import * as fs from "node:fs";
import { defineConfig } from "vitest/config";

// CI's second pass runs only the files whose outcome can depend on the pass: those the first
// pass saw read a variable the passes differ in (packages/platform/src/testing/vitest-setup.ts).
const passDependentList = process.env.QENEX_TEST_PASS_DEPENDENT_ONLY;
const include = passDependentList
  ? [...new Set(fs.readFileSync(passDependentList, "utf8").split("\n").filter(Boolean))]
  : ["packages/*/src/**/*.test.ts"];

export default defineConfig({
  resolve: { conditions: ["source"] },
  test: {
    include,
    // Two files at once on two cores: every file has its own data folders, ports and
    // processes, and on PostgreSQL each worker its own database (vitest-global-setup.ts).
    maxWorkers: 2,
    globalSetup: ["packages/platform/src/testing/vitest-global-setup.ts"],
    setupFiles: ["packages/platform/src/testing/vitest-setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // A machine-readable report beside the console one: CI counts passed and failed from it.
    reporters: ["default", "json"],
    outputFile: { json: process.env.QENEX_TEST_REPORT ?? ".ci/out/vitest.json" },
  },
});
