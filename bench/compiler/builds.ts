// Building both sides of a pair and timing it: `tsbpf build` as a fresh process (bin/tsbpf,
// the command a user types, which npm links as the package's bin), the same command served by
// a running build server, the same build in a warm process (the compiler already loaded and
// JIT-compiled), and `clang-19 -O2 -g -target bpf` as a fresh process.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { build } from "../../src/cli/build.js";
import { formatDiagnostic } from "../../src/compiler/errors.js";

export const CLANG = process.env.CLANG ?? "clang-19";

/** A program written twice: `<name>.ts` (tsbpf probe) and `<name>.bpf.c` (libbpf C). */
export interface Pair {
  name: string;
  ts: string;
  c: string;
  /**
   * A C object built elsewhere (a zoo original, by scripts/build-zoo.sh): used as the C side
   * instead of compiling `c`, and no clang build time is taken.
   */
  cElf?: Uint8Array;
}

/** Every pair in `dir`; a `.ts` without its `.bpf.c` (or the reverse) is an error. */
export function findPairs(dir: string): Pair[] {
  const files = new Set(readdirSync(dir));
  const names = new Set<string>();
  for (const f of files) {
    const m = /^(.*)\.bpf\.c$/.exec(f) ?? /^(.*)\.ts$/.exec(f);
    if (m) names.add(m[1]!);
  }
  const pairs: Pair[] = [];
  for (const name of [...names].sort()) {
    const ts = `${name}.ts`;
    const c = `${name}.bpf.c`;
    if (!files.has(ts) || !files.has(c))
      throw new Error(`${dir}: ${name} needs both ${ts} and ${c}; add the missing one`);
    pairs.push({ name, ts: join(dir, ts), c: join(dir, c) });
  }
  return pairs;
}

/** The ELF of a built side, or the compiler's diagnostics. */
export type Built = { ok: true; elf: Uint8Array; path: string } | { ok: false; error: string };

