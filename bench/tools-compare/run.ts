// examples/tools against their C originals on the same activity (issue 13 4(b) and 4(c)).
// For each tool three runs side by side, started together, watching the same triggered
// activity:
//   C      the original C tool (libbpf + the clang object), built by scripts/build-tools-c.sh
//   clang  the same clang object loaded by tsbpf's loader, printed by the port's user space
//   port   the TypeScript port (probe compiled by tsbpf)
// Each tool's lines about the triggered activity are kept (by tag or pid), volatile columns
// (times, ages, latencies) blanked, and the multisets compared with C's. A benchmark, not a
// test: it needs fetched sources (CI cannot fetch); bench/README.md records a run.
//
//   scripts/build-core-corpus.sh bcc=… bootstrap=… && scripts/build-tools-c.sh
//   node dist/bench/tools-compare/run.js [--tools execsnoop,opensnoop] [--corpus .corpus] [--verbose]
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { useObject } from "../../examples/tools/common.js";
import { original } from "./originals.js";

type Variant = "C" | "clang" | "port";
const VARIANTS: Variant[] = ["C", "clang", "port"];

interface Scenario {
  /** command-line arguments (the same for all three) */
  args: (ctx: Ctx) => string[];
  /** header lines to wait for before triggering */
  headers: number;
  /** make the activity; return what `keep` needs */
  trigger: (ctx: Ctx) => Promise<void>;
  /** the lines about the activity, volatile columns blanked (undefined: not ours) */
  keep: (line: string, ctx: Ctx) => string | undefined;
  /** compare line counts only (values measured by each program differ: latencies) */
  countOnly?: boolean;
}

interface Ctx {
  tag: string;
  dir: string;
  pids: Set<number>;
  target?: ChildProcess;
}

