// Smoke run of the compiler benchmark (bench/compiler): the CLI on a few program pairs with
// tiny counts must print a well-formed table and write a results file whose figures are sane,
// and the behaviour check must notice when two programs differ.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { needsKernel } from "../support/kernel.js";
import { CLANG } from "../../bench/compiler/builds.js";
import { ROOT, type Report } from "../../bench/compiler/run.js";
import { buildPair, findPairs, multiarchInclude } from "../../bench/compiler/builds.js";
import { inputs, mapSetup } from "../../bench/compiler/inputs.js";
import { compareBehaviour, LoadedSide } from "../../bench/compiler/measure.js";
import { COLUMNS, summarize, type PairResult } from "../../bench/compiler/table.js";

const PROGRAMS = ["xdp_pass", "sock_tcp", "tc_port_filter", "trace_http"];

function clangMissing(): string | undefined {
  const r = spawnSync(CLANG, ["--version"]);
  return r.error || r.status !== 0
    ? `${CLANG} is not installed (apt-get install clang-19)`
    : undefined;
}

test("bench-compiler --quick: a well-formed table and results file", async (t) => {
  if (!needsKernel(t, clangMissing())) return;
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-bench-smoke-"));
  try {
    const out = join(dir, "results.json");
    const r = spawnSync(
      process.execPath,
      [
        join(ROOT, "dist/bench/compiler/run.js"),
        "--quick",
        "--runs=2",
        "--repeat=100",
        "--build-runs=1",
        `--only=${PROGRAMS.join(",")}`,
        `--out=${out}`,
      ],
      { encoding: "utf8", timeout: 300_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(readFileSync(out, "utf8")) as Report;
    assert.deepEqual(report.programs.map((p) => p.name).sort(), [...PROGRAMS].sort());
    for (const p of report.programs) {
      assert.equal(p.status, "ok", `${p.name}: ${p.error ?? JSON.stringify(p.mismatches)}`);
      assert.equal(p.inputsCompared, inputs().length);
      for (const side of ["ts", "c"] as const) {
        assert.ok(p.insns[side]! >= 2, `${p.name} ${side} insns`);
        assert.ok(p.verified[side]! >= 2, `${p.name} ${side} verified`);
        assert.equal(p.ns[side].length, 2);
        for (const ns of p.ns[side]) assert.ok(Number.isFinite(ns) && ns > 0, `${p.name} ns`);
      }
      const { tsCold, tsServer, tsWarm, clang } = p.buildMs;
      for (const ms of [...tsCold, ...tsServer, ...tsWarm, ...clang]) assert.ok(ms > 0);
      assert.equal(tsCold.length, 1);
      assert.equal(tsServer.length, 1);
    }
    assert.equal(p(report, "xdp_pass").insns.ts, 2, "a constant verdict is two instructions");
    assert.equal(p(report, "sock_tcp").section, "socket");
    assert.equal(p(report, "tc_port_filter").section, "tc");
    for (const s of report.summary) {
      assert.equal(s.programs, PROGRAMS.length, s.metric);
      assert.ok(s.median! > 0 && s.max! >= s.median!, s.metric);
    }
    // The table: a header, one row per program with as many cells, then the summary.
    const lines = r.stdout.split("\n");
    const header = lines.findIndex((l) => l.startsWith("program "));
    assert.ok(header >= 0, r.stdout);
    for (const name of PROGRAMS) {
      const row = lines.find((l) => l.startsWith(`${name} `));
      assert.ok(row, `row for ${name}`);
      assert.equal(row.trim().split(/\s{2,}/).length, COLUMNS.length, `${name}: ${row}`);
    }
    for (const label of ["instructions", "verifier processed", "ns/run", "build wall time"])
      assert.ok(r.stdout.includes(`${label}`), label);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function p(report: Report, name: string): PairResult {
  return report.programs.find((x) => x.name === name)!;
}

test("the behaviour check catches programs that differ", async (t) => {
  if (!needsKernel(t, clangMissing())) return;
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-bench-smoke-"));
  try {
    const pairs = findPairs(join(ROOT, "bench/compiler/programs"));
    const opts = {
      outDir: dir,
      cli: join(ROOT, "dist/src/cli/bin.js"),
      runs: 0,
      includeDir: multiarchInclude(),
    };
    const pass = await buildPair(
      pairs.find((x) => x.name === "xdp_pass")!,
      opts,
    );
    const drop = await buildPair(
      pairs.find((x) => x.name === "xdp_drop_udp")!,
      opts,
    );
    assert.ok(pass.ts.ok && drop.c.ok);
    using a = new LoadedSide(pass.ts.elf, mapSetup());
    using b = new LoadedSide(drop.c.elf, mapSetup());
    const diff = compareBehaviour(a, b, inputs());
    assert.deepEqual(
      diff.map((d) => d.input).sort(),
      ["v4 UDP 9999", "v6 UDP 9999"],
      "xdp_pass and xdp_drop_udp differ exactly on UDP to port 9999",
    );
    assert.match(diff[0]!.what, /return value 2 \(ts\) vs 1 \(c\)/);
    // Map effects count too: the same TS object against itself after an extra run differs.
    const counts = await buildPair(
      pairs.find((x) => x.name === "xdp_port_count")!,
      opts,
    );
    assert.ok(counts.ts.ok && counts.c.ok);
    using x = new LoadedSide(counts.ts.elf, mapSetup());
    using y = new LoadedSide(counts.c.elf, mapSetup());
    x.runOnce(inputs()[0]!.data);
    const mapDiff = compareBehaviour(x, y, inputs());
    assert.equal(mapDiff.length, 1);
    assert.match(mapDiff[0]!.what, /^map ports:/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("summaries: medians, the worst program, and the verdicts", () => {
  const row = (name: string, ts: number, c: number): PairResult => ({
    name,
    section: "xdp",
    status: "ok",
    timedInput: "x",
    inputsCompared: 1,
    insns: { ts, c },
    verified: { ts, c },
    ns: { ts: [ts], c: [c] },
    buildMs: { tsCold: [3 * c], tsServer: [c], tsWarm: [c], clang: [c] },
  });
  const rs = [row("a", 10, 10), row("b", 9, 10), row("c", 14, 10)];
  const s = summarize(rs, "insns");
  assert.equal(s.median, 1);
  assert.equal(s.worst, "c");
  assert.equal(s.max, 1.4);
  assert.equal(s.pass, false, "one program above 1.3");
  assert.equal(summarize(rs.slice(0, 2), "insns").pass, true);
  assert.equal(summarize(rs, "buildCold").pass, false);
  assert.equal(summarize(rs, "buildServer").pass, true);
  assert.equal(summarize(rs, "buildWarm").pass, true);
  // Programs that do not compile or behave differently do not count.
  const bad = { ...row("d", 100, 1), status: "mismatch" as const };
  assert.equal(summarize([...rs, bad], "insns").programs, 3);
});
