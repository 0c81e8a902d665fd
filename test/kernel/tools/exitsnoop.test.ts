// examples/tools/exitsnoop against real exits: a clean exit, an exit code, a kill by a signal,
// each with the pid, the parent (this process) and the C tool's EXIT_CODE wording.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { needsKernel } from "../../support/kernel.js";
import { run } from "../../../examples/tools/exitsnoop/tool.js";
import { runTool, columns } from "./support.js";

test("exitsnoop prints PCOMM PID PPID TID AGE(s) EXIT_CODE for exits, codes and signals", async (t) => {
  if (!needsKernel(t)) return;
  const tool = runTool(run, []);
  try {
    await tool.ready();
    assert.equal(tool.lines[0], "PCOMM            PID     PPID    TID     AGE(s)  EXIT_CODE");
    const byPid = (pid: number) => (l: string) => columns(l)[1] === String(pid);
    const clean = spawnSync("/bin/sh", ["-c", "exit 0"]);
    const code = spawnSync("/bin/sh", ["-c", "exit 3"]);
    const killed = spawnSync("/bin/sh", ["-c", "kill -TERM $$"]);
    assert.equal(killed.signal, "SIGTERM");
    for (const [r, end] of [
      [clean, "0"],
      [code, "code 3"],
      [killed, "signal 15 (Terminated)"],
    ] as const) {
      const line = await tool.waitFor(byPid(r.pid), `pid ${r.pid}`);
      const c = columns(line);
      assert.equal(c[0], "sh");
      assert.equal(c[2], String(process.pid), "the parent is this process");
      assert.equal(c[3], String(r.pid), "a single-threaded process: tid = pid");
      assert.match(c[4]!, /^\d+\.\d\d$/);
      assert.ok(line.endsWith(` ${end}`), line);
    }
  } finally {
    await tool.stop();
  }
});
