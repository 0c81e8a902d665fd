// The bookkeeping of src/link/exit-cleanup.ts: listeners exist only while a teardown is
// pending, a teardown runs once, and the exit listener runs what is left. (Real endings of real
// processes: test/kernel/link/exit-cleanup.test.ts.)
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  detachOnExit,
  pendingExitCleanups,
  runExitCleanup,
} from "../../../src/link/exit-cleanup.js";

const counts = () =>
  ["exit", "SIGINT", "SIGTERM", "SIGHUP"].map((e) => process.listenerCount(e as "exit"));

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
