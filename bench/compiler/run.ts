// The compiler benchmark (`make bench-compiler`, or `node dist/bench/compiler/run.js`):
// every program in bench/compiler/programs/ is written in TypeScript (<name>.ts, built by
// tsbpf) and in C (<name>.bpf.c, built by clang-19 -O2 in the same run). For each pair it
// records instruction slots, verifier-processed instructions, ns/run under
// BPF_PROG_TEST_RUN and build wall time, after checking that both sides return the same
// values, send the same events and leave the same map contents on every input. Prints a table
// of ratios ours/clang against issue 3's targets and writes build/bench/compiler-results.json.
// What is measured and how it is kept fair: bench/compiler/README.md.
//
//   node dist/bench/compiler/run.js [--quick] [--runs N] [--repeat N] [--build-runs N]
//                                   [--only a,b] [--out PATH]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, release, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { spawnSync } from "node:child_process";
import {
  buildPair,
  CLANG,
  findPairs,
  multiarchInclude,
  stopBuildServer,
  type Pair,
} from "./builds.js";
import { DEFAULT_TIMED_INPUT, inputs, mapSetup, TIMED_INPUT } from "./inputs.js";
import { compareBehaviour, LoadedSide } from "./measure.js";
import { formatTable, summarize, type Metric, type PairResult } from "./table.js";

/** The repository root (this file runs from dist/bench/compiler/). */
export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const PROGRAMS_DIR = join(ROOT, "bench/compiler/programs");

export interface Settings {
  quick: boolean;
  /** ns/run measurements per side (median reported) */
  runs: number;
  /** BPF_PROG_TEST_RUN repeat count per measurement */
  repeat: number;
  /** builds per side for build times */
  buildRuns: number;
  only: Set<string> | undefined;
  out: string;
}

export function settings(argv: string[] = process.argv.slice(2)): Settings {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: "boolean", default: false },
      runs: { type: "string" },
      repeat: { type: "string" },
      "build-runs": { type: "string" },
      only: { type: "string" },
      out: { type: "string", default: join(ROOT, "build/bench/compiler-results.json") },
    },
  });
  const quick = values.quick ?? false;
  const int = (v: string | undefined, dflt: number, what: string): number => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`--${what} must be a positive integer, got ${v}`);
    return n;
  };
  return {
    quick,
    runs: int(values.runs, quick ? 3 : 9, "runs"),
    repeat: int(values.repeat, quick ? 10_000 : 1_000_000, "repeat"),
    buildRuns: int(values["build-runs"], quick ? 1 : 5, "build-runs"),
    only: values.only ? new Set(values.only.split(",").map((s) => s.trim())) : undefined,
    out: values.out!,
  };
}

/** Event programs are timed in calls of this many runs, draining their buffers in between. */
const EVENT_CHUNK = 1000;

