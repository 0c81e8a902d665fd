#!/usr/bin/env node
// The `tsbpf` command in Node (bin/tsbpf, the command users run, starts a build from the
// snapshot itself when its launch record says it may, and runs this file for everything else).
//
// `tsbpf build` goes to the build accelerator first (src/accel/launch.ts: the snapshot's build
// server, else a Node process started from the build snapshot, else this process with
// TypeScript loaded through require() and a code cache; src/accel/README.md tells the whole
// story). Other subcommands never load the compiler or the accelerator.
import { fileURLToPath } from "node:url";

const args = process.argv.slice(2);
// --watch runs until a signal: in this process, where the signal arrives (not on the server)
const watching = args.includes("--watch") || args.includes("-w");
const launch = args[0] === "build" && !watching ? await import("../accel/launch.js") : undefined;
if (launch !== undefined && (await launch.buildAccelerated(args, fileURLToPath(import.meta.url)))) {
  // built by the snapshot process
} else {
  if (args.includes("build"))
    await (launch ?? (await import("../accel/launch.js"))).prepareInProcessBuild();
  const { program, reportError } = await import("./main.js");
  program()
    .parseAsync(process.argv)
    .catch(async (e: unknown) => {
      process.exitCode = await reportError(e);
    });
}
