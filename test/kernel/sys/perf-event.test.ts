import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { needsKernel } from "../../support/kernel.js";
import { SysError } from "../../../src/sys/errors.js";
import {
  openBpfOutput,
  openKprobe,
  openTracepoint,
  openUprobe,
  probePmu,
} from "../../../src/sys/perf-event.js";
import { tracefsRoot, tracepointId, TracefsError } from "../../../src/sys/tracefs.js";
import { isBpffs, ensureBpffs, checkPinPath, BpffsError } from "../../../src/sys/bpffs.js";
import { onlineCpus, possibleCpuCount, possibleCpus } from "../../../src/sys/cpus.js";
import { ifNameToIndex, openNetlink } from "../../../src/sys/socket.js";

test("tracepoint ids come from tracefs (mounted on demand)", (t) => {
  if (!needsKernel(t)) return;
  const root = tracefsRoot();
  const id = tracepointId("syscalls", "sys_enter_openat");
  assert.equal(id, Number(readFileSync(`${root}/events/syscalls/sys_enter_openat/id`, "utf8")));
  assert.throws(
    () => tracepointId("syscalls", "no_such_tp"),
    (e: unknown) => e instanceof SysError && /no such tracepoint/.test(e.message),
  );
  assert.throws(() => tracepointId("../etc", "passwd"), TracefsError);
  using ev = openTracepoint("sched", "sched_switch");
  assert.ok(ev.fd > 0);
});

test("uprobe PMU: entry and return probes on a binary offset", (t) => {
  if (!needsKernel(t)) return;
  const pmu = probePmu("uprobe");
  assert.ok(pmu.type > 0);
  using up = openUprobe({ path: "/bin/true", offset: 0 });
  using ret = openUprobe({ path: "/bin/true", offset: 0, retprobe: true });
  assert.ok(up.fd > 0 && ret.fd > 0);
  assert.throws(
    () => openUprobe({ path: "/no/such/binary", offset: 0 }),
    (e: unknown) => e instanceof SysError && e.syscall === "perf_event_open",
  );
});

test("kprobe PMU: opens where the kernel has kprobes, otherwise says so", (t) => {
  if (!needsKernel(t)) return;
  if (existsSync("/sys/bus/event_source/devices/kprobe")) {
    using k = openKprobe({ symbol: "do_sys_openat2" });
    assert.ok(k.fd > 0);
  } else {
    assert.throws(
      () => openKprobe({ symbol: "do_sys_openat2" }),
      (e: unknown) => e instanceof SysError && /no kprobe PMU/.test(e.message),
    );
  }
});

test("BPF_OUTPUT events open on every online CPU; CPU lists agree", (t) => {
  if (!needsKernel(t)) return;
  const online = onlineCpus();
  assert.ok(online.length >= 1);
  assert.ok(possibleCpus().length >= online.length);
  assert.equal(possibleCpuCount(), possibleCpus().length);
  for (const cpu of online) openBpfOutput(cpu).close();
  assert.throws(() => openBpfOutput(possibleCpus().at(-1)! + 1000), SysError);
});

test("bpffs: ensured at /sys/fs/bpf, and pins elsewhere are refused clearly", (t) => {
  if (!needsKernel(t)) return;
  ensureBpffs();
  assert.ok(isBpffs("/sys/fs/bpf"));
  assert.throws(
    () => checkPinPath("/tmp/x"),
    (e: unknown) => e instanceof BpffsError && /not on a bpf file system/.test(e.message),
  );
  assert.throws(() => ensureBpffs("/no/such/dir"), BpffsError);
});

test("interfaces and netlink", (t) => {
  if (!needsKernel(t)) return;
  assert.equal(ifNameToIndex("lo"), 1);
  assert.throws(
    () => ifNameToIndex("nonexistent0"),
    (e: unknown) => e instanceof SysError && /interface "nonexistent0"/.test(e.message),
  );
  using nl = openNetlink();
  assert.ok(nl.fd > 0);
});
