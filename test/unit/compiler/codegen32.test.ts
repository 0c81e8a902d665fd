// Instruction-level tests of the code-size work of issue 12: 32-bit ALU for `>>>` and
// zero-extensions, join constants, byte-swap pairs, subprogram arguments in registers, and
// the encoding of Atomics (BPF_FETCH, BPF_XCHG, BPF_CMPXCHG with its implicit r0).
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  asm,
  BPF_ADD,
  BPF_CMPXCHG,
  BPF_FETCH,
  BPF_XCHG,
  R0,
  type Insn,
} from "../../../src/obj/insn.js";
import { entryMoves } from "../../../src/compiler/backend/isel.js";
import { HEADER, compileSource } from "./support.js";

const ALU32_RSH_X = 0x7c; // BPF_ALU | BPF_RSH | BPF_X
const ALU32_RSH_K = 0x74;
const MOV32_X = 0xbc;
const ALU64_LSH_K = 0x67;
const ENDIAN = 0xdc;
const ATOMIC_DW = 0xdb; // BPF_STX | BPF_ATOMIC | BPF_DW
const ATOMIC_W = 0xc3;

const insnsOf = (body: string, extra = ""): Insn[] => {
  const out = compileSource(
    HEADER.replace("import {", "import { Atomics,") +
      `const io = map("io", new ArrayMap(u64, { maxEntries: 4 }));\n${extra}` +
      `export const p = xdp((ctx: XdpContext) => {\n${body}\n  return XdpAction.Pass;\n});\n`,
    { raw: true },
  );
  return [...out.programs, ...out.subprograms].flatMap((p) => p.insns);
};
const codes = (xs: Insn[]) => xs.map((i) => i.code);

test("x >>> n with a run-time count is `w = w >> (n & 31)`, no 64-bit shift pair", () => {
  const xs = insnsOf(
    "const x = toNumber(io.get(0) ?? 0n); const n = toNumber(io.get(1) ?? 0n); io.set(2, toBigInt(x >>> n));",
  );
  assert.ok(codes(xs).includes(ALU32_RSH_X), "a 32-bit shift by a register");
  assert.ok(!codes(xs).includes(ALU64_LSH_K), "no `<<= 32`");
  // the count is masked: the ISA takes counts modulo 32 for w shifts, the verifier calls a
  // count of 32 or more undefined, so the & 31 stays unless the count is known to be small
  assert.ok(
    xs.some((i) => (i.code === 0x57 || i.code === 0x54) && i.imm === 31),
    "r &= 31 on the count",
  );
});

test("x >>> (Number(c) << 4): the count is 0 or 16 in the paths, unmasked, one w shift", () => {
  const xs = insnsOf(
    "const x = toNumber(io.get(0) ?? 0n); const r = Number(x > 0xffff) << 4; io.set(2, toBigInt(x >>> r));",
  );
  assert.ok(codes(xs).includes(ALU32_RSH_X));
  assert.ok(!xs.some((i) => (i.code & 0xf0) === 0x50 && (i.code & 7) !== 5 && i.imm === 31));
  assert.ok(
    xs.some((i) => i.code === 0xb7 && i.imm === 16),
    "r = 16 on the taken path",
  );
  assert.ok(!xs.some((i) => i.code === ALU64_LSH_K && i.imm === 4), "no shift of the 0/1 join");
});

test("x >>> 0 read as a 64-bit value is one `w = w` (zero-extension); x >>> 5 a w shift", () => {
  const z = insnsOf("io.set(2, toBigInt(toNumber(io.get(0) ?? 0n) >>> 0) + 1n);");
  assert.ok(codes(z).includes(MOV32_X));
  assert.ok(!codes(z).includes(ALU64_LSH_K));
  const s = insnsOf("io.set(2, toBigInt(toNumber(io.get(0) ?? 0n) >>> 5));");
  assert.ok(s.some((i) => i.code === ALU32_RSH_K && i.imm === 5));
  assert.ok(!codes(s).includes(ALU64_LSH_K));
});

