import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { BPF_LOAD_ACQ, BPF_STORE_REL, disassemble, formatInsn } from "../../../src/obj/disasm.js";
import {
  asm,
  BPF_ADD,
  BPF_AND,
  BPF_ARSH,
  BPF_B,
  BPF_CMPXCHG,
  BPF_DIV,
  BPF_DW,
  BPF_FETCH,
  BPF_H,
  BPF_JGT,
  BPF_JSET,
  BPF_JSGE,
  BPF_JSLT,
  BPF_LSH,
  BPF_MOD,
  BPF_MOV,
  BPF_OR,
  BPF_PSEUDO_BTF_ID,
  BPF_PSEUDO_FUNC,
  BPF_PSEUDO_KFUNC_CALL,
  BPF_PSEUDO_MAP_IDX,
  BPF_PSEUDO_MAP_IDX_VALUE,
  BPF_W,
  BPF_XCHG,
  BPF_XOR,
  decodeInsns,
  type Insn,
} from "../../../src/obj/insn.js";
import { parseElf, SHF_EXECINSTR } from "../../../src/obj/elf.js";
import {
  ALL_FORMS_C,
  buildCPath,
  needsClang,
  needsObjdump,
  objdump,
  SAMPLE_C,
} from "../../support/fixtures.js";

const raw = (code: number, dst = 0, src = 0, off = 0, imm = 0): Insn => ({
  code,
  dst,
  src,
  off,
  imm,
});
const one = (insns: Insn | Insn[]): string => formatInsn(Array.isArray(insns) ? insns : [insns], 0);

test("ALU64 and ALU32, immediate and register forms", () => {
  assert.equal(one(asm.mov64Imm(0, 2)), "(b7) r0 = 2");
  assert.equal(one(asm.mov64Reg(3, 2)), "(bf) r3 = r2");
  assert.equal(one(asm.alu64Imm(BPF_ADD, 3, 14)), "(07) r3 += 14");
  assert.equal(one(asm.alu64Imm(BPF_ADD, 2, -4)), "(07) r2 += -4");
  assert.equal(one(asm.alu32Reg(BPF_ADD, 1, 2)), "(0c) w1 += w2");
  assert.equal(one(asm.mov32Imm(1, -3)), "(b4) w1 = -3");
  assert.equal(one(asm.alu64Reg(BPF_LSH, 5, 1)), "(6f) r5 <<= r1");
  assert.equal(one(asm.alu64Imm(BPF_ARSH, 5, 2)), "(c7) r5 s>>= 2");
  assert.equal(one(asm.alu32Imm(BPF_XOR, 5, -1)), "(a4) w5 ^= -1");
  assert.equal(one(asm.alu64Reg(BPF_MOD, 4, 3)), "(9f) r4 %= r3");
  assert.equal(one(asm.neg64(6)), "(87) r6 = -r6");
  assert.equal(one(raw(0x84, 6)), "(84) w6 = -w6");
  // cpu v4: signed division/modulo (off 1) and sign-extending moves (off 8/16/32)
  assert.equal(one({ ...asm.alu32Reg(BPF_DIV, 4, 3), off: 1 }), "(3c) w4 s/= w3");
  assert.equal(one({ ...asm.alu64Imm(BPF_MOD, 4, 5), off: 1 }), "(97) r4 s%= 5");
  assert.equal(one({ ...asm.mov64Reg(1, 2), off: 8 }), "(bf) r1 = (s8)r2");
  assert.equal(one({ ...asm.mov32Reg(1, 2), off: 16 }), "(bc) w1 = (s16)w2");
  assert.equal(one({ ...asm.mov64Reg(1, 2), off: 32 }), "(bf) r1 = (s32)r2");
  assert.equal(
    one({ ...asm.mov64Reg(1, 2), off: 1, imm: (1 << 16) | 0 }),
    "(bf) r1 = addr_space_cast(r2, 1, 0)",
  );
});

test("byte swaps", () => {
  assert.equal(one(asm.endian(1, 16, true)), "(dc) r1 = be16 r1");
  assert.equal(one(asm.endian(1, 32, false)), "(d4) r1 = le32 r1");
  assert.equal(one(asm.endian(2, 64, true)), "(dc) r2 = be64 r2");
  assert.equal(one(raw(0xd7, 1, 0, 0, 16)), "(d7) r1 = bswap16 r1");
});

