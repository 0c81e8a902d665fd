// tsbpf load flags for probe objects: --sample-freq attaches perf_event programs; a uprobe
// section that names its function ignores --symbol (and says so); /proc/self/exe needs -b.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { needsKernel } from "../../support/kernel.js";
import { fixture } from "../../support/fixtures.js";
import { CliProcess } from "./cli-process.js";

const BIN_PATH = new URL("../../../src/cli/bin.js", import.meta.url).pathname;
const run = (args: string[]) =>
  spawnSync(process.execPath, [BIN_PATH, "load", ...args], {
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
  });

test("tsbpf load --sample-freq: a perf_event program samples every CPU", async (t) => {
  if (!needsKernel(t)) return;
  const cli = new CliProcess(["load", "--sample-freq", "99", fixture("perf_sample.o")]);
  try {
    await cli.waitFor((_, all) => all.includes("Loaded: on_sample, PerfEvent"));
    assert.deepEqual(await cli.stop("SIGINT"), { code: 0, signal: null });
  } finally {
    await cli.stop("SIGKILL");
  }
  const r = run([fixture("perf_sample.o")]);
  assert.equal(r.status, 1);
  assert.match(
    r.stderr,
    /error: PerfEvent program on_sample needs a perf event: pass --sample-freq HZ/,
  );
});

test("tsbpf load: section-named uprobes need -b for /proc/self/exe and ignore -s", async (t) => {
  if (!needsKernel(t)) return;
  const r = run([fixture("uprobe_named.o")]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /error: UProbe program add_entry .*pass --binary PATH/);
  const cli = new CliProcess([
    "load",
    "-b",
    fixture("uprobe_funcs"),
    "-s",
    "tsbpf_fn_mul",
    fixture("uprobe_named.o"),
  ]);
  try {
    await cli.waitFor((_, all) => all.includes("Loaded: bare_entry, UProbe"));
    for (const p of ["add_entry", "add_return", "sub_entry", "sub_return"])
      assert.ok(
        cli.lines.some((l) => l.startsWith(`Loaded: ${p}, `)),
        p,
      );
    assert.deepEqual(await cli.stop("SIGINT"), { code: 0, signal: null });
  } finally {
    await cli.stop("SIGKILL");
  }
});
