#!/usr/bin/env node
// Entry point of the `tsbpf` binary. The hooks are registered before main.js (and through it
// the compiler) is imported, so the compiler's `import ts from "typescript"` takes the fast path.
import { register } from "node:module";

register("./typescript-hooks.js", import.meta.url);
const { program, reportError } = await import("./main.js");

program()
  .parseAsync(process.argv)
  .catch(async (e: unknown) => {
    process.exitCode = await reportError(e);
  });
