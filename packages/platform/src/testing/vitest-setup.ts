// Runs in each test file's process before the file (vitest.config.ts setupFiles). Two jobs:
// a database of each vitest worker's own, and the list of files whose outcome can depend on
// which of CI's two passes runs them.
import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "vitest";
import { passDependentOutVariable, passVariables, workerDatabaseUrl } from "./test-run.js";

const root = path.resolve(import.meta.dirname, "../../../..");
const env = process.env;

const databaseUrl = env.DATABASE_URL;
if (databaseUrl) env.DATABASE_URL = workerDatabaseUrl(databaseUrl, Number(env.VITEST_POOL_ID ?? "1"));

const passDependentOut = env[passDependentOutVariable];
if (passDependentOut) {
  // A file can behave differently in the two passes only by reading a pass variable, in this
  // process or in a child it starts (which gets them from process.env, read as it spawns).
  // Every read through process.env lists the file; the second pass runs only listed files.
  const testFile = path.relative(root, expect.getState().testPath ?? "");
  let listed = false;
  const noteRead = (key: string | symbol) => {
    if (listed || typeof key !== "string" || !passVariables.has(key)) return;
    listed = true;
    fs.appendFileSync(passDependentOut, `${testFile}\n`);
  };
  process.env = new Proxy(env, {
    get(target, key) {
      noteRead(key);
      return Reflect.get(target, key);
    },
    has(target, key) {
      noteRead(key);
      return Reflect.has(target, key);
    },
    set(target, key, value) {
      return Reflect.set(target, key, value);
    },
    getOwnPropertyDescriptor(target, key) {
      noteRead(key);
      return Reflect.getOwnPropertyDescriptor(target, key);
    },
  });
}
