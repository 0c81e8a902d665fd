// The addon's declared surface (src/sys/native.ts): an addon missing a function is refused as
// a whole (a stale build), and a fake must implement all of it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { installFakeNative, missingNativeFunctions } from "../../../src/sys/native.js";
import { FakeKernel } from "../../support/fake-kernel.js";
import { dupFd } from "../../../src/sys/fd.js";
import { Errno, SysError } from "../../../src/sys/errors.js";

test("an addon without mapElem or ringbufScan (built before they existed) is named incomplete", () => {
  const complete = new FakeKernel();
  assert.deepEqual(missingNativeFunctions(complete), []);
  const stale: Record<string, unknown> = {};
  for (const k of Object.getOwnPropertyNames(FakeKernel.prototype))
    if (k !== "constructor") stale[k] = () => 0;
  delete stale.mapElem;
  delete stale.ringbufScan;
  assert.deepEqual(missingNativeFunctions(stale), ["mapElem", "ringbufScan"]);
});

test("installFakeNative refuses an incomplete fake and restores the previous addon", () => {
  assert.throws(() => installFakeNative({ bpf: () => 0 } as never), /the fake lacks mapElem/);
  const k = new FakeKernel();
  const restore = k.install();
  const fd = k.openProgram();
  const copy = dupFd(fd);
  assert.ok(k.openFds.includes(copy.fd), "sys/ called the installed fake");
  copy.close();
  restore();
  const k2 = new FakeKernel();
  const restore2 = k2.install();
  try {
    // k2 is the addon now: k's fd does not exist in it.
    assert.throws(
      () => dupFd(fd),
      (e: unknown) => e instanceof SysError && e.errno === Errno.EBADF,
    );
  } finally {
    restore2();
  }
});
