// Objects from writeElf must be standard: libbpf (through bpftool) loads one with a program,
// global data reached through both a named symbol and a section symbol, and a license.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { needsKernel, inCI } from "../../support/kernel.js";
import { writeElf } from "../../../src/obj/elf-write.js";
import {
  R_BPF_64_64,
  SHF_ALLOC,
  SHF_EXECINSTR,
  SHF_WRITE,
  STB_GLOBAL,
  STT_FUNC,
  STT_OBJECT,
} from "../../../src/obj/elf.js";
import { asm, BPF_ADD, BPF_W, encodeInsns } from "../../../src/obj/insn.js";

test("libbpf loads an object made by writeElf", (t) => {
  if (!needsKernel(t)) return;
  if (spawnSync("bpftool", ["version"], { stdio: "ignore" }).status !== 0) {
    if (inCI) throw new Error("bpftool is required under CI");
    return t.skip("bpftool not installed");
  }
  const code = encodeInsns([
    ...asm.lddw(1, 0n), // → symbol `first`
    asm.ldx(BPF_W, 0, 1, 0),
    { ...asm.lddw(2, 0n)[0], imm: 4 }, // → section symbol of .data, +4 in the instruction
    asm.lddw(2, 0n)[1],
    asm.ldx(BPF_W, 2, 2, 0),
    asm.alu64Reg(BPF_ADD, 0, 2),
    asm.exit(),
  ]);
  const bytes = writeElf({
    fileName: "probe.ts",
    sections: [
      { name: "socket", flags: SHF_ALLOC | SHF_EXECINSTR, data: code, align: 8 },
      {
        name: ".data",
        flags: SHF_ALLOC | SHF_WRITE,
        data: new Uint8Array([7, 0, 0, 0, 9, 0, 0, 0]),
        align: 4,
      },
      { name: "license", flags: SHF_ALLOC | SHF_WRITE, data: new TextEncoder().encode("GPL\0") },
    ],
    symbols: [
      {
        name: "filter",
        section: "socket",
        size: code.byteLength,
        type: STT_FUNC,
        bind: STB_GLOBAL,
      },
      { name: "first", section: ".data", size: 4, type: STT_OBJECT, bind: STB_GLOBAL },
      { name: "LICENSE", section: "license", size: 4, type: STT_OBJECT, bind: STB_GLOBAL },
    ],
    relocations: {
      socket: [
        { offset: 0, type: R_BPF_64_64, symbol: "first" },
        { offset: 24, type: R_BPF_64_64, symbol: ".data" },
      ],
    },
  });
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-elfw-"));
  const pin = `/sys/fs/bpf/tsbpf_test_elfw_${process.pid}`;
  try {
    const path = join(dir, "probe.o");
    writeFileSync(path, bytes);
    execFileSync("bpftool", ["prog", "load", path, pin], { stdio: "pipe" });
    const xlated = execFileSync("bpftool", ["prog", "dump", "xlated", "pinned", pin], {
      encoding: "utf8",
    });
    assert.match(xlated, /0: \(18\) r1 = map\[id:\d+\]\[0\]\+0/);
    assert.match(xlated, /3: \(18\) r2 = map\[id:\d+\]\[0\]\+4/);
    assert.match(xlated, /7: \(95\) exit/);
  } finally {
    rmSync(pin, { force: true });
    rmSync(dir, { recursive: true, force: true });
  }
});
