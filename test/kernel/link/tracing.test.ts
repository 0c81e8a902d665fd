import { test } from "node:test";
import assert from "node:assert/strict";
import { closeSync, openSync, readFileSync } from "node:fs";
import { parseBtf } from "../../../src/obj/btf.js";
import { AttachType, ProgType } from "../../../src/obj/consts.js";
import { SysError } from "../../../src/sys/errors.js";
import { attachTracing } from "../../../src/link/index.js";
import { needsKernel } from "../../support/kernel.js";
import { countingProgram } from "./programs.js";

// fentry needs BPF trampolines; kernels without them (the development VM: no kprobes, fentry
// loads fail with EPERM) are checked for exactly that refusal, others for a firing probe.
test("fentry/fexit on do_sys_openat2 fire for our openat calls (or the kernel refuses fentry loads)", (t) => {
  if (!needsKernel(t)) return;
  const vmlinux = parseBtf(readFileSync("/sys/kernel/btf/vmlinux"));
  const fn = vmlinux.findByName("func", "do_sys_openat2");
  assert.ok(fn, "do_sys_openat2 is in kernel BTF");
  for (const [kind, attachType] of [
    ["fentry", AttachType.TRACE_FENTRY],
    ["fexit", AttachType.TRACE_FEXIT],
  ] as const) {
    let prog;
    try {
      prog = countingProgram({
        type: ProgType.TRACING,
        name: `t_${kind}`,
        ret: 0,
        tgid: process.pid,
        expectedAttachType: attachType,
        attachBtfId: fn.id,
      });
    } catch (e) {
      assert.ok(
        e instanceof SysError && [1, 95, 524].includes(e.errno),
        `unexpected load failure: ${e}`,
      );
      t.diagnostic(
        `${kind} cannot load on this kernel (${(e as SysError).code}); attach path checked in VMs`,
      );
      continue;
    }
    using p = prog;
    const link = attachTracing(p, { kind, target: "do_sys_openat2" });
    assert.equal(link.kind, kind);
    for (let i = 0; i < 10; i++) closeSync(openSync("/proc/self/stat", "r"));
    const seen = p.read();
    assert.ok(seen >= 10n, `${kind} counted ${seen}`);
    link.close();
    for (let i = 0; i < 5; i++) closeSync(openSync("/proc/self/stat", "r"));
    assert.equal(p.read(), seen);
  }
});
