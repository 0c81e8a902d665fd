// examples/tools/statsnoop against real stat calls: stat(1) on a present and a missing file
// (the syscall name with -s, ERR 2 for the missing one), and this process's own statx of a
// relative path, completed with its cwd from /proc. Each run follows one process (-p), so
// other processes' stats (many, on a busy machine) cannot crowd the lines out.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { needsKernel } from "../../support/kernel.js";
import { run } from "../../../examples/tools/statsnoop/tool.js";
import { runTool, columns } from "./support.js";

test("statsnoop prints PID COMM RET ERR SYSCALL PATH for stat calls", async (t) => {
  if (!needsKernel(t)) return;
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-statsnoop-"));
  writeFileSync(join(dir, "present"), "x");
  // a shell that waits for a line, then becomes stat(1) (same pid)
  const sh = spawn("sh", ["-c", "read x; exec stat present missing"], {
    cwd: dir,
    stdio: ["pipe", "ignore", "ignore"],
  });
  await once(sh, "spawn");
  const tool = runTool(run, ["-s", "-p", String(sh.pid)]);
  try {
    await tool.ready();
    assert.equal(tool.lines[0], "PID     COMM                 RET  ERR  SYSCALL    PATH");
    sh.stdin!.end("go\n");
    await once(sh, "exit");
    // the cwd of a process that has exited cannot be read any more: "present" alone, as the C tool
    const present = await tool.waitFor((l) => / (\S*\/)?present$/.test(l), "present");
    assert.deepEqual(columns(present).slice(0, 4), [String(sh.pid), "stat", "0", "0"]);
    assert.match(columns(present)[4]!, /^(statx|newfstatat|newstat|newlstat)$/);
    const missing = await tool.waitFor((l) => l.endsWith("missing"), "missing");
    assert.deepEqual(columns(missing).slice(2, 4), ["-1", "2"]);
  } finally {
    await tool.stop();
  }
  const mineTool = runTool(run, ["-s", "-p", String(process.pid)]);
  try {
    await mineTool.ready();
    // node's statSync is statx; a relative path follows this process's cwd
    const rel = relative(process.cwd(), join(dir, "present"));
    statSync(rel);
    const mine = await mineTool.waitFor((l) => l.endsWith(rel), rel);
    assert.equal(columns(mine)[4], "statx");
    assert.ok(mine.endsWith(` ${process.cwd()}/${rel}`), mine);
  } finally {
    await mineTool.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
