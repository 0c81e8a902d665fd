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
//                                   [--only a,b] [--out PATH] [--zoo]
//
// --zoo adds the public program zoo (bench/compiler/zoo.ts): TS ports beside the published
// originals' C objects in .zoo/obj/ (scripts/build-zoo.sh), each checked on its own inputs.
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
import { DEFAULT_TIMED_INPUT, inputs, mapSetup, TIMED_INPUT, type Input } from "./inputs.js";
import { compareBehaviour, LoadedSide, type LoadOptions } from "./measure.js";
import { zooPairs } from "./zoo.js";
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
  /** also run the public program zoo (needs .zoo/obj from scripts/build-zoo.sh) */
  zoo: boolean;
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
      zoo: { type: "boolean", default: false },
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
    zoo: values.zoo ?? false,
  };
}

/** Event programs are timed in calls of this many runs, draining their buffers in between. */
const EVENT_CHUNK = 1000;

/** What a pair runs on: its inputs, the maps' starting contents, how the C side is loaded. */
interface PairSetup {
  inputs: Input[];
  maps: Record<string, [Uint8Array, Uint8Array][]>;
  timedInput: string;
  /** how each side's object is loaded (program name of the C side, pinned maps) */
  cLoad?: LoadOptions;
  tsLoad?: LoadOptions;
}

const benchSetup = (name: string): PairSetup => ({
  inputs: inputs(),
  maps: mapSetup(),
  timedInput: TIMED_INPUT[name] ?? DEFAULT_TIMED_INPUT,
});

async function measurePair(
  pair: Pair,
  s: Settings,
  ctx: { outDir: string; cli: string; includeDir: string },
  how: PairSetup = benchSetup(pair.name),
): Promise<PairResult> {
  const timedInput = how.timedInput;
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

  const all = how.inputs;
  const timed = all.find((i) => i.name === timedInput);
  if (!timed) throw new Error(`${pair.name}: no input named "${timedInput}" among its inputs`);
  const setup = how.maps;
  const time = (side: LoadedSide): number =>
    side.nsPerRun(timed, s.repeat, side.hasEvents ? EVENT_CHUNK : s.repeat);

  let cSide: LoadedSide;
  try {
    cSide = new LoadedSide(built.c.elf, setup, how.cLoad);
  } catch (e) {
    return {
      ...result,
      status: "error",
      error: `the C object does not load: ${(e as Error).message}`,
    };
  }
  using c = cSide;
  result.section = how.cLoad?.section ?? c.prog.section;
  result.insns.c = c.insns;
  result.verified.c = c.verifiedInsns();
  if (!built.ts.ok) {
    for (let i = 0; i < s.runs; i++) result.ns.c.push(time(c));
    return { ...result, status: "not-compilable", error: built.ts.error };
  }
  let ts: LoadedSide;
  try {
    ts = new LoadedSide(built.ts.elf, setup, how.tsLoad);
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
  const mismatches = compareBehaviour(ts, c, all, how.cLoad !== undefined);
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
  const zoo = s.zoo ? zooPairs(ROOT).filter((z) => !s.only || s.only.has(z.entry.name)) : [];
  if (s.only)
    for (const n of s.only)
      if (!pairs.some((p) => p.name === n) && !zoo.some((z) => z.entry.name === n))
        throw new Error(
          `--only ${n}: no such program in ${PROGRAMS_DIR}${s.zoo ? " or the zoo" : " (zoo programs need --zoo)"}`,
        );
  const missing = zoo.filter((z) => "missing" in z);
  if (missing.length > 0)
    process.stderr.write(
      `zoo: skipping ${missing.length} of ${zoo.length} pairs whose C objects are not built ` +
        `(CI cannot fetch the originals):\n` +
        missing.map((z) => `  ${z.entry.name}: ${"missing" in z ? z.missing : ""}\n`).join(""),
    );
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
    for (const z of zoo) {
      if ("missing" in z) continue;
      process.stderr.write(`${z.entry.name} (zoo) … `);
      const r = await measurePair(
        { name: z.entry.name, ts: z.ts, c: z.cPath, cElf: z.cElf },
        s,
        ctx,
        {
          inputs: z.entry.inputs(),
          maps: z.entry.maps?.() ?? {},
          timedInput: z.entry.timed,
          cLoad: z.load,
          tsLoad: z.load.pinned ? { pinned: true } : {},
        },
      );
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
      zoo: s.zoo,
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