function elapsedMs(f: () => void): number {
  const t0 = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

let prepared = false;

/** The `tsbpf` command users run (the package's bin) for `cli` = <package>/dist/src/cli/bin.js. */
export function launcherOf(cli: string): string {
  return join(dirname(cli), "../../../bin/tsbpf");
}

/**
 * Makes the `tsbpf build` startup snapshot now if there is none (npm run build normally has),
 * so that no background maker competes with the timed builds, and says on stderr which path
 * the timed builds take.
 */
function prepareColdBuilds(cli: string): void {
  if (prepared) return;
  prepared = true;
  const maker = join(dirname(cli), "snapshot-make.js");
  const made = spawnSync(process.execPath, [maker], { encoding: "utf8" });
  // `build --help` takes the same path as a build (and writes nothing)
  const probe = spawnSync(launcherOf(cli), ["build", "--help"], {
    encoding: "utf8",
    env: { ...process.env, TSBPF_DEBUG: "1" },
  });
  const how = probe.stderr.split("\n").find((l) => /^tsbpf: (launcher: )?build snapshot/.test(l));
  console.error(
    `cold tsbpf builds (bin/tsbpf): ${how?.replace(/^tsbpf: /, "") ?? "no snapshot"}` +
      (made.stdout.includes("SNAPSHOT none") ? ` (${made.stdout.trim()})` : ""),
  );
}

/**
 * `tsbpf build FILE -o DIR` as a user runs it (bin/tsbpf), without (cold) or with the build
 * server; throws with its output on failure, or when a served build did not reach the server.
 */
function tsbpfBuild(cli: string, file: string, outDir: string, served: boolean): void {
  prepareColdBuilds(cli);
  if (served) prepareServerBuilds(cli, file, outDir);
  const env = { ...process.env, TSBPF_SERVER: served ? "1" : "0" };
  const r = spawnSync(launcherOf(cli), ["build", file, "-o", outDir], { encoding: "utf8", env });
  if (r.status !== 0)
    throw new Error(`tsbpf build ${file} failed (exit ${r.status}):\n${r.stderr}${r.stdout}`);
}

let server = false;

/**
 * Starts this package's build server (`tsbpf server start`) for the served builds and checks
 * that a build reaches it. Its idle timeout is short in case the harness dies; stopBuildServer()
 * stops it.
 */
function prepareServerBuilds(cli: string, file: string, outDir: string): void {
  if (server) return;
  const start = spawnSync(process.execPath, [cli, "server", "start"], {
    encoding: "utf8",
    env: { ...process.env, TSBPF_SERVER_IDLE: "300" },
  });
  if (start.status !== 0) throw new Error(`tsbpf server start failed:\n${start.stderr}`);
  server = true;
  const probe = spawnSync(launcherOf(cli), ["build", file, "-o", outDir], {
    encoding: "utf8",
    env: { ...process.env, TSBPF_SERVER: "1", TSBPF_DEBUG: "1" },
  });
  const path = probe.stderr.split("\n").filter((l) => l.startsWith("tsbpf: launcher:"));
  if (!path.some((l) => l.includes("build server")) || path.some((l) => l.includes("did not take")))
    throw new Error(`builds do not reach the build server:\n${probe.stderr}`);
  console.error(`served tsbpf builds: ${start.stdout.trim()}`);
}

/** Stops the server prepareServerBuilds() started (the harness calls it when done). */
export function stopBuildServer(cli: string): void {
  if (!server) return;
  server = false;
  spawnSync(process.execPath, [cli, "server", "stop"], { stdio: "ignore" });
}

/** The clang command line the C side is built with. */
export function clangArgs(file: string, out: string, includeDir: string): string[] {
  return [
    "-O2",
    "-g",
    "-target",
    "bpf",
    "-D__TARGET_ARCH_x86",
    "-Wall",
    "-Wno-unused-function",
    `-I${includeDir}`,
    "-c",
    file,
    "-o",
    out,
  ];
}

/** Debian keeps asm/types.h under the multiarch directory, which -target bpf does not search. */
export function multiarchInclude(): string {
  const r = spawnSync("gcc", ["-print-multiarch"], { encoding: "utf8" });
  const arch =
    r.status === 0 && r.stdout.trim()
      ? r.stdout.trim()
      : `${process.arch === "arm64" ? "aarch64" : "x86_64"}-linux-gnu`;
  return `/usr/include/${arch}`;
}

function clang(file: string, out: string, includeDir: string): void {
  const r = spawnSync(CLANG, clangArgs(file, out, includeDir), { encoding: "utf8" });
  if (r.error)
    throw new Error(`${CLANG} could not run (${r.error.message}); install clang-19 or set CLANG`);
  if (r.status !== 0) throw new Error(`${CLANG} failed on ${file}:\n${r.stderr}`);
}

export interface BuildTimes {
  ts: Built;
  c: Built;
  /** wall ms of each cold `tsbpf build` process (empty when the probe does not compile) */
  tsColdMs: number[];
  /** wall ms of each `tsbpf build` served by the build server (bin/tsbpf → tsbpf-client) */
  tsServerMs: number[];
  /** wall ms of each in-process build() after one warm-up */
  tsWarmMs: number[];
  clangMs: number[];
}

/** Builds both sides `runs` times each, alternating, into `outDir`. */
export async function buildPair(
  pair: Pair,
  opts: { outDir: string; cli: string; runs: number; includeDir: string },
): Promise<BuildTimes> {
  const cOut = join(opts.outDir, `${pair.name}.bpf.o`);
  const times: BuildTimes = {
    ts: { ok: false, error: "not built" },
    c: { ok: false, error: "not built" },
    tsColdMs: [],
    tsServerMs: [],
    tsWarmMs: [],
    clangMs: [],
  };
  // First build in process: decides whether the probe compiles at all, and warms up.
  const first = await build([pair.ts], { outDir: opts.outDir });
  if (first.diagnostics.length > 0 || first.outputs.length !== 1)
    times.ts = { ok: false, error: first.diagnostics.map(formatDiagnostic).join("\n") };
  else
    times.ts = {
      ok: true,
      path: first.outputs[0]!.path,
      elf: readFileSync(first.outputs[0]!.path),
    };
  if (pair.cElf) times.c = { ok: true, path: pair.c, elf: pair.cElf };
  else
    try {
      clang(pair.c, cOut, opts.includeDir);
      times.c = { ok: true, path: cOut, elf: readFileSync(cOut) };
    } catch (e) {
      times.c = { ok: false, error: (e as Error).message };
    }
  for (let i = 0; i < opts.runs; i++) {
    if (times.c.ok && !pair.cElf)
      times.clangMs.push(elapsedMs(() => clang(pair.c, cOut, opts.includeDir)));
    if (times.ts.ok) {
      times.tsColdMs.push(elapsedMs(() => tsbpfBuild(opts.cli, pair.ts, opts.outDir, false)));
      times.tsServerMs.push(elapsedMs(() => tsbpfBuild(opts.cli, pair.ts, opts.outDir, true)));
      const t0 = process.hrtime.bigint();
      await build([pair.ts], { outDir: opts.outDir });
      times.tsWarmMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  }
  return times;
}
