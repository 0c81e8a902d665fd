// examples/tools/runqlat against real run-queue waits: a shell that sleeps in a loop on the CPU
// of a busy loop; at Ctrl-C (the abort) the tool prints its per-thread histogram (-L), which
// has the shell's thread with its name and a non-empty usecs distribution in the C format.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { needsKernel } from "../../support/kernel.js";
import { run } from "../../../examples/tools/runqlat/tool.js";
import { runTool } from "./support.js";

test("runqlat prints a per-thread log2 histogram of run-queue latency at the end", async (t) => {
  if (!needsKernel(t)) return;
  const tool = runTool(run, ["-L"]);
  const hog = spawn("taskset", ["-c", "0", "sh", "-c", "while :; do :; done"], { stdio: "ignore" });
  let pid = 0;
  try {
    await tool.ready();
    assert.equal(tool.lines[0], "Tracing run queue latency... Hit Ctrl-C to end.");
    const r = spawnSync("taskset", [
      "-c",
      "0",
      "sh",
      "-c",
      "i=0; while [ $i -lt 50 ]; do i=$((i+1)); sleep 0.01; done",
    ]);
    assert.equal(r.status, 0);
    pid = r.pid;
  } finally {
    hog.kill("SIGKILL");
    await tool.stop();
  }
  // the name is the thread's when its histogram began (node's, taskset's or sh's: it forked
  // from node, then ran taskset, then sh)
  const at = tool.lines.findIndex(
    (l) => /^tid = (\d+) (node|taskset|sh)$/.exec(l)?.[1] === String(pid),
  );
  assert.ok(at > 0, `a histogram for tid ${pid}:\n${tool.lines.join("\n")}`);
  assert.equal(tool.lines[at - 1], "");
  assert.equal(tool.lines[at + 1], "     usecs               : count    distribution");
  let total = 0;
  let i = at + 2;
  for (; i < tool.lines.length && tool.lines[i] !== ""; i++) {
    const m = /^ {0,9}(\d+) -> (\d+) +: (\d+) +\|([* ]{40})\|$/.exec(tool.lines[i]!);
    assert.ok(m, `a histogram row: ${JSON.stringify(tool.lines[i])}`);
    total += Number(m[3]);
  }
  // the shell woke up at least once per sleep it waited for
  assert.ok(total >= 50, `${total} wakeups counted`);
});
