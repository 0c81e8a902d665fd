// Demanded bits: truncations nobody reads are dropped, on hand-built IR, and a property test
// that running a random straight-line program before and after gives the same stores and
// return value.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  imm,
  printFunc,
  reg,
  type AluOp,
  type Block,
  type Func,
  type Instr,
  type Operand,
  type Size,
} from "../../../src/compiler/ir/ir.js";
import { demandedBits, dropUnreadTruncations } from "../../../src/compiler/opt/demanded.js";
import { evalAlu } from "../../../src/compiler/ir/eval.js";
import { simplify } from "../../../src/compiler/pipeline.js";

const func = (blocks: Omit<Block, "id">[]): Func => ({
  name: "t",
  ctx: 1,
  nextVreg: 100,
  slots: [{ size: 8, align: 8, what: "out" }],
  blocks: blocks.map((b, id) => ({ ...b, id })),
});
const slot0 = { kind: "slot", slot: 0 } as const;
const zext32 = (d: number, x: number, t: number): Instr[] => [
  { op: "alu", alu: "lsh", dst: t, a: reg(x), b: imm(32) },
  { op: "alu", alu: "rsh", dst: d, a: reg(t), b: imm(32) },
];
const ops = (f: Func): string[] =>
  f.blocks.flatMap((b) => b.instrs.map((i) => i.op + ("alu" in i ? i.alu : "")));

test("a u32 hash step's zero-extension goes when only a 4-byte store reads the result", () => {
  // h = ((load ^ 5) * P) >>> 0, twice; stored as 4 bytes
  const f = func([
    {
      instrs: [
        { op: "load", dst: 2, base: { kind: "reg", id: 1 }, off: 0, size: 1 },
        { op: "alu", alu: "xor", dst: 3, a: reg(2), b: imm(5) },
        { op: "alu", alu: "mul", dst: 4, a: reg(3), b: imm(0x01000193) },
        ...zext32(6, 4, 5),
        { op: "alu", alu: "xor", dst: 7, a: reg(6), b: reg(2) },
        { op: "alu", alu: "mul", dst: 8, a: reg(7), b: imm(0x01000193) },
        ...zext32(10, 8, 9),
        { op: "store", base: slot0, off: 0, size: 4, value: reg(10) },
      ],
      term: { op: "ret", value: imm(0) },
    },
  ]);
  assert.equal(demandedBits(f).get(10), 0xffffffffn);
  assert.equal(dropUnreadTruncations(f), true);
  simplify(f);
  assert.ok(!ops(f).includes("alursh") && !ops(f).includes("alulsh"), printFunc(f));
});

test("a truncation stays when a branch, an 8-byte store or a wider read sees the high half", () => {
  const mk = (use: Pick<Block, "instrs" | "term">) =>
    func([
      {
        instrs: [
          { op: "load", dst: 2, base: { kind: "reg", id: 1 }, off: 0, size: 8 },
          ...zext32(4, 2, 3),
          { op: "alu", alu: "and", dst: 5, a: reg(2), b: imm(0xff) },
          ...use.instrs,
        ],
        term: use.term,
      },
    ]);
  const kept = (f: Func) => {
    dropUnreadTruncations(f);
    return printFunc(f);
  };
  const ret0 = { op: "ret", value: imm(0) } as const;
  const store = (size: Size, v: number): Instr => ({
    op: "store",
    base: slot0,
    off: 0,
    size,
    value: reg(v),
  });
  assert.match(kept(mk({ instrs: [], term: { op: "ret", value: reg(4) } })), /rsh/);
  assert.match(kept(mk({ instrs: [store(8, 4)], term: ret0 })), /rsh/);
  assert.doesNotMatch(kept(mk({ instrs: [store(4, 4)], term: ret0 })), /rsh/);
  // `x & 0xff` is x for a 1-byte store, not for a 2-byte one
  assert.doesNotMatch(kept(mk({ instrs: [store(1, 5)], term: ret0 })), /and/);
  assert.match(kept(mk({ instrs: [store(2, 5)], term: ret0 })), /and/);
  // a right shift reads the high half of its operand
  assert.match(
    kept(
      mk({
        instrs: [{ op: "alu", alu: "rsh", dst: 6, a: reg(4), b: imm(8) }, store(4, 6)],
        term: ret0,
      }),
    ),
    /v4 = rsh v3, 32/,
  );
});