test("loads, stores, sign-extending loads, legacy packet loads", () => {
  assert.equal(one(asm.ldx(BPF_W, 2, 1, 4)), "(61) r2 = *(u32 *)(r1 +4)");
  assert.equal(one(asm.ldx(BPF_DW, 1, 10, -8)), "(79) r1 = *(u64 *)(r10 -8)");
  assert.equal(one(raw(0x91, 1, 1, 1)), "(91) r1 = *(s8 *)(r1 +1)");
  assert.equal(one(raw(0x81, 1, 1, 4)), "(81) r1 = *(s32 *)(r1 +4)");
  assert.equal(one(asm.stx(BPF_W, 10, 1, -4)), "(63) *(u32 *)(r10 -4) = r1");
  assert.equal(one(asm.st(BPF_DW, 10, -16, 7)), "(7a) *(u64 *)(r10 -16) = 7");
  assert.equal(one(asm.st(BPF_B, 10, -1, -1)), "(72) *(u8 *)(r10 -1) = -1");
  assert.equal(one(asm.ldAbs(BPF_B, 12)), "(30) r0 = *(u8 *)skb[12]");
  assert.equal(one(raw(0x48, 0, 1, 0, 2)), "(48) r0 = *(u16 *)skb[r1 + 2]");
});

test("atomics", () => {
  assert.equal(one(asm.atomic(BPF_DW, 1, 2, 0, BPF_ADD)), "(db) lock *(u64 *)(r1 +0) += r2");
  assert.equal(one(asm.atomic(BPF_W, 1, 2, 4, BPF_OR)), "(c3) lock *(u32 *)(r1 +4) |= r2");
  assert.equal(
    one(asm.atomic(BPF_DW, 1, 2, 0, BPF_ADD | BPF_FETCH)),
    "(db) r2 = atomic64_fetch_add((u64 *)(r1 +0), r2)",
  );
  assert.equal(
    one(asm.atomic(BPF_W, 1, 2, 0, BPF_AND | BPF_FETCH)),
    "(c3) r2 = atomic_fetch_and((u32 *)(r1 +0), r2)",
  );
  assert.equal(
    one(asm.atomic(BPF_DW, 1, 2, 8, BPF_XCHG)),
    "(db) r2 = atomic64_xchg((u64 *)(r1 +8), r2)",
  );
  assert.equal(
    one(asm.atomic(BPF_DW, 1, 2, 0, BPF_CMPXCHG)),
    "(db) r0 = atomic64_cmpxchg((u64 *)(r1 +0), r0, r2)",
  );
  assert.equal(
    one(asm.atomic(BPF_W, 3, 1, 0, BPF_LOAD_ACQ)),
    "(c3) r3 = load_acquire((u32 *)(r1 +0))",
  );
  assert.equal(
    one(asm.atomic(BPF_H, 1, 2, 2, BPF_STORE_REL)),
    "(cb) store_release((u16 *)(r1 +2), r2)",
  );
  assert.equal(one(asm.atomic(BPF_DW, 1, 2, 0, 0x33)), "(db) <unknown opcode 0xdb>");
});

test("lddw: plain, pseudo forms, and the loader's replacement text", () => {
  assert.equal(one(asm.lddw(1, 0x123456789abcdefn)), "(18) r1 = 0x123456789abcdef");
  assert.equal(one(asm.lddw(1, -1n)), "(18) r1 = 0xffffffffffffffff");
  assert.equal(one(asm.ldMapFd(1, 5)), "(18) r1 = map[fd:5]");
  assert.equal(one(asm.ldMapValue(2, 6, 16)), "(18) r2 = map[fd:6][0]+16");
  assert.equal(one([raw(0x18, 1, BPF_PSEUDO_MAP_IDX, 0, 3), raw(0)]), "(18) r1 = map[idx:3]");
  assert.equal(
    one([raw(0x18, 1, BPF_PSEUDO_MAP_IDX_VALUE, 0, 3), raw(0, 0, 0, 0, 8)]),
    "(18) r1 = map[idx:3][0]+8",
  );
  assert.equal(one([raw(0x18, 1, BPF_PSEUDO_BTF_ID, 0, 77), raw(0)]), "(18) r1 = btf_id[77]");
  assert.equal(one([raw(0x18, 2, BPF_PSEUDO_FUNC, 0, 5), raw(0)]), "(18) r2 = func pc+5");
  assert.equal(one([raw(0x18, 1)]), "(18) r1 = <lddw missing its second slot>");
  const lines = disassemble([...asm.ldMapFd(1), asm.exit()], {
    immForLoad: (slot) => (slot === 0 ? "map[requests]" : undefined),
  });
  assert.deepEqual(lines, ["   0: (18) r1 = map[requests]", "   2: (95) exit"]);
});

