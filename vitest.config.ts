import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { conditions: ["source"] },
  test: {
    include: ["packages/*/src/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // A machine-readable report beside the console one: CI counts passed and failed from it.
    reporters: ["default", "json"],
    outputFile: { json: process.env.QENEX_TEST_REPORT ?? ".ci/out/vitest.json" },
  },
});
