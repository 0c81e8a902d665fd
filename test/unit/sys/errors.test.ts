import { test } from "node:test";
import assert from "node:assert/strict";
import { Errno, SysError, check, errnoName, hintFor } from "../../../src/sys/errors.js";
import { Cap, effectiveCaps, missingCaps } from "../../../src/sys/caps.js";

test("SysError names the call, errno and a hint", () => {
  const e = new SysError("BPF_PROG_LOAD", Errno.EPERM);
  assert.equal(e.code, "EPERM");
  assert.equal(e.errno, 1);
  assert.equal(e.syscall, "BPF_PROG_LOAD");
  // The hint is true of this process: root is not told that it needs root.
  const held = effectiveCaps() !== undefined && missingCaps([Cap.BPF]).length === 0;
  assert.match(
    e.message,
    held
      ? /^BPF_PROG_LOAD failed: EPERM \(Operation not permitted\) — this process has the capabilities loading it needs, so the kernel refused it for another reason/
      : /^BPF_PROG_LOAD failed: EPERM \(Operation not permitted\) — (needs root or CAP_BPF\+CAP_PERFMON|loading a program needs)/,
  );
  assert.ok(e instanceof Error);
});

test("subject and custom hints", () => {
  const e = new SysError("BPF_OBJ_GET", Errno.ENOENT, { subject: "/sys/fs/bpf/x" });
  assert.match(
    e.message,
    /^BPF_OBJ_GET \(\/sys\/fs\/bpf\/x\) failed: ENOENT .* nothing is pinned at that path$/,
  );
  const f = new SysError("mount", Errno.EBUSY, { hint: "try later" });
  assert.match(f.message, /— try later$/);
});

test("hints for the errnos users hit", () => {
  for (const [call, errno, re] of [
    ["BPF_PROG_LOAD", Errno.EINVAL, /not support/],
    ["BPF_MAP_CREATE", Errno.E2BIG, /size/],
    ["BPF_LINK_CREATE", Errno.EOPNOTSUPP, /does not support/],
    ["BPF_PROG_LOAD", Errno.ENOTSUPP, /does not support/],
    ["BPF_PROG_LOAD", Errno.ENOSPC, /log/],
    ["BPF_LINK_CREATE", Errno.EEXIST, /XDP/],
    ["BPF_PROG_ATTACH", Errno.EBUSY, /already attached/],
    ["perf_event_open", Errno.ENOENT, /tracepoint/],
  ] as const)
    assert.match(hintFor(call, errno) ?? "", re, `${call} ${errno}`);
});

test("errno names, including the kernel-internal ENOTSUPP and unknown numbers", () => {
  assert.equal(errnoName(524), "ENOTSUPP");
  assert.equal(errnoName(Errno.EOPNOTSUPP), "EOPNOTSUPP");
  assert.match(errnoName(4095), /^E/);
});

test("check passes results through and throws for -errno", () => {
  assert.equal(check("x", 5), 5);
  assert.throws(
    () => check("x", -Errno.EBADF),
    (e: unknown) => e instanceof SysError && e.code === "EBADF",
  );
});
