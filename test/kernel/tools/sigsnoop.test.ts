// examples/tools/sigsnoop against real signals: kill(2) from this process to a child (the
// sender, the target and its name, the signal by number and by name with -n), a failed
// kill with -x, and the killsnoop mode (-k) on the kill syscall.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { needsKernel } from "../../support/kernel.js";
import { run } from "../../../examples/tools/sigsnoop/tool.js";
import { runTool, columns } from "./support.js";

async function sleeper(): Promise<ChildProcess> {
  const child = spawn("/bin/sleep", ["60"], { stdio: "ignore" });
  await once(child, "spawn");
  return child;
}

test("sigsnoop prints TIME PID COMM SIG TPID TCOMM RESULT for signals; -k for kill syscalls", async (t) => {
  if (!needsKernel(t)) return;
  for (const mode of [
    ["-n", "-p", String(process.pid)],
    ["-k", "-p", String(process.pid)],
  ]) {
    const tool = runTool(run, mode);
    try {
      await tool.ready();
      assert.equal(
        tool.lines[0],
        "TIME     PID     COMM             SIG          TPID    TCOMM            RESULT",
      );
      const child = await sleeper();
      // wait until the child runs sleep (its comm), so the target's name is known
      const named = mode[0] === "-n";
      process.kill(child.pid!, "SIGUSR1");
      await once(child, "exit");
      const line = await tool.waitFor(
        (l) => columns(l)[4] === String(child.pid),
        `pid ${child.pid}`,
      );
      const c = columns(line);
      assert.equal(c[1], String(process.pid));
      assert.equal(c[3], named ? "SIGUSR1" : "10");
      // signal_generate reports the target's name; -k (kill syscalls) cannot (no kfuncs yet)
      if (named) assert.match(c[5]!, /^(sleep|node)$/);
      else assert.equal(c[5], "N/A");
      assert.equal(c[6], "0");
    } finally {
      await tool.stop();
    }
  }
  // -x: only failures: a kill of a pid that does not exist (ESRCH, -3) through the syscall
  const failed = runTool(run, ["-k", "-x", "-p", String(process.pid)]);
  try {
    await failed.ready();
    const gone = await sleeper();
    gone.kill("SIGKILL");
    await once(gone, "exit");
    process.kill(process.pid, 0); // succeeds: not reported
    assert.throws(() => process.kill(gone.pid!, 0));
    const line = await failed.waitFor((l) => columns(l)[4] === String(gone.pid), `pid ${gone.pid}`);
    assert.equal(columns(line)[6], "-3");
    assert.equal(failed.lines.length, 2, failed.lines.join("\n"));
  } finally {
    await failed.stop();
  }
});
