import { test } from "node:test";
import assert from "node:assert/strict";
import { closeSync, existsSync, openSync } from "node:fs";
import { ProgType } from "../../../src/obj/consts.js";
import { AttachError, attachKprobe, kprobesUnavailable } from "../../../src/link/index.js";
import { needsKernel } from "../../support/kernel.js";
import { countingProgram } from "./programs.js";

// Kernels without CONFIG_KPROBES (like the development VM) must say so; kernels with it must
// run the probe. Either way this test asserts something real about this kernel.
test("kprobe on do_sys_openat2: fires where kprobes exist, explains itself where they do not", (t) => {
  if (!needsKernel(t)) return;
  using prog = countingProgram({
    type: ProgType.KPROBE,
    name: "kp_count",
    ret: 0,
    tgid: process.pid,
  });
  const pmu = existsSync("/sys/bus/event_source/devices/kprobe");
  if (!pmu && kprobesUnavailable() !== undefined) {
    assert.throws(
      () => attachKprobe(prog, { symbol: "do_sys_openat2" }),
      (e: unknown) =>
        e instanceof AttachError && /kernel lacks kprobes \(CONFIG_KPROBES\)/.test(e.message),
    );
    return;
  }
  for (const retprobe of [false, true]) {
    const before = prog.read();
    const link = attachKprobe(prog, { symbol: "do_sys_openat2", retprobe });
    assert.equal(link.kind, retprobe ? "kretprobe" : "kprobe");
    for (let i = 0; i < 10; i++) closeSync(openSync("/proc/self/stat", "r"));
    const seen = prog.read();
    assert.ok(seen - before >= 10n, `${link.kind} counted ${seen - before}`);
    link.close();
    for (let i = 0; i < 5; i++) closeSync(openSync("/proc/self/stat", "r"));
    assert.equal(prog.read(), seen);
  }
  assert.throws(
    () => attachKprobe(prog, { symbol: "no_such_kernel_fn_tsbpf" }),
    /no kernel function no_such_kernel_fn_tsbpf/,
  );
});
