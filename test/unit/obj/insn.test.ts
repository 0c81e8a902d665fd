import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  asm,
  BPF_ADD,
  BPF_AND,
  BPF_B,
  BPF_CMPXCHG,
  BPF_DIV,
  BPF_DW,
  BPF_FETCH,
  BPF_H,
  BPF_JEQ,
  BPF_JGT,
  BPF_JSGE,
  BPF_JSLT,
  BPF_MOD,
  BPF_SUB,
  BPF_W,
  BPF_XCHG,
  decodeInsns,
  encodeInsns,
  isCall,
  isExit,
  isPseudoCall,
  isWide,
  wideImm,
  type Insn,
} from "../../../src/obj/insn.js";
import { parseElf } from "../../../src/obj/elf.js";
import { ALL_FORMS_C, buildC, needsClang } from "../../support/fixtures.js";

const insnArb = fc
  .record({
    code: fc.integer({ min: 0, max: 255 }),
    dst: fc.integer({ min: 0, max: 15 }),
    src: fc.integer({ min: 0, max: 15 }),
    off: fc.integer({ min: -32768, max: 32767 }),
    imm: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
  })
  .map((r): Insn => ({ ...r })); // plain objects: fc.record's have a null prototype

test("encode/decode round trip for any slot", () => {
  fc.assert(
    fc.property(fc.array(insnArb, { maxLength: 64 }), (insns) => {
      const bytes = encodeInsns(insns);
      assert.equal(bytes.byteLength, insns.length * 8);
      assert.deepEqual(decodeInsns(bytes), insns);
    }),
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      const whole = bytes.subarray(0, bytes.length - (bytes.length % 8));
      assert.deepEqual(encodeInsns(decodeInsns(bytes)), whole);
    }),
  );
});

test("decode works on a subarray at an odd byte offset", () => {
  const buf = new Uint8Array(17);
  buf.set(encodeInsns([asm.mov64Imm(3, -7), asm.exit()]), 1);
  assert.deepEqual(decodeInsns(buf.subarray(1)), [asm.mov64Imm(3, -7), asm.exit()]);
});

test("encoding layout: opcode, dst low nibble, src high nibble, LE off and imm", () => {
  const bytes = encodeInsns([asm.ldx(BPF_W, 2, 1, -4), asm.mov64Imm(0, 0x12345678)]);
  assert.deepEqual(
    [...bytes],
    [0x61, 0x12, 0xfc, 0xff, 0, 0, 0, 0, 0xb7, 0x00, 0, 0, 0x78, 0x56, 0x34, 0x12],
  );
});

test("lddw builders and wideImm", () => {
  const [lo, hi] = asm.lddw(1, 0x1122334455667788n);
  assert.equal(wideImm(lo, hi), 0x1122334455667788n);
  const [lo2, hi2] = asm.lddw(1, -1n);
  assert.equal(lo2.imm, -1);
  assert.equal(hi2.imm, -1);
  assert.equal(wideImm(lo2, hi2), 0xffffffffffffffffn);
  assert.ok(isWide(lo) && !isWide(hi));
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (v) => {
      const [a, b] = asm.lddw(0, v);
      assert.equal(wideImm(a, b), v);
    }),
  );
  const [m, m2] = asm.ldMapValue(2, 7, 24);
  assert.deepEqual([m.src, m.imm, m2.imm], [2, 7, 24]);
});

test("predicates", () => {
  assert.ok(isCall(asm.call(1)) && !isPseudoCall(asm.call(1)));
  assert.ok(isPseudoCall(asm.callLocal(4)));
  assert.ok(isExit(asm.exit()) && !isExit(asm.call(1)));
});

test("builders encode exactly what clang's assembler emits", (t) => {
  if (!needsClang(t)) return;
  const elf = parseElf(buildC(ALL_FORMS_C, "all_forms", { flags: ["-mcpu=v4"] }));
  const got = decodeInsns(elf.section("socket")!.data);
  // slot → the builder call that must produce the same slot (see ALL_FORMS_C)
  const expected: [number, Insn | Insn[]][] = [
    [0, asm.mov64Imm(0, 2)],
    [1, asm.mov32Imm(1, -3)],
    [2, asm.mov64Reg(2, 1)],
    [3, asm.mov32Reg(3, 2)],
    [4, asm.alu64Imm(BPF_ADD, 3, 14)],
    [5, asm.alu32Reg(BPF_SUB, 3, 2)],
    [7, asm.alu64Imm(BPF_DIV, 4, 7)],
    [8, asm.alu64Reg(BPF_MOD, 4, 3)],
    [18, asm.neg64(6)],
    [20, asm.endian(1, 16, true)],
    [21, asm.endian(1, 32, false)],
    [22, asm.endian(1, 64, true)],
    [28, asm.ldx(BPF_W, 1, 1, 4)],
    [29, asm.ldx(BPF_B, 1, 1, -4)],
    [30, asm.ldx(BPF_DW, 1, 10, -8)],
    [34, asm.stx(BPF_W, 10, 1, -4)],
    [35, asm.stx(BPF_H, 10, 1, -6)],
    [36, asm.st(BPF_DW, 10, -16, 7)],
    [37, asm.st(BPF_B, 10, -1, -1)],
    [38, asm.atomic(BPF_DW, 1, 2, 0, BPF_ADD)],
    [39, asm.atomic(BPF_DW, 1, 2, 0, BPF_AND)],
    [42, asm.atomic(BPF_DW, 1, 2, 0, BPF_ADD | BPF_FETCH)],
    [43, asm.atomic(BPF_W, 1, 2, 0, BPF_AND | BPF_FETCH)],
    [44, asm.atomic(BPF_DW, 1, 2, 0, BPF_XCHG)],
    [46, asm.atomic(BPF_DW, 1, 2, 0, BPF_CMPXCHG)],
    [48, asm.lddw(1, 0x123456789abcdefn)],
    [50, asm.lddw(1, -1n)],
    [52, asm.jmpReg(BPF_JGT, 3, 2, 5)],
    [53, asm.jmpImm(BPF_JEQ, 1, 5, 1)],
    [54, asm.jmp32Imm(BPF_JGT, 1, 5, 2)],
    [55, asm.jmp32Reg(BPF_JSLT, 1, 2, -2)],
    [57, asm.jmpImm(BPF_JSGE, 1, -3, 0)],
    [58, asm.ja(1)],
    [60, asm.call(1)],
    [62, asm.ldAbs(BPF_B, 12)],
  ];
  for (const [slot, want] of expected) {
    const w = Array.isArray(want) ? want : [want];
    assert.deepEqual(got.slice(slot, slot + w.length), w, `slot ${slot}`);
  }
  assert.deepEqual(got.at(-1), asm.exit());
});
