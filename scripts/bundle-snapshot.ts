// `npm run build` step after tsc: bundles dist/src/accel/snapshot-entry.js (the compiler, its
// declarations' users and TypeScript) into dist/snapshot/tsbpf-build.cjs, the one script a
// Node 20 startup snapshot can be built from (src/accel/snapshot.ts), and records every input
// with its hash in dist/snapshot/tsbpf-build.json so a bundle older than its inputs is never
// made into a snapshot. Needs esbuild (a dev dependency): packages ship the bundle.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { BUNDLE_FILE, BUNDLE_MANIFEST, type BundleManifest } from "../src/accel/snapshot.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const dist = join(root, "dist");
const outfile = join(root, BUNDLE_FILE);

/** The bundle's stand-in for import.meta.url: the URL a module had in dist/. */
const MODULE_URL = "__tsbpfModuleUrl";

/** Lazy imports of main.js that a build needs, and the build server (which runs builds). */
const KEEP = new Set(["./build-command.js", "../load/verifier.js", "../accel/server.js"]);

const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

const result = await esbuild.build({
  entryPoints: [join(dist, "src/accel/snapshot-entry.js")],
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  outfile,
  absWorkingDir: root,
  metafile: true,
  // Whitespace and syntax only: half the source text the snapshot keeps (for lazily compiled
  // functions), names intact for stack traces.
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: "none",
  // Outside every module's scope, where `require` is Node's.
  banner: {
    js: `var ${MODULE_URL} = (rel) => require("node:url").pathToFileURL(require("node:path").join(__dirname, rel)).href;`,
  },
  logLevel: "warning",
  // TypeScript's optional require()s of Node-only or tool modules it never needs here.
  logOverride: { "require-resolve-not-external": "silent" },
  plugins: [
    {
      // The snapshot runs `tsbpf build` and the build server only: the other subcommands main.js imports
      // lazily stay out of the bundle, as imports of the modules next to it.
      name: "build-only",
      setup(b) {
        b.onResolve({ filter: /^\.\.?\// }, (args) => {
          if (args.kind !== "dynamic-import" || !args.importer.endsWith("/src/cli/main.js"))
            return undefined;
          if (KEEP.has(args.path)) return undefined;
          const target = resolve(args.resolveDir, args.path);
          return { path: "./" + relative(dirname(outfile), target), external: true };
        });
      },
    },
    {
      // import.meta.url of each module, from the bundle's own location at run time (the
      // snapshot is built where the package is installed).
      name: "import-meta-url",
      setup(b) {
        b.onLoad({ filter: /\.js$/ }, (args) => {
          const text = readFileSync(args.path, "utf8");
          if (!text.includes("import.meta.url")) return undefined;
          const rel = JSON.stringify(relative(dirname(outfile), args.path));
          return {
            contents: text.replaceAll("import.meta.url", `${MODULE_URL}(${rel})`),
            loader: "js",
          };
        });
      },
    },
  ],
});

const inputs = Object.keys(result.metafile.inputs).map((p) => relative(root, resolve(root, p)));
// The snapshot maker finds each input again where the installed package has it (inputPath() in
// src/accel/snapshot.ts): tsbpf's own files below the package, a dependency's wherever Node
// resolves the dependency from the package (npm hoists them into the project's node_modules).
// A dependency's own nested dependency could be hoisted anywhere: not supported.
for (const p of inputs)
  if (!p.startsWith("dist/") && !/^node_modules\/(@[^/]+\/)?[^/]+\/(?!.*node_modules\/)/.test(p))
    throw new Error(`bundle input ${p} is neither tsbpf's nor a direct dependency's file`);
const manifest: BundleManifest = {
  bundle: { path: BUNDLE_FILE, sha256: sha256(outfile) },
  inputs: inputs.sort().map((path) => ({ path, sha256: sha256(join(root, path)) })),
};
mkdirSync(dirname(join(root, BUNDLE_MANIFEST)), { recursive: true });
writeFileSync(join(root, BUNDLE_MANIFEST), JSON.stringify(manifest, null, 1) + "\n");
console.log(
  `  BUNDLE ${BUNDLE_FILE} (${inputs.length} modules, ${(readFileSync(outfile).length / 1e6).toFixed(1)} MB)`,
);
