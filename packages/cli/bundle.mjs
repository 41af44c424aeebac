// Bundles the `qenex` command into dist/ for running the mesh: the workspace's TypeScript
// compiled once, ahead of time, instead of by the tsx loader in every service process (which
// costs each about 50 MB and a second of start-up). Each service's code is a chunk of its own,
// loaded only by the process that serves it. Third-party packages stay outside the bundle,
// imported from this checkout's node_modules by relative path, so the bundle runs from here
// without a node_modules of its own. Built by `pnpm start` every time: it takes about a second.
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = path.dirname(fileURLToPath(import.meta.url));
const outdir = path.join(here, "dist");

/** Every bare import but the workspace's own: external, by its path relative to dist/. */
const thirdPartyExternal = {
  name: "third-party-external",
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.path.startsWith("node:") || args.path.startsWith("@qenex/") || args.pluginData?.resolving) return undefined;
      const resolved = await build.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        importer: args.importer,
        pluginData: { resolving: true },
      });
      if (resolved.errors.length > 0) return { errors: resolved.errors };
      // A Node built-in named without "node:".
      if (!path.isAbsolute(resolved.path)) return { path: args.path, external: true };
      return {
        path: path
          .relative(outdir, resolved.path)
          .split(path.sep)
          .join("/")
          .replace(/^(?!\.)/, "./"),
        external: true,
      };
    });
  },
};

fs.rmSync(outdir, { recursive: true, force: true });
await esbuild.build({
  entryPoints: { qenex: path.join(here, "src/main.ts") },
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node22",
  conditions: ["source"],
  sourcemap: true,
  outExtension: { ".js": ".mjs" },
  // Chunks beside the entry: the relative paths of the externals hold for every file.
  chunkNames: "[name]-[hash]",
  plugins: [thirdPartyExternal],
  logLevel: "warning",
  // Bundled CommonJS dependencies of workspace code may call require().
  banner: { js: "import { createRequire as qenexCreateRequire } from 'node:module'; const require = qenexCreateRequire(import.meta.url);" },
});
