// The bookkeeping of src/link/exit-cleanup.ts: listeners exist only while a teardown is
// pending, a teardown runs once, and the exit listener runs what is left. (Real endings of real
// processes: test/kernel/link/exit-cleanup.test.ts.)
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  CLEANUP_SIGNALS,
  detachOnExit,
  pendingExitCleanups,
  runExitCleanup,
} from "../../../src/link/exit-cleanup.js";

const counts = () => ["exit", ...CLEANUP_SIGNALS].map((e) => process.listenerCount(e as "exit"));

test("listeners come with the first pending teardown and go with the last", () => {
  const before = counts();
  let ran = 0;
  const a = detachOnExit(() => ran++);
  const b = detachOnExit(() => ran++);
  assert.deepEqual(
    counts(),
    before.map((n) => n + 1),
  );
  assert.equal(pendingExitCleanups(), 2);
  a();
  a();
  assert.equal(ran, 1, "a teardown runs once");
  assert.deepEqual(
    counts(),
    before.map((n) => n + 1),
  );
  b();
  assert.equal(ran, 2);
  assert.equal(pendingExitCleanups(), 0);
  assert.deepEqual(counts(), before, "no listener left behind");
});

test("the exit cleanup runs every pending teardown once, survives a failing one, and unregisters", () => {
  const before = counts();
  const ran: string[] = [];
  const close1 = detachOnExit(() => ran.push("one"));
  detachOnExit(() => {
    throw new Error("gone");
  });
  detachOnExit(() => ran.push("three"));
  const write = process.stderr.write;
  let said = "";
  process.stderr.write = ((s: string) => ((said += s), true)) as typeof write;
  try {
    runExitCleanup();
  } finally {
    process.stderr.write = write;
  }
  assert.deepEqual(ran, ["one", "three"]);
  assert.match(said, /could not detach a netlink attachment at exit: gone/);
  close1();
  assert.deepEqual(ran, ["one", "three"], "close() after the exit cleanup does nothing");
  assert.deepEqual(counts(), before);
});

test("in a worker thread a netlink attach is refused: nothing could detach it at exit", async () => {
  const { Worker } = await import("node:worker_threads");
  const mod = new URL("../../../src/link/index.js", import.meta.url).href;
  const code = `
    const { parentPort } = require("node:worker_threads");
    import(${JSON.stringify(mod)}).then(({ attachXdp, attachTc, AttachError }) => {
      const out = [];
      for (const f of [
        () => attachXdp({ fd: -1, type: 6, name: "wx" }, "lo", { netlink: true }),
        () => attachTc({ fd: -1, type: 3, name: "wt" }, "lo", { netlink: true }),
      ]) {
        try { f(); out.push("attached"); }
        catch (e) { out.push((e instanceof AttachError ? "AttachError: " : "other: ") + e.message); }
      }
      parentPort.postMessage(out);
    });`;
  const w = new Worker(code, { eval: true });
  const out = await new Promise<string[]>((resolve, reject) => {
    w.once("message", resolve);
    w.once("error", reject);
  });
  await w.terminate();
  assert.equal(out.length, 2);
  assert.match(
    out[0]!,
    /^AttachError: refusing to attach XDP program wx to lo over netlink \(as asked\): in a worker thread/,
  );
  assert.match(out[0]!, /\{ mayOutliveProcess: true \}/);
  assert.match(
    out[1]!,
    /^AttachError: refusing to attach tc program wt to lo ingress over netlink/,
  );
});