async function measurePair(
  pair: Pair,
  s: Settings,
  ctx: { outDir: string; cli: string; includeDir: string },
): Promise<PairResult> {
  const timedInput = TIMED_INPUT[pair.name] ?? DEFAULT_TIMED_INPUT;
  const result: PairResult = {
    name: pair.name,
    section: "",
    status: "ok",
    timedInput,
    inputsCompared: 0,
    insns: {},
    verified: {},
    ns: { ts: [], c: [] },
    buildMs: { tsCold: [], tsServer: [], tsWarm: [], clang: [] },
  };
  const built = await buildPair(pair, { ...ctx, runs: s.buildRuns });
  result.buildMs = {
    tsCold: built.tsColdMs,
    tsServer: built.tsServerMs,
    tsWarm: built.tsWarmMs,
    clang: built.clangMs,
  };
  if (!built.c.ok) return { ...result, status: "error", error: built.c.error };

  const all = inputs();
  const timed = all.find((i) => i.name === timedInput);
  if (!timed) throw new Error(`${pair.name}: no input named "${timedInput}" in inputs.ts`);
  const setup = mapSetup();
  const time = (side: LoadedSide): number =>
    side.nsPerRun(timed.data, s.repeat, side.hasEvents ? EVENT_CHUNK : s.repeat);

  using c = new LoadedSide(built.c.elf, setup);
  result.section = c.prog.section;
  result.insns.c = c.insns;
  result.verified.c = c.verifiedInsns();
  if (!built.ts.ok) {
    for (let i = 0; i < s.runs; i++) result.ns.c.push(time(c));
    return { ...result, status: "not-compilable", error: built.ts.error };
  }
  let ts: LoadedSide;
  try {
    ts = new LoadedSide(built.ts.elf, setup);
  } catch (e) {
    return {
      ...result,
      status: "error",
      error: `the tsbpf object does not load: ${(e as Error).message}`,
    };
  }
  using _ts = ts;
  result.insns.ts = ts.insns;
  result.verified.ts = ts.verifiedInsns();
  const mismatches = compareBehaviour(ts, c, all);
  result.inputsCompared = all.length;
  if (mismatches.length > 0) {
    result.status = "mismatch";
    result.mismatches = mismatches;
  }
  // Alternate the sides so drift (frequency, other load) hits both alike.
  for (let i = 0; i < s.runs; i++) {
    result.ns.ts.push(time(ts));
    result.ns.c.push(time(c));
  }
  return result;
}

function toolVersion(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return r.status === 0 ? (r.stdout.split("\n")[0] ?? "").trim() : "unknown";
}

export interface Report {
  date: string;
  machine: { kernel: string; cpus: number; cpu: string; node: string; clang: string };
  settings: Omit<Settings, "only" | "out"> & { only?: string[] };
  summary: ReturnType<typeof summarize>[];
  programs: PairResult[];
}

export async function runBenchmark(s: Settings): Promise<Report> {
  const pairs = findPairs(PROGRAMS_DIR).filter((p) => !s.only || s.only.has(p.name));
  if (s.only)
    for (const n of s.only)
      if (!pairs.some((p) => p.name === n))
        throw new Error(`--only ${n}: no such program in ${PROGRAMS_DIR}`);
  const outDir = mkdtempSync(join(tmpdir(), "tsbpf-bench-compiler-"));
  const ctx = {
    outDir,
    cli: join(ROOT, "dist/src/cli/bin.js"),
    includeDir: multiarchInclude(),
  };
  const programs: PairResult[] = [];
  try {
    for (const p of pairs) {
      process.stderr.write(`${p.name} … `);
      const r = await measurePair(p, s, ctx);
      process.stderr.write(`${r.status}\n`);
      programs.push(r);
    }
  } finally {
    stopBuildServer(ctx.cli);
    rmSync(outDir, { recursive: true, force: true });
  }
  const metrics: Metric[] = ["insns", "verified", "ns", "buildCold", "buildServer", "buildWarm"];
  return {
    date: new Date().toISOString(),
    machine: {
      kernel: release(),
      cpus: cpus().length,
      cpu: cpus()[0]?.model ?? "unknown",
      node: process.version,
      clang: toolVersion(CLANG, ["--version"]),
    },
    settings: {
      quick: s.quick,
      runs: s.runs,
      repeat: s.repeat,
      buildRuns: s.buildRuns,
      ...(s.only && { only: [...s.only] }),
    },
    summary: metrics.map((m) => summarize(programs, m)),
    programs,
  };
}

async function main(): Promise<void> {
  const s = settings();
  const report = await runBenchmark(s);
  console.log(
    `tsbpf compiler vs ${report.machine.clang} -O2 — ${report.machine.kernel}, ` +
      `${report.machine.cpus} × ${report.machine.cpu}, node ${report.machine.node}; ` +
      `ns/run: median of ${s.runs} × ${s.repeat} runs; builds: median of ${s.buildRuns}\n`,
  );
  console.log(formatTable(report.programs));
  mkdirSync(dirname(s.out), { recursive: true });
  writeFileSync(s.out, JSON.stringify(report, null, 2) + "\n");
  console.log(`\nwrote ${s.out}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