test("a be32 key from a header address is stored as loaded: no swap pair", () => {
  const out = compileSource(
    `const counts = map("counts", new HashMap(be32, u64, { maxEntries: 16 }));\n` +
      `export const p = xdp((ctx: XdpContext) => {\n  const ip = ctx.ip();\n  if (ip === null || ip.version !== 4) return XdpAction.Pass;\n  counts.set(ip.saddr, 1n);\n  return XdpAction.Pass;\n});\n`,
  );
  assert.ok(!codes(out.programs[0]!.insns).includes(ENDIAN));
});

test("subprogram arguments stay in registers: no stack store at entry", () => {
  const xs = insnsOf(
    "io.set(2, toBigInt(f(toNumber(io.get(0) ?? 0n), 3, 4)));",
    "/** @noinline */\nfunction f(a: number, b: number, c: number): number { return a * b + c; }\n",
  );
  const out = compileSource(
    `/** @noinline */\nfunction f(a: number, b: number, c: number): number { return a * b + c; }\n` +
      `export const p = xdp((ctx: XdpContext) => f(ctx.len(), 2, 1) > 100 ? XdpAction.Drop : XdpAction.Pass);\n`,
  );
  const sub = out.subprograms[0]!.insns;
  assert.ok(!sub.some((i) => (i.code & 7) === 3 && i.dst === 10), "no *(r10 - k) = rN");
  assert.ok(sub.length <= 4, `r0 = r1; r0 *= r2; r0 += r3; exit (got ${sub.length})`);
  assert.ok(xs.length > 0);
});

test("entry moves: a register cycle is broken through r0, spills are stored first", () => {
  const out: Insn[] = [];
  entryMoves(
    [
      { from: 1, to: { kind: "reg", reg: 2 } },
      { from: 2, to: { kind: "reg", reg: 1 } },
      { from: 3, to: { kind: "spill", index: 0 } },
    ],
    out,
    () => -8,
  );
  assert.deepEqual(out, [
    asm.stx(0x18, 10, 3, -8),
    asm.mov64Reg(R0, 1),
    asm.mov64Reg(1, 2),
    asm.mov64Reg(2, R0),
  ]);
});

test("Atomics encodings: fetch forms, plain lock form for statements, xchg, cmpxchg through r0", () => {
  const xs = insnsOf(
    `const V = 0;
  const c = cs.get(0);
  if (c === null) return XdpAction.Pass;
  io.set(0, Atomics.add(c, "a", 2n));
  Atomics.add(c, "a", 3n);
  io.set(1, toBigInt(Atomics.xor(c, "w", 1)));
  io.set(2, Atomics.exchange(c, "a", 7n));
  io.set(3, Atomics.compareExchange(c, "a", 7n, 8n));`,
    `const C = struct("C", { a: u64, w: u32, pad: u32 });\nconst cs = map("cs", new ArrayMap(C, { maxEntries: 1 }));\n`,
  );
  const atomics = xs.filter((i) => i.code === ATOMIC_DW || i.code === ATOMIC_W);
  assert.deepEqual(
    atomics.map((i) => [i.code, i.imm]),
    [
      [ATOMIC_DW, BPF_ADD | BPF_FETCH],
      [ATOMIC_DW, BPF_ADD],
      [ATOMIC_W, 0xa0 | BPF_FETCH],
      [ATOMIC_DW, BPF_XCHG],
      [ATOMIC_DW, BPF_CMPXCHG],
    ],
  );
  // cmpxchg compares with r0: the expected value 7 is put there right before it
  const k = xs.findIndex((i) => i.code === ATOMIC_DW && i.imm === BPF_CMPXCHG);
  const setR0 = xs
    .slice(0, k)
    .reverse()
    .find((i) => i.dst === R0);
  assert.deepEqual(setR0 && [setR0.code, setR0.imm], [0xb7, 7]);
  assert.notEqual(xs[k]!.src, R0, "the replacement is another register");
});
