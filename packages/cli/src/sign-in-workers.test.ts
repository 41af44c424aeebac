// `qenex start --workers auth=2` without Redis: the sign-in throttle's counters live in the
// cluster primary, so guesses dealt out to different workers still add up to one lock.
import * as fs from "node:fs";
import * as http from "node:http";
import { afterAll, describe, expect, it } from "vitest";
import { serviceProcesses, startTestMesh, type TestMesh } from "./testing/mesh.js";

let mesh: TestMesh | undefined;
afterAll(() => mesh?.stop());

/** IssueToken over Connect JSON on a new connection each time: the primary deals connections to the workers in turn. */
function issueToken(authUrl: string, username: string, password: string) {
  return new Promise<{ status: number; code: string | undefined }>((resolve, reject) => {
    const req = http.request(
      `${authUrl}/qenex.auth.v1.AuthService/IssueToken`,
      { method: "POST", agent: false, headers: { "content-type": "application/json" } },
      (res) => {
        let body = "";
        res.on("data", (chunk: Buffer) => {
          body += chunk.toString();
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, code: (JSON.parse(body) as { code?: string }).code }));
      },
    );
    req.on("error", reject);
    req.end(JSON.stringify({ username, password }));
  });
}

// Several auth processes need PostgreSQL (startTestMesh gives the mesh a database of its own).
describe.runIf(Boolean(process.env.DATABASE_URL))("sign-in throttling across auth workers", () => {
  it("locks an account whose failures were spread over two workers", async () => {
    mesh = await startTestMesh("signin", {
      env: {
        REDIS_URL: "",
        // A lock far longer than the test: nothing depends on how fast the calls are.
        QENEX_SIGNIN_BACKOFF_MS: "600000/900000",
      },
      args: ["--workers", "auth=2"],
    });
    const authPid = serviceProcesses(mesh.child.pid as number).get("auth") as number;
    expect(fs.readFileSync(`/proc/${authPid}/task/${authPid}/children`, "utf8").trim().split(/\s+/)).toHaveLength(2);
    const authUrl = mesh.urls.auth as string;
    const username = `nobody-${process.pid}`;
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await issueToken(authUrl, username, "not the password"));
    expect(answers.map((a) => a.code)).toEqual([
      "unauthenticated",
      "unauthenticated",
      "unauthenticated",
      "unauthenticated",
      "unauthenticated",
      "resource_exhausted",
    ]);
    expect(answers.at(-1)?.status).toBe(429);
  }, 180_000);
});
