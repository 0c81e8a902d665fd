// examples/tools/statsnoop against real stat calls of a child shell and of this process:
// the syscall name (-s), a missing file (ERR 2), fstat of a descriptor (its path from /proc)
// and a relative path completed with the cwd.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { needsKernel } from "../../support/kernel.js";
import { run } from "../../../examples/tools/statsnoop/tool.js";
import { runTool, columns } from "./support.js";

test("statsnoop prints PID COMM RET ERR SYSCALL PATH for stat calls", async (t) => {
  if (!needsKernel(t)) return;
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-statsnoop-"));
  const tool = runTool(run, ["-s"]);
  try {
    await tool.ready();
    assert.equal(tool.lines[0], "PID     COMM                 RET  ERR  SYSCALL    PATH");
    const file = join(dir, "present");
    writeFileSync(file, "x");
    // stat(1) (statx/fstatat on a present file), a missing one, and a relative path from the dir
    const r = spawnSync("stat", ["present", "missing"], { cwd: dir });
    assert.equal(r.status, 1);
    // the cwd of a process that has exited cannot be read any more: "present" alone, as the C tool
    const present = await tool.waitFor((l) => columns(l)[0] === String(r.pid) && / (\S*\/)?present$/.test(l), "present");
    assert.deepEqual(columns(present).slice(1, 4), ["stat", "0", "0"]);
    assert.match(columns(present)[4]!, /^(statx|newfstatat|newstat|newlstat)$/);
    const missing = await tool.waitFor((l) => columns(l)[0] === String(r.pid) && l.endsWith("missing"), "missing");
    assert.deepEqual(columns(missing).slice(2, 4), ["-1", "2"]);
    // this process: node's statSync is statx; a relative path follows this process's cwd
    const rel = relative(process.cwd(), file);
    statSync(rel);
    const mine = await tool.waitFor((l) => columns(l)[0] === String(process.pid) && l.endsWith(rel), rel);
    assert.equal(columns(mine)[4], "statx");
    assert.ok(mine.endsWith(` ${process.cwd()}/${rel}`), mine);
  } finally {
    await tool.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
