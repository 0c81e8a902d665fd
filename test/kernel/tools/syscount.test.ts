// examples/tools/syscount against real syscalls of a child: getppid() made 500 times (perl),
// counted by name for that pid (-p), with latency (-L); and per process (-P) with its name.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { needsKernel } from "../../support/kernel.js";
import { run } from "../../../examples/tools/syscount/tool.js";
import { runTool, columns } from "./support.js";

/** A perl that waits for a line on stdin, then calls getppid() 500 times and exits. */
async function caller() {
  const p = spawn("perl", ["-e", "<STDIN>; getppid() for 1..500; exit 0"], {
    stdio: ["pipe", "ignore", "ignore"],
  });
  await once(p, "spawn");
  return p;
}

test("syscount counts a child's syscalls by name (-L latency) and by process (-P)", async (t) => {
  if (!needsKernel(t)) return;
  const p = await caller();
  const tool = runTool(run, ["-L", "-p", String(p.pid)]);
  try {
    await tool.ready();
    assert.equal(tool.lines[0], "Tracing syscalls, printing top 10... Ctrl+C to quit.");
    p.stdin!.end("go\n");
    await once(p, "exit");
  } finally {
    await tool.stop();
  }
  const header = tool.lines.indexOf("SYSCALL                   COUNT        TIME (us)");
  assert.ok(header > 0, tool.lines.join("\n"));
  assert.match(tool.lines[header - 1]!, /^\[\d\d:\d\d:\d\d\]$/);
  const row = tool.lines.find((l) => l.startsWith("getppid "));
  assert.ok(row, tool.lines.join("\n"));
  const c = columns(row);
  assert.equal(c[1], "500");
  assert.match(c[2]!, /^\d+\.\d{3}$/);
  assert.equal(tool.lines.at(-1), "");

  const q = await caller();
  const byProcess = runTool(run, ["-P", "-p", String(q.pid)]);
  try {
    await byProcess.ready();
    q.stdin!.end("go\n");
    await once(q, "exit");
  } finally {
    await byProcess.stop();
  }
  assert.ok(
    byProcess.lines.includes(`${"PID    COMM".padEnd(22)} ${"COUNT".padStart(8)}`),
    byProcess.lines.join("\n"),
  );
  const mine = byProcess.lines.find((l) => l.startsWith(`${String(q.pid).padEnd(6)} perl `));
  assert.ok(mine, byProcess.lines.join("\n"));
  assert.ok(Number(columns(mine)[2]) >= 500);
});
