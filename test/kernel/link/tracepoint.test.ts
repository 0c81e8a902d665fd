import { test } from "node:test";
import assert from "node:assert/strict";
import { openSync, closeSync, readFileSync, rmSync } from "node:fs";
import { parseBtf } from "../../../src/obj/btf.js";
import { AttachType, ProgType } from "../../../src/obj/consts.js";
import {
  AttachError,
  attachRawTracepoint,
  attachTpBtf,
  attachTracepoint,
  FdLink,
  tpBtfTargetId,
} from "../../../src/link/index.js";
import { linkIds } from "../../support/bpftool.js";
import { eventually } from "../../support/poll.js";
import { needsKernel } from "../../support/kernel.js";
import { countingProgram } from "./programs.js";

/** openat() `n` times from this process. */
function openMany(n: number): void {
  for (let i = 0; i < n; i++) closeSync(openSync("/proc/self/stat", "r"));
}

test("tracepoint syscalls/sys_enter_openat fires for our openat calls; close() stops it", (t) => {
  if (!needsKernel(t)) return;
  using prog = countingProgram({
    type: ProgType.TRACEPOINT,
    name: "tp_count",
    ret: 0,
    tgid: process.pid,
  });
  const link = attachTracepoint(prog, "syscalls/sys_enter_openat");
  assert.equal(link.kind, "tracepoint");
  assert.match(link.description, /tracepoint tp_count on syscalls\/sys_enter_openat \(bpf_link\)/);
  assert.ok(link instanceof FdLink);
  const id = link.id;
  assert.ok(linkIds().includes(id), "bpftool lists the link");
  openMany(25);
  const seen = prog.read();
  assert.ok(seen >= 25n && seen < 200n, `counted ${seen} openat calls, expected ≥ 25`);
  link.close();
  link.close(); // twice is harmless
  assert.ok(!linkIds().includes(id), "bpftool no longer lists the link");
  openMany(10);
  assert.equal(prog.read(), seen, "no counts after close()");
});

test("tracepoint errors: unknown tracepoint, bad name, wrong program type", (t) => {
  if (!needsKernel(t)) return;
  using prog = countingProgram({ type: ProgType.TRACEPOINT, name: "tp_err", ret: 0 });
  assert.throws(
    () => attachTracepoint(prog, "syscalls", "sys_enter_foo"),
    (e: unknown) =>
      e instanceof AttachError &&
      /no tracepoint syscalls\/sys_enter_foo \(see \/sys\/kernel\/(debug\/)?tracing\/events\)/.test(
        e.message,
      ),
  );
  assert.throws(() => attachTracepoint(prog, "sys_enter_openat"), /must be <category>\/<name>/);
  using raw = countingProgram({ type: ProgType.RAW_TRACEPOINT, name: "raw_err", ret: 0 });
  assert.throws(
    () => attachTracepoint(raw, "syscalls/sys_enter_openat"),
    /not TRACEPOINT.*use attachRawTracepoint/,
  );
});

test("raw tracepoint sys_enter counts our syscalls; close() detaches", (t) => {
  if (!needsKernel(t)) return;
  using prog = countingProgram({
    type: ProgType.RAW_TRACEPOINT,
    name: "raw_count",
    ret: 0,
    tgid: process.pid,
  });
  const link = attachRawTracepoint(prog, "sys_enter");
  assert.ok(link instanceof FdLink);
  assert.equal(link.info().tpName, "sys_enter");
  const id = link.id;
  openMany(20);
  const seen = prog.read();
  assert.ok(seen >= 40n, `counted ${seen} syscalls, expected ≥ 40 (open + close × 20)`);
  link.close();
  assert.ok(!linkIds().includes(id));
  const after = prog.read(); // the close() syscall itself may still be counted
  assert.ok(after - seen <= 2n);
  openMany(10);
  assert.equal(prog.read(), after);
  assert.throws(
    () => attachRawTracepoint(prog, "no_such_raw_tp_xyz"),
    /no raw tracepoint no_such_raw_tp_xyz/,
  );
});

test("tp_btf sys_enter: loaded with attach_btf_id of btf_trace_sys_enter, attached by RAW_TRACEPOINT_OPEN", (t) => {
  if (!needsKernel(t)) return;
  const vmlinux = parseBtf(readFileSync("/sys/kernel/btf/vmlinux"));
  const btfId = tpBtfTargetId(vmlinux, "sys_enter");
  assert.throws(
    () => tpBtfTargetId(vmlinux, "no_such_event"),
    /no BTF-typed tracepoint no_such_event/,
  );
  using prog = countingProgram({
    type: ProgType.TRACING,
    name: "tpbtf_count",
    ret: 0,
    tgid: process.pid,
    expectedAttachType: AttachType.TRACE_RAW_TP,
    attachBtfId: btfId,
  });
  const link = attachTpBtf(prog, "sys_enter");
  assert.equal(link.kind, "tp_btf");
  openMany(15);
  const seen = prog.read();
  assert.ok(seen >= 30n, `counted ${seen}`);
  link.close();
  const after = prog.read();
  openMany(5);
  assert.equal(prog.read(), after);
});

test("a pinned link outlives its fd; unpinning detaches", async (t) => {
  if (!needsKernel(t)) return;
  using prog = countingProgram({
    type: ProgType.TRACEPOINT,
    name: "tp_pin",
    ret: 0,
    tgid: process.pid,
  });
  const link = attachTracepoint(prog, "syscalls/sys_enter_openat");
  assert.ok(link instanceof FdLink);
  const id = link.id;
  const path = `/sys/fs/bpf/tsbpf-link-test-${process.pid}`;
  try {
    link.pin(path);
    link.close();
    assert.ok(linkIds().includes(id), "pinned link survives close()");
    const before = prog.read();
    openMany(5);
    assert.ok(prog.read() - before >= 5n, "and still runs");
  } finally {
    rmSync(path, { force: true });
  }
  // Releasing the last reference through the file system may be deferred a moment, and the
  // perf event is detached after the link id is released: wait for both, within bounds.
  assert.ok(await eventually(() => !linkIds().includes(id)), "unpinned and closed: gone");
  const quiet = () => {
    const before = prog.read();
    openMany(5);
    return prog.read() === before;
  };
  assert.ok(await eventually(quiet), "the program stops running once the link is gone");
});
