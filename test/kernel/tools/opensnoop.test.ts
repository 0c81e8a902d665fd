// examples/tools/opensnoop against real opens of this process: a created file (fd, flags and
// mode with -e), a failed open (FD -1, ERR 2), and openat2 (through perl's syscall(), which
// node cannot make) with the flags and mode read from its struct open_how.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { closeSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { needsKernel } from "../../support/kernel.js";
import { run } from "../../../examples/tools/opensnoop/tool.js";
import { runTool, columns } from "./support.js";

test("opensnoop prints PID COMM FD ERR FLAGS MODE PATH for open, failed open and openat2", async (t) => {
  if (!needsKernel(t)) return;
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-opensnoop-"));
  const tool = runTool(run, ["-e", "-p", String(process.pid)]);
  try {
    await tool.ready();
    assert.equal(tool.lines[0], "PID    COMM              FD ERR FLAGS    MODE  PATH");
    const created = join(dir, "created");
    const fd = openSync(created, "w", 0o640);
    closeSync(fd);
    const line = await tool.waitFor((l) => l.endsWith(` ${created}`), created);
    const c = columns(line);
    assert.equal(c[0], String(process.pid));
    assert.equal(c[2], String(fd));
    assert.equal(c[3], "0");
    // O_WRONLY | O_CREAT | O_TRUNC (| O_CLOEXEC), with the mode as given
    assert.equal(Number.parseInt(c[4]!, 8) & 0o1101, 0o1101, line);
    assert.equal(c[5], "0640");

    const missing = join(dir, "missing");
    assert.throws(() => openSync(missing, "r"));
    const failed = await tool.waitFor((l) => l.endsWith(` ${missing}`), missing);
    assert.deepEqual(columns(failed).slice(2, 4), ["-1", "2"]);
    assert.match(failed, / n\/a {2}\//, "no mode without O_CREAT");
  } finally {
    await tool.stop();
  }

  // openat2 from another process (perl: node cannot make the call), followed by its pid (-p)
  const path = join(dir, "openat2");
  const perl = spawn(
    "perl",
    [
      "-e",
      '<STDIN>; my $how = pack("QQQ", 0101, 0600, 0); my $fd = syscall(437, -100, $ARGV[0], $how, 24); exit($fd < 0 ? 1 : 0)',
      path,
    ],
    { stdio: ["pipe", "ignore", "ignore"] },
  );
  await once(perl, "spawn");
  const all = runTool(run, ["-e", "-p", String(perl.pid)]);
  try {
    await all.ready();
    perl.stdin!.end("go\n");
    const [code] = (await once(perl, "exit")) as [number];
    assert.equal(code, 0, "openat2 through perl");
    const line = await all.waitFor((l) => l.endsWith(` ${path}`), path);
    const c = columns(line);
    assert.equal(c[0], String(perl.pid));
    assert.equal(c[1], "perl");
    assert.equal(c[4], "00000101");
    assert.equal(c[5], "0600");
  } finally {
    await all.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