const cols = (l: string) => l.trim().split(/\s+/);
const setCol = (l: string, i: number, v: string) => {
  const c = cols(l);
  c[i] = v;
  return c.join(" ");
};
const run = (cmd: string, args: string[], ctx: Ctx, opts: { cwd?: string } = {}) => {
  const r = spawnSync(cmd, args, { stdio: "ignore", ...opts });
  ctx.pids.add(r.pid!);
  return r;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** a process that waits for a line on stdin, then runs `script` (perl) */
async function waiting(script: string): Promise<ChildProcess> {
  const p = spawn("perl", ["-e", `<STDIN>; ${script}`], { stdio: ["pipe", "ignore", "ignore"] });
  await once(p, "spawn");
  return p;
}
async function go(p: ChildProcess): Promise<void> {
  p.stdin!.end("go\n");
  if (p.exitCode === null) await once(p, "exit");
}

/** Histogram rows summed: "label total" per histogram label line. */
function histTotals(lines: string[]): string[] {
  const out: string[] = [];
  let label = "";
  let total = 0;
  const flush = () => {
    if (label) out.push(`${label} total=${total}`);
  };
  for (const l of lines) {
    const m = /^\s*\d+ -> \d+\s+: (\d+)/.exec(l);
    if (m) total += Number(m[1]);
    else if (/^(pid|tid) = /.test(l)) {
      flush();
      label = l;
      total = 0;
    }
  }
  flush();
  return out;
}

const SCENARIOS: Record<string, Scenario> = {
  execsnoop: {
    args: () => ["-x"],
    headers: 1,
    trigger: async (ctx) => {
      run("/bin/echo", ["hello", ctx.tag], ctx);
      run("/bin/true", [...Array.from({ length: 25 }, (_, i) => `a${i}`), ctx.tag], ctx);
      run(`/nonexistent-${ctx.tag}`, [], ctx);
      run("/bin/sh", ["-c", `: ${ctx.tag}`], ctx);
    },
    keep: (l, ctx) => (l.includes(ctx.tag) || l.includes("/bin/true a0") ? l : undefined),
  },
  exitsnoop: {
    args: () => [],
    headers: 1,
    trigger: async (ctx) => {
      run("/bin/sh", ["-c", "exit 0"], ctx);
      run("/bin/sh", ["-c", "exit 3"], ctx);
      run("/bin/sh", ["-c", "kill -TERM $$"], ctx);
      run("/bin/sh", ["-c", "kill -SEGV $$"], ctx);
    },
    keep: (l, ctx) => (ctx.pids.has(Number(cols(l)[1])) ? setCol(l, 4, "*") : undefined),
  },
  opensnoop: {
    args: () => ["-e"],
    headers: 1,
    trigger: async (ctx) => {
      writeFileSync(join(ctx.dir, "present"), "x");
      run("cat", [join(ctx.dir, "present")], ctx);
      run("cat", [join(ctx.dir, `missing-${ctx.tag}`)], ctx);
      run("sh", ["-c", `: > ${join(ctx.dir, "created")}`], ctx);
    },
    keep: (l, ctx) => (l.includes(ctx.dir) && ctx.pids.has(Number(cols(l)[0])) ? l : undefined),
  },
  statsnoop: {
    args: () => ["-s"],
    headers: 1,
    trigger: async (ctx) => {
      writeFileSync(join(ctx.dir, "present"), "x");
      run("stat", [join(ctx.dir, "present"), join(ctx.dir, "missing")], ctx);
      run("ls", ["-l", ctx.dir], ctx);
    },
    keep: (l, ctx) => (ctx.pids.has(Number(cols(l)[0])) && l.includes(ctx.tag) ? l : undefined),
  },
  sigsnoop: {
    args: () => ["-n"],
    headers: 1,
    trigger: async (ctx) => {
      for (const sig of ["USR1", "TERM", "KILL"]) {
        const s = spawn("/bin/sleep", ["30"], { stdio: "ignore" });
        await once(s, "spawn");
        await sleep(50);
        ctx.pids.add(s.pid!);
        run("/bin/kill", [`-${sig}`, String(s.pid)], ctx);
        if (s.exitCode === null && s.signalCode === null) await once(s, "exit");
      }
    },
    keep: (l, ctx) =>
      ctx.pids.has(Number(cols(l)[4])) && ctx.pids.has(Number(cols(l)[1]))
        ? setCol(l, 0, "*")
        : undefined,
  },
  syncsnoop: {
    args: () => [],
    headers: 1,
    trigger: async (ctx) => {
      run("sync", ["-f", ctx.dir], ctx);
      run("sync", ["-d", join(ctx.dir)], ctx);
    },
    keep: (l) => (cols(l)[1] === "sync" ? setCol(l, 0, "*") : undefined),
  },
  syscount: {
    args: (ctx) => ["-p", String(ctx.target!.pid)],
    headers: 1,
    trigger: async (ctx) => go(ctx.target!),
    keep: (l) => (/^\[\d\d:\d\d:\d\d\]$/.test(l) || l === "" ? undefined : l),
  },
  bootstrap: {
    args: () => [],
    headers: 1,
    trigger: async (ctx) => {
      run("/bin/sh", ["-c", "exit 5"], ctx);
      run("/bin/sh", ["-c", "sleep 0.1"], ctx);
    },
    keep: (l, ctx) =>
      ctx.pids.has(Number(cols(l)[3]))
        ? setCol(l, 0, "*").replace(/\(\d+ms\)$/, "(*ms)")
        : undefined,
  },
  runqslower: {
    args: (ctx) => ["-p", String(ctx.target!.pid), "1"],
    headers: 2,
    trigger: async (ctx) => go(ctx.target!),
    keep: (l, ctx) =>
      cols(l)[2] === String(ctx.target!.pid) ? `${cols(l)[1]} ${cols(l)[2]}` : undefined,
    countOnly: true,
  },
  runqlat: {
    args: (ctx) => ["-L", "-p", String(ctx.target!.pid)],
    headers: 1,
    trigger: async (ctx) => go(ctx.target!),
    keep: (l) => l,
  },
  cpudist: {
    args: (ctx) => ["-L", "-O", "-p", String(ctx.target!.pid)],
    headers: 1,
    trigger: async (ctx) => go(ctx.target!),
    keep: (l) => l,
  },
};
/** the perl each scenario watches, where it watches one process */
const TARGETS: Record<string, string> = {
  syscount: "getppid() for 1..500; exit 0",
  runqslower: "select(undef, undef, undef, 0.005) for 1..100; exit 0",
  runqlat: "select(undef, undef, undef, 0.005) for 1..100; exit 0",
  cpudist: "select(undef, undef, undef, 0.005) for 1..100; exit 0",
};

interface Running {
  child: ChildProcess;
  lines: string[];
  stderr: string;
}

function startVariant(v: Variant, tool: string, args: string[], corpus: string): Running {
  const self = fileURLToPath(import.meta.url);
  const child =
    v === "C"
      ? spawn("stdbuf", ["-oL", join(corpus, "tools", tool), ...args], {
          stdio: ["ignore", "pipe", "pipe"],
        })
      : spawn(process.execPath, [self, "--child", tool, v, "--corpus", corpus, "--", ...args], {
          stdio: ["ignore", "pipe", "pipe"],
        });
  const r: Running = { child, lines: [], stderr: "" };
  let buf = "";
  child.stdout!.setEncoding("utf8").on("data", (d: string) => {
    buf += d;
    const parts = buf.split("\n");
    buf = parts.pop()!;
    r.lines.push(...parts);
  });
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (r.stderr += d));
  child.on("exit", () => {
    if (buf) r.lines.push(buf);
  });
  return r;
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await sleep(50);
  }
  return true;
}

function multisetDiff(a: string[], b: string[]): { onlyA: string[]; onlyB: string[] } {
  const count = new Map<string, number>();
  for (const x of a) count.set(x, (count.get(x) ?? 0) + 1);
  const onlyB: string[] = [];
  for (const x of b) {
    const n = count.get(x) ?? 0;
    if (n > 0) count.set(x, n - 1);
    else onlyB.push(x);
  }
  const onlyA = [...count].flatMap(([x, n]) => Array<string>(n).fill(x));
  return { onlyA, onlyB };
}

