// examples/tools/syncsnoop against real sync calls: fsync and fdatasync from this process
// (node's fs.fsyncSync / fdatasyncSync), and sync(1) from a child.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, fdatasyncSync, fsyncSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { needsKernel } from "../../support/kernel.js";
import { run } from "../../../examples/tools/syncsnoop/tool.js";
import { runTool, columns } from "./support.js";

test("syncsnoop prints TIME(s) COMM CALL for fsync, fdatasync and syncfs", async (t) => {
  if (!needsKernel(t)) return;
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-syncsnoop-"));
  const tool = runTool(run, []);
  try {
    await tool.ready();
    assert.equal(tool.lines[0], "TIME(s)            COMM             CALL");
    const fd = openSync(join(dir, "f"), "w");
    fsyncSync(fd);
    fdatasyncSync(fd);
    closeSync(fd);
    // sync -f FILE: syncfs(2) of the file's file system
    assert.equal(spawnSync("sync", ["-f", dir]).status, 0);
    const comm = columns(await tool.waitFor((l) => columns(l)[2] === "fsync", "fsync"))[1];
    assert.match(comm!, /^(node|MainThread)$/);
    await tool.waitFor((l) => columns(l)[2] === "fdatasync", "fdatasync");
    const sf = await tool.waitFor(
      (l) => columns(l)[1] === "sync" && columns(l)[2] === "syncfs",
      "syncfs",
    );
    assert.match(columns(sf)[0]!, /^\d+\.\d{9}$/);
  } finally {
    await tool.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
