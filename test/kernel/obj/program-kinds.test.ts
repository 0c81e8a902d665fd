// Every context offset and size in the program-kind table (src/obj/program-kinds.ts) against
// the running kernel's BTF, read with tsbpf's own parser (LazyBtf): the compiler's loads from
// xdp_md, __sk_buff, pt_regs… are only as right as these numbers.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  CONTEXTS,
  PT_REGS,
  type Arch,
  type ContextStruct,
} from "../../../src/obj/program-kinds.js";
import { kernelVersion, needsKernel, parseKernelVersion } from "../../support/kernel.js";
import { kernelStruct, memberOf, vmlinuxBtf } from "../../support/kernel-struct.js";

/** The kernel is older than `since` ("6.2"). */
function before(since: string | undefined): boolean {
  if (since === undefined) return false;
  const [a, b] = kernelVersion();
  const [x, y] = parseKernelVersion(since);
  return a < x || (a === x && b < y);
}

/** What differs between the table's struct and the kernel's (one line per difference). */
function differences(s: ContextStruct, kernelName = s.name): string[] {
  const btf = vmlinuxBtf();
  const k = kernelStruct(btf, kernelName);
  if (!k) return before(s.since) ? [] : [`struct ${kernelName}: not in the kernel's BTF`];
  const out: string[] = [];
  let missing = false;
  for (const f of s.fields) {
    const where = `${kernelName}.${f.name}`;
    const m = memberOf(btf, k, f.name);
    if (!m) {
      if (before(f.since)) missing = true;
      else
        out.push(`${where}: not in the kernel's struct (the table says since ${f.since ?? "6.1"})`);
      continue;
    }
    if (m.offset !== f.offset)
      out.push(`${where}: the table says offset ${f.offset}, the kernel ${m.offset}`);
    if (m.size !== f.size)
      out.push(`${where}: the table says size ${f.size}, the kernel ${m.size}`);
    if (f.elem !== undefined && m.elem !== f.elem)
      out.push(`${where}: the table says elements of ${f.elem} bytes, the kernel ${m.elem}`);
  }
  // A kernel with every member the table lists has the table's sizeof (newer kernels than the
  // table's 6.18 may have grown the struct at its end).
  const [maj, min] = kernelVersion();
  const newer = maj > 6 || (maj === 6 && min > 18);
  if (!missing && k.size !== s.size && !(newer && k.size > s.size))
    out.push(`sizeof(struct ${kernelName}): the table says ${s.size}, the kernel ${k.size}`);
  return out;
}

for (const s of Object.values(CONTEXTS) as ContextStruct[]) {
  test(`context struct ${s.name}: every offset and size matches the kernel's BTF`, (t) => {
    if (!needsKernel(t)) return;
    assert.deepEqual(differences(s), []);
  });
}

test("pt_regs of this architecture: every offset and size matches the kernel's BTF", (t) => {
  if (!needsKernel(t)) return;
  const arch = process.arch;
  assert.ok(arch in PT_REGS, `the program-kind table has no pt_regs for ${arch}`);
  const regs: ContextStruct = PT_REGS[arch as Arch];
  // arm64 kprobes see `struct user_pt_regs` (bpf_user_pt_regs_t); x86-64 `struct pt_regs`
  assert.deepEqual(differences(regs, regs.name), []);
});

test("the comparison names the field at fault", (t) => {
  if (!needsKernel(t)) return;
  const wrong: ContextStruct = {
    ...CONTEXTS.xdp_md,
    fields: [
      { name: "ingress_ifindex", offset: 16, size: 4 },
      { name: "no_such", offset: 0, size: 4 },
    ],
  };
  assert.deepEqual(differences(wrong), [
    "xdp_md.ingress_ifindex: the table says offset 16, the kernel 12",
    "xdp_md.no_such: not in the kernel's struct (the table says since 6.1)",
  ]);
});
