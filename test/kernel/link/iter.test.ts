// iter/ programs: loaded against bpf_iter_<target>, attached as an iterator link, read with
// IterLink.read() (BPF_ITER_CREATE + read() to EOF).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Loader } from "../../../src/load/loader.js";
import { Collection } from "../../../src/load/collection.js";
import { IterLink } from "../../../src/link/index.js";
import { needsKernel } from "../../support/kernel.js";
import { fixture } from "../../support/fixtures.js";

test("iter/task: every task once, this process among them", async (t) => {
  if (!needsKernel(t)) return;
  await using loaded = await Loader.create().loadFile(fixture("iter_task.o"));
  const { program, link } = loaded.links[0]!;
  assert.equal(program.kindLabel, "Iter");
  assert.ok(link instanceof IterLink);
  assert.equal(link.description, "iter dump_task over task");
  const lines = link.readText().trimEnd().split("\n");
  for (const l of lines) assert.match(l, /^\d+ \d+ /);
  const comm = readFileSync("/proc/self/comm", "utf8").trimEnd();
  assert.ok(lines.includes(`${process.pid} ${process.pid} ${comm}`), "the main thread");
  const seen = Buffer.from(loaded.map(".bss").get(new Uint8Array(4))!).readBigUInt64LE(0);
  assert.equal(seen, BigInt(lines.length), "one line per task the program saw");
  // Each read is a new pass.
  const again = link.readText().trimEnd().split("\n");
  assert.ok(again.includes(`${process.pid} ${process.pid} ${comm}`));
});

test("iter/<unknown>: the error names the iterator", async (t) => {
  if (!needsKernel(t)) return;
  await assert.rejects(
    Collection.loadFile(fixture("iter_task.o"), {
      attachTargets: { dump_task: "tsbpf_no_such_iter" },
    }),
    /the kernel has no iterator tsbpf_no_such_iter to attach to .*bpf_iter_\*/,
  );
});