test("jumps, jmp32, calls and exit", () => {
  assert.equal(one(asm.jmpReg(BPF_JGT, 3, 2, 5)), "(2d) if r3 > r2 goto pc+5");
  assert.equal(one(asm.jmp32Imm(BPF_JGT, 1, 5, 2)), "(26) if w1 > 0x5 goto pc+2");
  assert.equal(one(asm.jmp32Reg(BPF_JSLT, 1, 2, -2)), "(ce) if w1 s< w2 goto pc-2");
  assert.equal(one(asm.jmpImm(BPF_JSET, 1, 8, 0)), "(45) if r1 & 0x8 goto pc+0");
  assert.equal(one(asm.jmpImm(BPF_JSGE, 1, -3, 1)), "(75) if r1 s>= 0xfffffffd goto pc+1");
  assert.equal(one(asm.ja(-4)), "(05) goto pc-4");
  assert.equal(one(raw(0x06, 0, 0, 0, 100)), "(06) gotol pc+100");
  assert.equal(one(raw(0xe5, 0, 0, 7)), "(e5) may_goto pc+7");
  assert.equal(one(asm.call(1)), "(85) call bpf_map_lookup_elem#1");
  assert.equal(one(asm.call(131)), "(85) call bpf_ringbuf_reserve#131");
  assert.equal(one(asm.call(9999)), "(85) call unknown#9999");
  assert.equal(one(asm.callLocal(3)), "(85) call pc+3");
  assert.equal(one(raw(0x85, 0, BPF_PSEUDO_KFUNC_CALL, 0, 1234)), "(85) call kernel-function#1234");
  assert.equal(one(asm.exit()), "(95) exit");
  const named = disassemble([asm.callLocal(1), asm.exit(), asm.exit()], {
    symbolForCall: (slot) => (slot === 0 ? "classify" : undefined),
  });
  assert.equal(named[0], "   0: (85) call pc+1#classify");
});

test("unknown encodings print instead of throwing", () => {
  assert.equal(one(raw(0xe4)), "(e4) <unknown opcode 0xe4>"); // ALU op 0xe0
  assert.equal(one(raw(0x96)), "(96) <unknown opcode 0x96>"); // jmp32 exit
  assert.equal(one(raw(0x00)), "(00) <unknown opcode 0x00>"); // lone second half of lddw
  assert.equal(one(raw(0x99)), "(99) <unknown opcode 0x99>"); // ldx memsx dw
  assert.equal(one(raw(0x8f)), "(8f) <unknown opcode 0x8f>"); // neg with X
  assert.equal(formatInsn([], 3), "<no instruction at slot 3>");
});

test("disassemble numbers slots, skips lddw halves, interleaves labels and source lines", () => {
  const prog = [
    asm.ldx(BPF_W, 2, 1, 4),
    ...asm.ldMapFd(1, 4),
    asm.call(1),
    asm.mov64Imm(0, 2),
    asm.exit(),
  ];
  assert.deepEqual(
    disassemble(prog, {
      labels: [{ insn: 0, text: "int trace_http(struct xdp_md * ctx)" }],
      lineInfo: [
        { insn: 0, text: "const ip = ctx.ip();" },
        { insn: 1, text: "requests.insert(ctx, info);" },
        { insn: 4, text: "return XdpAction.Pass;" },
      ],
    }),
    [
      "int trace_http(struct xdp_md * ctx):",
      "; const ip = ctx.ip();",
      "   0: (61) r2 = *(u32 *)(r1 +4)",
      "; requests.insert(ctx, info);",
      "   1: (18) r1 = map[fd:4]",
      "   3: (85) call bpf_map_lookup_elem#1",
      "; return XdpAction.Pass;",
      "   4: (b7) r0 = 2",
      "   5: (95) exit",
    ],
  );
});