test("the shift pair is not folded when its source changes in between", () => {
  const f = func([
    {
      instrs: [
        { op: "load", dst: 2, base: { kind: "reg", id: 1 }, off: 0, size: 8 },
        { op: "alu", alu: "lsh", dst: 3, a: reg(2), b: imm(32) },
        { op: "load", dst: 2, base: { kind: "reg", id: 1 }, off: 8, size: 8 },
        { op: "alu", alu: "rsh", dst: 4, a: reg(3), b: imm(32) },
        { op: "store", base: slot0, off: 0, size: 4, value: reg(4) },
      ],
      term: { op: "ret", value: imm(0) },
    },
  ]);
  assert.equal(dropUnreadTruncations(f), false, printFunc(f));
});

// ---- property: same observable behaviour on random straight-line programs ----

/** Runs a one-block function: loads read `input`, stores write `out`; returns [ret, out]. */
function run(f: Func, input: bigint[]): [bigint, string] {
  const v = new Map<number, bigint>();
  const val = (o: Operand) => (o.kind === "imm" ? o.value : v.get(o.id)!);
  const out = new Uint8Array(8);
  const b = f.blocks[0]!;
  for (const i of b.instrs) {
    if (i.op === "load") v.set(i.dst, input[i.off / 8]!);
    else if (i.op === "alu") v.set(i.dst, evalAlu(i.alu, val(i.a), val(i.b)));
    else if (i.op === "mov") v.set(i.dst, val(i.src));
    else if (i.op === "store") {
      let x = BigInt.asUintN(64, val(i.value));
      for (let k = 0; k < i.size; k++, x >>= 8n) out[i.off + k] = Number(x & 0xffn);
    } else throw new Error(`unexpected ${i.op}`);
  }
  if (b.term.op !== "ret") throw new Error("unexpected terminator");
  return [val(b.term.value), Buffer.from(out).toString("hex")];
}

const ALU: AluOp[] = ["add", "sub", "mul", "and", "or", "xor", "lsh", "rsh", "arsh"];
const step = fc.oneof(
  fc.record({
    kind: fc.constant("alu" as const),
    alu: fc.constantFrom(...ALU),
    a: fc.nat(40),
    b: fc.oneof(
      fc.nat(40),
      fc.bigInt({ min: 0n, max: 63n }).map((x) => ({ k: x })),
      fc.bigInt({ min: -(1n << 40n), max: 1n << 40n }).map((x) => ({ k: x })),
    ),
  }),
  fc.record({ kind: fc.constant("zext" as const), a: fc.nat(40) }),
  fc.record({
    kind: fc.constant("mask" as const),
    a: fc.nat(40),
    k: fc.constantFrom(0xffn, 0xffffn, 0xffffffffn, 0xf0n),
  }),
);

test("property: dropping unread truncations keeps every store and the return value", () => {
  fc.assert(
    fc.property(
      fc.array(step, { minLength: 1, maxLength: 24 }),
      fc.constantFrom<Size>(1, 2, 4, 8),
      fc.boolean(),
      fc.array(fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }), {
        minLength: 2,
        maxLength: 2,
      }),
      (steps, size, retLast, input) => {
        const instrs: Instr[] = [
          { op: "load", dst: 2, base: { kind: "reg", id: 1 }, off: 0, size: 8 },
          { op: "load", dst: 3, base: { kind: "reg", id: 1 }, off: 8, size: 8 },
        ];
        const vals = [2, 3];
        let next = 4;
        const pick = (n: number) => vals[n % vals.length]!;
        for (const s of steps) {
          const d = next++;
          if (s.kind === "alu") {
            const b = typeof s.b === "number" ? reg(pick(s.b)) : imm(s.b.k);
            instrs.push({ op: "alu", alu: s.alu, dst: d, a: reg(pick(s.a)), b });
          } else if (s.kind === "zext") {
            instrs.push(...zext32(d, pick(s.a), next++));
          } else instrs.push({ op: "alu", alu: "and", dst: d, a: reg(pick(s.a)), b: imm(s.k) });
          vals.push(d);
        }
        const last = vals[vals.length - 1]!;
        instrs.push({ op: "store", base: slot0, off: 0, size, value: reg(last) });
        const f = func([{ instrs, term: { op: "ret", value: retLast ? reg(last) : imm(0) } }]);
        const before = run(f, input);
        dropUnreadTruncations(f);
        assert.deepEqual(run(f, input), before, printFunc(f));
      },
    ),
    { numRuns: 500 },
  );
});
