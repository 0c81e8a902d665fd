// Our default disassembly syntax must be the kernel's: load a clang-built program with
// bpftool and compare `bpftool prog dump xlated` with `disassemble()` of the ELF section.
// The program avoids everything the verifier rewrites (maps, ctx fields, division by a
// register, constant branches); helper calls are compared without their target, which the
// kernel rewrites (bpf_get_prandom_u32#7 becomes bpf_user_rnd_u32#<address offset>).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { needsKernel, inCI } from "../../support/kernel.js";
import { buildCPath, needsClang } from "../../support/fixtures.js";
import { parseElf } from "../../../src/obj/elf.js";
import { decodeInsns } from "../../../src/obj/insn.js";
import { disassemble } from "../../../src/obj/disasm.js";

const SOURCE = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
SEC("socket") int mixed(struct __sk_buff *skb) {
  __u64 a = bpf_get_prandom_u32();
  __u32 b = bpf_get_prandom_u32();
  volatile __u64 slot = a * 3 + (b >> 3);
  __s32 c = (__s32)b;
  if (c < -5) a ^= bpf_htonl(b);
  else if (b & 0x40) a = (a << 7) | bpf_htons((__u16)b);
  a -= slot;
  return (a ^ (a >> 32)) & 1;
}
char LICENSE[] SEC("license") = "GPL";
`;

test("default syntax matches bpftool prog dump xlated", (t) => {
  if (!needsKernel(t) || !needsClang(t)) return;
  if (spawnSync("bpftool", ["version"], { stdio: "ignore" }).status !== 0) {
    if (inCI) throw new Error("bpftool is required under CI");
    return t.skip("bpftool not installed");
  }
  const path = buildCPath(SOURCE, "disasm_bpftool");
  const pin = `/sys/fs/bpf/tsbpf_test_disasm_${process.pid}`;
  try {
    execFileSync("bpftool", ["prog", "load", path, pin, "type", "socket"], { stdio: "pipe" });
    const xlated = execFileSync("bpftool", ["prog", "dump", "xlated", "pinned", pin], {
      encoding: "utf8",
    })
      .split("\n")
      .filter((l) => /^\s*\d+: /.test(l))
      .map((l) => l.replace(/call \w+#\d+/, "call <helper>"));
    const elf = parseElf(new Uint8Array(readFileSync(path)));
    const ours = disassemble(decodeInsns(elf.section("socket")!.data)).map((l) =>
      l.replace(/call \w+#\d+/, "call <helper>"),
    );
    assert.ok(ours.length > 15, `program too small: ${ours.length}`);
    assert.deepEqual(ours, xlated);
  } finally {
    rmSync(pin, { force: true });
  }
});
