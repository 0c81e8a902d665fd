// kfuncs of kernel modules: conntrack's bpf_xdp_ct_lookup/bpf_ct_release live in the
// nf_conntrack module on Debian's kernels (the VM matrix loads it at boot) and in vmlinux on
// the development kernel. From a module, the call's BTF id is the module's split-BTF id and
// insn.off indexes the program's fd_array slot holding the module's BTF object (libbpf's
// layout); the verifier accepts the call only with the right pair, and the lookup's -ENOENT
// for a tuple no connection has shows the right function ran.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { Collection } from "../../../src/load/collection.js";
import { resolveKsym } from "../../../src/load/kconfig.js";
import { kernelBtfTypeId, moduleBtfTypeId } from "../../../src/load/kernel-btf.js";
import { ModuleBtfFds } from "../../../src/load/module-btf.js";
import { parseObject } from "../../../src/obj/object.js";
import { BPF_PSEUDO_KFUNC_CALL } from "../../../src/obj/insn.js";
import { btfInfo } from "../../../src/sys/info.js";
import { kernelConfig, needsKernel } from "../../support/kernel.js";
import { fixture } from "../../support/fixtures.js";

const ENOENT = 2;

test("kfunc from vmlinux or a module: resolved, loaded, called", async (t) => {
  if (!needsKernel(t)) return;
  const conntrack = kernelConfig()?.get("CONFIG_NF_CONNTRACK");
  if (conntrack === undefined) return t.skip("CONFIG_NF_CONNTRACK is not set");
  const inModule = conntrack === "m";
  if (inModule)
    assert.ok(
      existsSync("/sys/kernel/btf/nf_conntrack"),
      "nf_conntrack is a module here: load it first (modprobe nf_conntrack)",
    );
  // Where the kfunc is, as the loader finds it.
  const vmlinuxId = kernelBtfTypeId("bpf_xdp_ct_lookup", "func");
  const mod = moduleBtfTypeId("bpf_xdp_ct_lookup", "func");
  assert.equal(vmlinuxId === undefined, inModule);
  assert.equal(mod?.module, inModule ? "nf_conntrack" : undefined);

  // The call instruction as the loader patches it.
  const object = parseObject(new Uint8Array(readFileSync(fixture("kfunc_ct.o"))));
  const spec = object.programs.find((p) => p.name === "ct_lookup")!;
  const ref = spec.ksymRefs!.find((r) => r.name === "bpf_xdp_ct_lookup")!;
  const insns = spec.insns.map((i) => ({ ...i }));
  const modules = new ModuleBtfFds();
  try {
    resolveKsym(spec, object, insns, ref.insn, ref.name, modules);
    const call = insns[ref.insn]!;
    assert.equal(call.src, BPF_PSEUDO_KFUNC_CALL);
    assert.equal(call.imm, vmlinuxId ?? mod!.id);
    assert.equal(call.off, inModule ? 1 : 0);
    const fds = modules.fdArray();
    if (inModule) {
      assert.equal(fds?.length, 2);
      assert.equal(btfInfo(fds![1]!).name, "nf_conntrack");
    } else assert.equal(fds, undefined);
  } finally {
    modules.close();
  }

  using c = await Collection.loadFile(fixture("kfunc_ct.o"));
  const run = c.program("ct_lookup").testRun({ data: new Uint8Array(64) });
  assert.equal(run.retval, 2); // XDP_PASS
  const out = Buffer.from(c.map(".bss").get(new Uint8Array(4))!);
  assert.deepEqual(
    [out.readInt32LE(0), out.readUInt32LE(4), out.readUInt32LE(8)],
    [-ENOENT, 0, 1],
    "error, found, runs",
  );
});
