// How `tsbpf build` runs when it can run faster (README.md here tells the whole story): on
// this snapshot's build server through the C client, else in a new Node process started from
// the build snapshot, else in this process with TypeScript loaded through require() and a code
// cache (prepareInProcessBuild). src/cli/bin.ts calls these; nothing here changes a build's
// result, only where it runs.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { register } from "node:module";

/** Node's exit code when it cannot load a startup snapshot (before any of our code runs). */
const SNAPSHOT_REFUSED = 14;
/** Signals of a Node that died on a damaged blob (a build's own errors are exit codes). */
const CRASHES: ReadonlySet<string> = new Set(["SIGABRT", "SIGSEGV", "SIGBUS", "SIGILL", "SIGTRAP"]);
const debug = process.env.TSBPF_DEBUG ? (s: string) => console.error(`tsbpf: ${s}`) : undefined;

/**
 * Hands the build to this snapshot's build server through the C client, as bin/tsbpf does
 * when its launch record lets it: here when there is none, as in a package this user cannot
 * write (a global install by root). False when no server took it (the client exits 75).
 */
async function buildOnServer(blob: string, args: readonly string[]): Promise<boolean> {
  if (process.env.TSBPF_SERVER === "0") return false;
  // help and version text are left to this process, which sizes them to the terminal
  if (args.some((a) => ["-h", "--help", "-V", "--version"].includes(a))) return false;
  const { serverSocketFor } = await import("./snapshot.js");
  const { buildClientPath } = await import("./build-client.js");
  const { NOT_SERVED, NOT_TRUSTED } = await import("./server-protocol.js");
  const socket = serverSocketFor(blob);
  const client = buildClientPath();
  if (client === undefined || !existsSync(socket)) return false;
  debug?.(`build server ${socket}`);
  // The client checks that the cache and the server are this user's alone (exit 77 if not).
  const r = spawnSync(client, ["--blob", blob, socket, ...args], { stdio: "inherit" });
  if (r.error !== undefined || r.status === NOT_SERVED || r.status === NOT_TRUSTED) {
    debug?.(`the build server did not take the build (${r.error?.message ?? "not served"})`);
    return false;
  }
  if (r.signal) process.kill(process.pid, r.signal);
  process.exitCode = r.status ?? 1;
  return true;
}

/**
 * Runs `tsbpf build args…` on the build server or in a process started from the snapshot
 * (`bin` is the script that process runs: src/cli/bin.js); false when neither could take it.
 */
export async function buildAccelerated(args: readonly string[], bin: string): Promise<boolean> {
  if (process.env.TSBPF_SNAPSHOT === "0") {
    debug?.("build snapshot not used: TSBPF_SNAPSHOT=0");
    return false;
  }
  // Node refuses a snapshot made under other V8 flags; the build should see the user's.
  const options = [...process.execArgv, process.env.NODE_OPTIONS ?? ""].join(" ").trim();
  if (options !== "") {
    debug?.(`build snapshot not used: Node options ${options}`);
    return false;
  }
  const snapshot = await import("./snapshot.js");
  const { findSnapshot, makeSnapshotInBackground, discardSnapshot, SNAPSHOT_FLAGS } = snapshot;
  const found = findSnapshot();
  if (!found.ok) {
    debug?.(`build snapshot not used: ${found.reason}`);
    snapshot.forgetLaunch();
    if (found.stale) {
      debug?.("making one in the background for the next build");
      makeSnapshotInBackground();
    }
    return false;
  }
  if (await buildOnServer(found.blob, args)) {
    snapshot.recordLaunch(found.blob, found.files);
    return true;
  }
  debug?.(`build snapshot ${found.blob}`);
  const r = spawnSync(
    process.execPath,
    [...SNAPSHOT_FLAGS, "--snapshot-blob", found.blob, bin, ...args],
    { stdio: "inherit" },
  );
  if (r.error || r.status === SNAPSHOT_REFUSED || (r.signal !== null && CRASHES.has(r.signal))) {
    // A blob Node cannot load (or that crashes it) is removed; the build runs here instead.
    debug?.(
      `build snapshot not used: ${r.error?.message ?? `Node exited with ${r.signal ?? r.status}`}`,
    );
    discardSnapshot();
    makeSnapshotInBackground();
    return false;
  }
  // Node loaded it: bin/tsbpf may start the next build from it directly.
  snapshot.recordLaunch(found.blob, found.files);
  if (r.signal) process.kill(process.pid, r.signal);
  process.exitCode = r.status ?? 1;
  return true;
}

/**
 * Before a build in this process imports the compiler: hooks that hand it a TypeScript loaded
 * through require() with a code cache (typescript-hooks.ts), and TypeScript loaded while the
 * hooks' worker thread starts.
 */
export async function prepareInProcessBuild(): Promise<void> {
  register("./typescript-hooks.js", import.meta.url);
  const { loadTypeScript } = await import("./typescript-load.js");
  loadTypeScript();
}
