// examples/tools/runqslower against real run-queue waits: a shell that sleeps in a loop shares
// CPU 0 with a busy loop, so each of its wakeups waits for the busy loop to be preempted; the
// tool (filtered on the shell's pid, -P) reports those waits with the task that ran before.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { needsKernel } from "../../support/kernel.js";
import { run } from "../../../examples/tools/runqslower/tool.js";
import { runTool, columns } from "./support.js";

test("runqslower prints TIME COMM TID LAT(us) PREV COMM PREV TID for run-queue waits", async (t) => {
  if (!needsKernel(t)) return;
  const hog = spawn("taskset", ["-c", "0", "sh", "-c", "while :; do :; done"], { stdio: "ignore" });
  const sleeper = spawn(
    "taskset",
    [
      "-c",
      "0",
      "sh",
      "-c",
      "sleep 0.3; i=0; while [ $i -lt 300 ]; do i=$((i+1)); sleep 0.01; done",
    ],
    { stdio: "ignore" },
  );
  await once(sleeper, "spawn");
  const tool = runTool(run, ["-P", "-p", String(sleeper.pid), "-c", "sh", "1"]);
  try {
    await tool.ready();
    assert.equal(tool.lines[0], "Tracing run queue latency higher than 1 us");
    const line = await tool.waitFor(
      (l) => columns(l)[2] === String(sleeper.pid),
      `tid ${sleeper.pid}`,
    );
    assert.equal(
      tool.lines[1],
      "TIME     COMM             TID           LAT(us) PREV COMM        PREV TID",
    );
    const c = columns(line);
    assert.match(c[0]!, /^\d\d:\d\d:\d\d$/);
    assert.equal(c[1], "sh");
    assert.ok(Number(c[3]) > 1, line);
    assert.match(c[5]!, /^\d+$/);
    assert.notEqual(c[5], String(sleeper.pid), "another task ran before it");
  } finally {
    await tool.stop();
    hog.kill("SIGKILL");
    sleeper.kill("SIGKILL");
  }
});
