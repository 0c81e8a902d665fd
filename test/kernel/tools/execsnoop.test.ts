// examples/tools/execsnoop against real execs: the line the C tool would print for an exec
// this test makes (comm, pid, parent, return value, the arguments), a failed exec with -x,
// and the " ..." marker past --max-args.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { needsKernel } from "../../support/kernel.js";
import { run } from "../../../examples/tools/execsnoop/tool.js";
import { runTool, columns } from "./support.js";

test("execsnoop prints PCOMM PID PPID RET ARGS for an exec, failed ones with -x", async (t) => {
  if (!needsKernel(t)) return;
  const tool = runTool(run, ["-x", "--max-args", "4"]);
  try {
    await tool.ready();
    assert.match(tool.lines[0]!, /^PCOMM {12}PID {4}PPID {3}RET ARGS$/);
    const tag = `tsbpf-${process.pid}`;
    const ok = spawnSync("/bin/echo", ["hello", tag]);
    assert.equal(ok.status, 0);
    const line = await tool.waitFor((l) => l.includes(`hello ${tag}`), tag);
    assert.equal(
      line,
      `echo             ${String(ok.pid).padEnd(6)} ${String(process.pid).padEnd(6)}   0 /bin/echo hello ${tag} `,
    );

    // more arguments than --max-args: the first 4 (filename included) and " ..."
    const many = spawnSync("/bin/true", ["a1", "a2", "a3", "a4", tag]);
    const long = await tool.waitFor((l) => l.includes("/bin/true a1"), "/bin/true a1");
    assert.equal(columns(long)[1], String(many.pid));
    assert.ok(long.endsWith("/bin/true a1 a2 a3  ..."), long);

    // a failed exec (-x): ENOENT is -2; the comm is still the parent's (node's thread)
    const missing = `/nonexistent-${tag}`;
    spawnSync(missing);
    const failed = await tool.waitFor((l) => l.includes(missing), missing);
    assert.equal(columns(failed)[3], "-2");
  } finally {
    await tool.stop();
  }
});