async function compare(tool: string, corpus: string, verbose: boolean) {
  const sc = SCENARIOS[tool]!;
  const dir = mkdtempSync(join(tmpdir(), `tsbpf-cmp-${tool}-`));
  const ctx: Ctx = { tag: dir.split("/").pop()!, dir, pids: new Set() };
  if (TARGETS[tool]) ctx.target = await waiting(TARGETS[tool]!);
  const args = sc.args(ctx);
  const runs = Object.fromEntries(
    VARIANTS.map((v) => [v, startVariant(v, tool, args, corpus)]),
  ) as Record<Variant, Running>;
  try {
    const ready = await until(
      () =>
        VARIANTS.every(
          (v) => runs[v].lines.length >= sc.headers || runs[v].child.exitCode !== null,
        ),
      60_000,
    );
    for (const v of VARIANTS)
      if (!ready || runs[v].child.exitCode !== null)
        throw new Error(`${tool} ${v} did not start: ${runs[v].stderr.trim() || "no header"}`);
    await sleep(300); // the C tools print their header before their perf buffer is open
    await sc.trigger(ctx);
    await sleep(1500);
  } finally {
    for (const v of VARIANTS) runs[v].child.kill("SIGINT");
    await Promise.all(
      VARIANTS.map((v) =>
        runs[v].child.exitCode === null ? once(runs[v].child, "exit") : undefined,
      ),
    );
    ctx.target?.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
  const kept = {} as Record<Variant, string[]>;
  for (const v of VARIANTS) {
    const body = runs[v].lines.slice(sc.headers);
    let k = body.map((l) => sc.keep(l, ctx)).filter((l): l is string => l !== undefined);
    if (tool === "runqlat" || tool === "cpudist") k = histTotals(k);
    kept[v] = k;
    if (verbose) console.error(`--- ${tool} ${v}\n${runs[v].lines.join("\n")}\n${runs[v].stderr}`);
  }
  const headersEqual = VARIANTS.every(
    (v) =>
      runs[v].lines.slice(0, sc.headers).join("\n") ===
      runs.C.lines.slice(0, sc.headers).join("\n"),
  );
  const verdict = (v: Variant) => {
    if (sc.countOnly) return kept[v].length === kept.C.length ? "equal count" : "count differs";
    const d = multisetDiff(kept.C, kept[v]);
    if (d.onlyA.length === 0 && d.onlyB.length === 0) return "equal";
    return `differs: C only ${JSON.stringify(d.onlyA)}; ${v} only ${JSON.stringify(d.onlyB)}`;
  };
  return {
    tool,
    headersEqual,
    C: kept.C.length,
    clang: kept.clang.length,
    port: kept.port.length,
    clangVerdict: verdict("clang"),
    portVerdict: verdict("port"),
  };
}

async function child(argv: string[]) {
  const [tool, variant] = argv;
  const { values, positionals } = parseArgs({
    args: argv.slice(2),
    options: { corpus: { type: "string" } },
    allowPositionals: true,
  });
  if (variant === "clang") useObject(tool!, original(tool!, join(values.corpus!, "obj")));
  const mod = (await import(`../../examples/tools/${tool}/tool.js`)) as {
    run: (a: string[], out: (l: string) => void, s: AbortSignal) => Promise<void>;
  };
  const ac = new AbortController();
  process.once("SIGINT", () => ac.abort());
  await mod.run(positionals, (l) => process.stdout.write(l + "\n"), ac.signal);
}

async function main() {
  if (process.argv[2] === "--child") return child(process.argv.slice(3));
  const { values } = parseArgs({
    options: {
      tools: { type: "string" },
      corpus: { type: "string", default: ".corpus" },
      verbose: { type: "boolean", default: false },
    },
  });
  const corpus = resolve(values.corpus!);
  const tools = values.tools ? values.tools.split(",") : Object.keys(SCENARIOS);
  console.log("| tool | C lines | tsbpf + clang object | TS port | headers |");
  console.log("| --- | ---: | --- | --- | --- |");
  for (const tool of tools) {
    if (!existsSync(join(corpus, "tools", tool))) {
      console.log(`| ${tool} | (no C build: see .corpus/tools/${tool}.log) | | | |`);
      continue;
    }
    try {
      const r = await compare(tool, corpus, values.verbose!);
      console.log(
        `| ${tool} | ${r.C} | ${r.clang}: ${r.clangVerdict} | ${r.port}: ${r.portVerdict} | ${r.headersEqual ? "equal" : "differ"} |`,
      );
    } catch (e) {
      console.log(`| ${tool} | error: ${(e as Error).message.replace(/\n/g, " ")} | | | |`);
    }
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
