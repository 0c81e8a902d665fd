// examples/tools/cpudist against real CPU time: a busy loop that shares CPU 0 with another is
// preempted again and again while runnable; at the end the per-process histogram (-P, -p of
// the loop) counts those on-CPU stretches in milliseconds (-m), in the C format.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { needsKernel } from "../../support/kernel.js";
import { run } from "../../../examples/tools/cpudist/tool.js";
import { runTool } from "./support.js";

test("cpudist prints a per-process log2 histogram of on-CPU time at the end", async (t) => {
  if (!needsKernel(t)) return;
  const hog = spawn("taskset", ["-c", "0", "sh", "-c", "while :; do :; done"], { stdio: "ignore" });
  await once(hog, "spawn");
  const tool = runTool(run, ["-P", "-m", "-p", String(hog.pid)]);
  try {
    await tool.ready();
    assert.equal(tool.lines[0], "Tracing on-CPU time... Hit Ctrl-C to end.");
    // a second busy process on the same CPU: the scheduler switches between the two
    const r = spawnSync("taskset", [
      "-c",
      "0",
      "sh",
      "-c",
      "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done",
    ]);
    assert.equal(r.status, 0);
  } finally {
    hog.kill("SIGKILL");
    await tool.stop();
  }
  const at = tool.lines.findIndex(
    (l) => /^pid = (\d+) (node|taskset|sh)$/.exec(l)?.[1] === String(hog.pid),
  );
  assert.ok(at > 0, `a histogram for pid ${hog.pid}:\n${tool.lines.join("\n")}`);
  assert.equal(
    tool.lines.filter((l) => l.startsWith("pid = ")).length,
    1,
    "only the filtered process",
  );
  assert.equal(tool.lines[at + 1], "     msecs               : count    distribution");
  let total = 0;
  for (let i = at + 2; i < tool.lines.length && tool.lines[i] !== ""; i++) {
    const m = /^ {0,9}(\d+) -> (\d+) +: (\d+) +\|([* ]{40})\|$/.exec(tool.lines[i]!);
    assert.ok(m, `a histogram row: ${JSON.stringify(tool.lines[i])}`);
    total += Number(m[3]);
  }
  assert.ok(total > 0, "preempted at least once");
});
