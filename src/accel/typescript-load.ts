// The TypeScript compiler for the `tsbpf` binary: typescript-shim.ts hands out what
// loadTypeScript() returns to tsbpf's `import ts from "typescript"` (see typescript-hooks.ts).
//
// Loaded as CommonJS, not through the ESM loader, which would lex and syntax-sniff the 9 MB
// typescript.js (~0.4 s). And compiled with a V8 code cache kept in the user's cache
// directory: compiling typescript.js and lazily compiling the parser/checker functions a build
// uses costs more than the build itself on a cold process (Node 20 has no
// module.enableCompileCache). Any cache trouble falls back to a plain require().
import { createRequire } from "node:module";
import { readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { Script } from "node:vm";
import type tsModule from "typescript";
import {
  cacheDir,
  ensureCacheDir,
  untrustedDir,
  untrustedEntry,
  writePrivate,
} from "./cache-dir.js";

const require = createRequire(import.meta.url);

/** typescript.js compiled from `cacheFile` when it holds V8 code for this exact source. */
function loadCached(): typeof tsModule {
  const file = require.resolve("typescript");
  const source = readFileSync(file, "utf8");
  // V8 checks only the source length against a cache, so a same-length edit of typescript.js
  // (patch-package) must change the name: the file's mtime is part of it.
  const mtime = Math.trunc(statSync(file).mtimeMs);
  const { version } = require("typescript/package.json") as { version: string };
  const cacheFile = join(
    cacheDir(),
    `typescript-${version}-${source.length}-${mtime}-node${process.version}-${process.arch}.v8cache`,
  );
  // V8 code from another user's directory would run as ours (cache-dir.ts: trust)
  const trusted = untrustedDir(dirname(cacheFile)) === undefined;
  let cachedData: Buffer | undefined;
  try {
    if (trusted && untrustedEntry(cacheFile) === undefined) cachedData = readFileSync(cacheFile);
  } catch {
    // first run: compiled from source, cache written at exit
  }
  const script = new Script(
    `(function (exports, require, module, __filename, __dirname) {${source}\n})`,
    { filename: file, ...(cachedData ? { cachedData } : {}) },
  );
  if (!cachedData || script.cachedDataRejected === true) {
    // At exit the cache also holds every function this build compiled lazily.
    process.once("exit", () => {
      try {
        if (ensureCacheDir(dirname(cacheFile)) === undefined)
          writePrivate(cacheFile, script.createCachedData());
      } catch {
        // a read-only home costs speed, nothing else
      }
    });
  }
  const wrapper = script.runInThisContext() as (
    exports: object,
    require: NodeJS.Require,
    module: { exports: object },
    filename: string,
    dirname: string,
  ) => void;
  const mod = { exports: {} };
  wrapper.call(mod.exports, mod.exports, createRequire(file), mod, file, dirname(file));
  return mod.exports as typeof tsModule;
}

let loaded: typeof tsModule | undefined;

/** The TypeScript module, loaded once (bin.ts starts this while the hooks worker boots). */
export function loadTypeScript(): typeof tsModule {
  if (loaded) return loaded;
  try {
    loaded = loadCached();
  } catch {
    loaded = require("typescript") as typeof tsModule;
  }
  return loaded;
}
