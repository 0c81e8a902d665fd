// examples/tools/bootstrap (libbpf-bootstrap's example) against a real process: its exec
// (comm, pid, parent, the file name from the record's __data_loc string) and its exit (the
// exit code, the lifetime in ms); with -d only processes that lived long enough.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { needsKernel } from "../../support/kernel.js";
import { run } from "../../../examples/tools/bootstrap/tool.js";
import { runTool, columns } from "./support.js";

test("bootstrap prints EXEC and EXIT lines for a process, -d filters short ones", async (t) => {
  if (!needsKernel(t)) return;
  const tool = runTool(run, []);
  try {
    await tool.ready();
    assert.equal(
      tool.lines[0],
      "TIME     EVENT COMM             PID     PPID    FILENAME/EXIT CODE",
    );
    const r = spawnSync("/bin/sh", ["-c", "sleep 0.05; exit 7"]);
    assert.equal(r.status, 7);
    const pid = String(r.pid);
    const exec = columns(
      await tool.waitFor((l) => columns(l)[1] === "EXEC" && columns(l)[3] === pid, "EXEC"),
    );
    assert.deepEqual(exec.slice(2), ["sh", pid, String(process.pid), "/bin/sh"]);
    const exit = await tool.waitFor(
      (l) => columns(l)[1] === "EXIT" && columns(l)[3] === pid,
      "EXIT",
    );
    const m = / \[7\] \((\d+)ms\)$/.exec(exit);
    assert.ok(m, exit);
    assert.ok(Number(m[1]) >= 50, "it lived through its sleep");
  } finally {
    await tool.stop();
  }
  const slow = runTool(run, ["-d", "200"]);
  try {
    await slow.ready();
    const quick = spawnSync("/bin/true");
    const long = spawnSync("/bin/sh", ["-c", "sleep 0.3"]);
    await slow.waitFor((l) => columns(l)[3] === String(long.pid), "the long process");
    assert.ok(!slow.lines.some((l) => columns(l)[3] === String(quick.pid)), "not the quick one");
    assert.ok(!slow.lines.some((l) => columns(l)[1] === "EXEC"), "no exec events with -d");
  } finally {
    await slow.stop();
  }
});
