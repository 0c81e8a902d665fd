// The script a `tsbpf build` startup snapshot is made from (bundled into one CommonJS file by
// scripts/bundle-snapshot.ts, run under `node --build-snapshot` by snapshot.ts). It loads
// TypeScript and the compiler, compiles a few probes so that the probe lib and tsbpf's own
// declarations are parsed and bound (frontend.ts keeps them) and the functions a build runs
// have bytecode, and leaves a main function that runs the CLI on the new process's argv.
//
// The CLI modules (commander, picocolors, main.js) are imported only in that main function:
// they read the terminal and the environment when they load, which must be the user's, not
// the snapshot builder's.
import v8 from "node:v8";
import { compileProbe } from "../compiler/index.js";
import { WARMUP_ROOT, warmupProbes } from "./snapshot-warmup.js";

for (const { entry, sources } of warmupProbes()) {
  try {
    compileProbe(`${WARMUP_ROOT}/${entry}`, { sources });
  } catch {
    // a probe that no longer compiles (or is meant not to) still warmed what it reached
  }
}

v8.startupSnapshot.setDeserializeMainFunction(() => {
  if (process.env.TSBPF_DEBUG)
    console.error(`tsbpf: snapshot loaded after ${(process.uptime() * 1000).toFixed(0)} ms`);
  void import("../cli/main.js").then(async ({ program, reportError }) => {
    try {
      await program().parseAsync(process.argv);
    } catch (e) {
      process.exitCode = await reportError(e);
    }
    // The next build goes to a build server (server.ts) when one runs: start it now if not.
    if (process.argv[2] === "build")
      await (await import("./server-control.js")).startInBackground();
  });
});
