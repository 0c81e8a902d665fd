#!/usr/bin/env node
// Entry point of the `tsbpf` binary. For `build`, hooks that hand the compiler a TypeScript
// loaded through require() and a code cache (typescript-hooks.ts) are registered before main.js
// is imported; TypeScript is loaded while the hooks' worker thread starts, so neither waits on
// the other. Other subcommands never load the compiler and skip both.
import { register } from "node:module";
import { loadTypeScript } from "./typescript-load.js";

if (process.argv.slice(2).includes("build")) {
  register("./typescript-hooks.js", import.meta.url);
  loadTypeScript();
}
const { program, reportError } = await import("./main.js");

program()
  .parseAsync(process.argv)
  .catch(async (e: unknown) => {
    process.exitCode = await reportError(e);
  });
