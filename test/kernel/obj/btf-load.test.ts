// The kernel is the judge of our BTF: BtfBuilder output and re-encoded clang BTF must pass
// BPF_BTF_LOAD, and programs linked by parseObject (subprograms, func_info, line_info) must
// pass the verifier.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BtfBuilder, encodeBtf, parseBtf } from "../../../src/obj/btf.js";
import {
  kernelFuncInfo,
  kernelLineInfo,
  KERNEL_FUNC_INFO_SIZE,
  KERNEL_LINE_INFO_SIZE,
} from "../../../src/obj/btf-ext.js";
import { parseElf } from "../../../src/obj/elf.js";
import { encodeInsns } from "../../../src/obj/insn.js";
import { parseObject } from "../../../src/obj/object.js";
import { btfLoad, progLoad } from "../../../src/sys/bpf.js";
import { SysError } from "../../../src/sys/errors.js";
import { needsKernel } from "../../support/kernel.js";
import { buildC, needsClang } from "../../support/fixtures.js";

test("the kernel accepts BTF built with BtfBuilder (every kind)", (t) => {
  if (!needsKernel(t)) return;
  const b = new BtfBuilder();
  const u32 = b.addInt("unsigned int", 4, false);
  const i32 = b.addInt("int", 4, true);
  const ch = b.addInt("char", 1, true, { char: true });
  const u64 = b.addTypedef("__u64", b.addInt("unsigned long long", 8, false));
  const later = b.addFwd("later");
  const ev = b.addStruct(
    "event",
    [
      { name: "pid", type: u32, bitOffset: 0 },
      { name: "comm", type: b.addArray(ch, 16), bitOffset: 32 },
      { name: "ts", type: u64, bitOffset: 192 },
      { name: "next", type: b.addPtr(later), bitOffset: 256 },
    ],
    40,
  );
  const bits = b.addStruct(
    "flags",
    [
      { name: "a", type: u32, bitOffset: 0, bitfieldSize: 1 },
      { name: "b", type: u32, bitOffset: 1, bitfieldSize: 31 },
    ],
    4,
  );
  b.addUnion(
    "either",
    [
      { name: "x", type: u32, bitOffset: 0 },
      { name: "y", type: bits, bitOffset: 0 },
    ],
    4,
  );
  b.addEnum("colour", [
    { name: "RED", value: 0 },
    { name: "BLUE", value: 2 },
  ]);
  b.addEnum64("big", [{ name: "HUGE", value: 1n << 40n }]);
  b.addFloat("double", 8);
  b.addConst(b.addVolatile(b.addRestrict(b.addPtr(ev))));
  b.addPtr(b.addTypeTag("user", i32));
  const ctx = b.addPtr(0);
  const proto = b.addFuncProto(i32, [{ name: "ctx", type: ctx }]);
  const fn = b.addFunc("probe_main", proto, "global");
  b.addDeclTag("hot", fn);
  const counter = b.addVar("counter", u64, "global");
  const hidden = b.addVar("hidden", u32, "static");
  b.addDatasec(
    ".data",
    [
      { type: counter, offset: 0, size: 8 },
      { type: hidden, offset: 8, size: 4 },
    ],
    12,
  );
  const { fd } = btfLoad(b.encode());
  fd.close();
});

const GLOBALS_AND_CALLS_C = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
int counter = 1;
const volatile int limit = 3;
__u64 seen[4];
static __noinline int leaf(int x) { return x * 3 + 1; }
static __noinline int mid(int x) { return leaf(x) + leaf(x + 1); }
__noinline int shared(int x) { return x ^ 0x55; }
static long cb(__u32 i, void *ctx) { *(int *)ctx += i; return 0; }
SEC("tc") int first(struct __sk_buff *skb) { return mid(skb->len) + shared(1); }
SEC("tc") int second(struct __sk_buff *skb) {
  int acc = 0;
  bpf_loop(4, cb, &acc, 0);
  return shared(skb->len) + acc;
}
SEC("tracepoint/syscalls/sys_enter_openat") int third(void *ctx) { return leaf(2); }
char LICENSE[] SEC("license") = "GPL";
`;

test("clang BTF needs the DATASEC fix-up: raw it is rejected, fixed up it loads", (t) => {
  if (!needsKernel(t) || !needsClang(t)) return;
  const bytes = buildC(GLOBALS_AND_CALLS_C, "obj-kernel-calls");
  const raw = parseBtf(parseElf(bytes).section(".BTF")!.data);
  assert.throws(
    () => btfLoad(encodeBtf(raw)).fd.close(),
    (e: unknown) => e instanceof SysError && e.syscall === "BPF_BTF_LOAD",
  );
  const obj = parseObject(bytes);
  btfLoad(encodeBtf(obj.btf!)).fd.close();
});

test("linked programs with func_info and line_info pass the verifier", (t) => {
  if (!needsKernel(t) || !needsClang(t)) return;
  const obj = parseObject(buildC(GLOBALS_AND_CALLS_C, "obj-kernel-calls"));
  const btf = btfLoad(encodeBtf(obj.btf!)).fd;
  try {
    assert.deepEqual(
      obj.programs.map((p) => p.name),
      ["first", "second", "third"],
    );
    for (const p of obj.programs) {
      assert.equal(p.relocations.length, 0, "these programs use no maps");
      const { fd } = progLoad({
        type: p.sectionInfo!.progType,
        insns: encodeInsns(p.insns),
        license: p.license,
        name: p.name,
        btfFd: btf.fd,
        funcInfo: kernelFuncInfo(p.funcInfo),
        funcInfoRecSize: KERNEL_FUNC_INFO_SIZE,
        lineInfo: kernelLineInfo(p.lineInfo),
        lineInfoRecSize: KERNEL_LINE_INFO_SIZE,
        ...(p.sectionInfo!.expectedAttachType !== undefined && {
          expectedAttachType: p.sectionInfo!.expectedAttachType,
        }),
      });
      fd.close();
    }
  } finally {
    btf.close();
  }
});