test("llvm syntax", () => {
  const l = (i: Insn | Insn[]) => formatInsn(Array.isArray(i) ? i : [i], 0, { syntax: "llvm" });
  assert.equal(l(asm.alu64Imm(BPF_ADD, 3, 14)), "r3 += 0xe");
  assert.equal(l(asm.ldx(BPF_W, 1, 1, -4)), "r1 = *(u32 *)(r1 - 0x4)");
  assert.equal(l(asm.lddw(1, -1n)), "r1 = -0x1 ll");
  assert.equal(l(asm.jmpImm(BPF_JSGE, 1, -3, -2)), "if r1 s>= -0x3 goto -0x2");
  assert.equal(l(asm.call(1)), "call 0x1");
  assert.equal(l(asm.mov64Imm(0, 0)), "r0 = 0x0");
  assert.equal(l(asm.atomic(BPF_DW, 1, 2, 0, BPF_XCHG)), "r2 = xchg_64(r1 + 0x0, r2)");
  assert.equal(l(raw(BPF_MOV | 0x07, 1, 0, 0, -5)), "r1 = -0x5");
});

test("llvm syntax matches llvm-objdump-19 on clang-built objects", (t) => {
  if (!needsClang(t) || !needsObjdump(t)) return;
  const objects = [
    buildCPath(ALL_FORMS_C, "all_forms", { flags: ["-mcpu=v4"] }),
    ...Object.entries(SAMPLE_C).flatMap(([name, src]) => [
      buildCPath(src, name),
      buildCPath(src, name, { flags: ["-mcpu=v4"] }),
    ]),
  ];
  let compared = 0;
  for (const path of objects) {
    const elf = parseElf(new Uint8Array(readFileSync(path)));
    for (const sec of elf.sections) {
      if ((sec.flags & SHF_EXECINSTR) === 0 || sec.size === 0) continue;
      const ours = disassemble(decodeInsns(sec.data), { syntax: "llvm" }).map((l) => l.trim());
      const theirs = objdump(path, ["-d", "--no-show-raw-insn", `--section=${sec.name}`])
        .split("\n")
        .filter((l) => /^\s+\d+:\t/.test(l))
        .map((l) =>
          l
            .trim()
            .replace("\t", " ")
            .replace(/ <[^>]*>$/, ""),
        );
      assert.equal(ours.length, theirs.length, `${path} ${sec.name}: line count`);
      ours.forEach((line, k) => {
        // llvm-objdump-19 cannot print the 32-bit fetch/xchg/cmpxchg forms it assembles.
        if (/^\d+:$/.test(theirs[k]!)) return;
        assert.equal(line, theirs[k], `${path} ${sec.name}`);
        compared++;
      });
    }
  }
  assert.ok(compared > 100, `compared ${compared} lines`);
});

test("property: random slots always disassemble, one line per instruction", () => {
  const insn = fc.record({
    code: fc.integer({ min: 0, max: 255 }),
    dst: fc.integer({ min: 0, max: 15 }),
    src: fc.integer({ min: 0, max: 15 }),
    off: fc.integer({ min: -32768, max: 32767 }),
    imm: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
  });
  for (const syntax of ["bpftool", "llvm"] as const) {
    fc.assert(
      fc.property(fc.array(insn, { maxLength: 40 }), (insns) => {
        const lines = disassemble(insns, { syntax, symbolForCall: () => undefined });
        const wide = insns.filter((x, i) => x.code === 0x18 && i + 1 < insns.length).length;
        assert.ok(lines.length <= insns.length && lines.length >= insns.length - wide);
        for (const l of lines) {
          assert.match(
            l,
            syntax === "bpftool" ? /^ {0,3}\d+: \([0-9a-f]{2}\) \S/ : /^ {0,3}\d+: \S/,
          );
          assert.doesNotMatch(l, /undefined|NaN/);
        }
      }),
      { numRuns: 500 },
    );
  }
  // raw bytes through the decoder too
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
      disassemble(decodeInsns(bytes));
    }),
    { numRuns: 300 },
  );
});
