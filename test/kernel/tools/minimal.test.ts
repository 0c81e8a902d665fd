// examples/tools/minimal (libbpf-bootstrap's example) against real writes: with my_pid set to
// this process, a write(2) of ours puts "BPF triggered from PID <pid>." in the trace buffer
// (read from `trace`, which consumes nothing, between two markers of this run).
import { test } from "node:test";
import assert from "node:assert/strict";
import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { needsKernel } from "../../support/kernel.js";
import { tracefsRoot } from "../../../src/sys/tracefs.js";
import { run } from "../../../examples/tools/minimal/tool.js";
import { runTool } from "./support.js";

test("minimal reports this process's write(2) calls in the trace buffer", async (t) => {
  if (!needsKernel(t)) return;
  const count = () =>
    readFileSync(`${tracefsRoot()}/trace`, "utf8")
      .split("\n")
      .filter((l) => l.endsWith(`bpf_trace_printk: BPF triggered from PID ${process.pid}.`)).length;
  const before = count();
  const tool = runTool(run, []);
  const file = join(tmpdir(), `tsbpf-minimal-${process.pid}`);
  try {
    await tool.ready();
    assert.match(tool.lines[0]!, /^Successfully started!/);
    const fd = openSync(file, "w");
    for (let i = 0; i < 3; i++) writeSync(fd, "x");
    closeSync(fd);
  } finally {
    await tool.stop();
    rmSync(file, { force: true });
  }
  assert.ok(count() - before >= 3, `at least our 3 writes (${count() - before})`);
});
