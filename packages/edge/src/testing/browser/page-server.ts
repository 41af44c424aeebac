// The page browser.test.ts opens: checks.ts bundled for the browser by esbuild, served with a
// blank HTML page from an origin of its own, so every call to the edge is cross-origin (CORS
// preflights included) as it is for a real web app.
import * as http from "node:http";
import type * as net from "node:net";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

/** The name the bundle's exports are under in the page (`qenexBrowser.runBrowserChecks`). */
export const bundleGlobalName = "qenexBrowser";

export type PageServer = { origin: string; close(): Promise<void> };

export async function bundleBrowserChecks(): Promise<string> {
  const result = await esbuild.build({
    entryPoints: [fileURLToPath(new URL("./checks.ts", import.meta.url))],
    bundle: true,
    write: false,
    format: "iife",
    globalName: bundleGlobalName,
    platform: "browser",
    target: "es2022",
    logLevel: "silent",
  });
  const [bundle] = result.outputFiles;
  if (!bundle) throw new Error("esbuild produced no bundle for checks.ts");
  return bundle.text;
}

const page = `<!doctype html><html><head><meta charset="utf-8"><title>QENEX browser checks</title><script src="/checks.js"></script></head><body></body></html>`;

export async function servePage(script: string): Promise<PageServer> {
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://page").pathname;
    if (req.method === "GET" && path === "/") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(page);
    } else if (req.method === "GET" && path === "/checks.js") {
      res.writeHead(200, { "content-type": "text/javascript; charset=utf-8" }).end(script);
    } else {
      res.writeHead(404, { "content-type": "text/plain" }).end(`no ${path} here`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
