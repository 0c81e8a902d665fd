// Bit-vector liveness against a plain Set-based dataflow on random control-flow graphs.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  defOf,
  imm,
  reg,
  successors,
  termUses,
  usesOf,
  type Block,
  type Func,
  type Instr,
  type Terminator,
} from "../../../src/compiler/ir/ir.js";
import { liveOutSets, VRegSet, vregBound } from "../../../src/compiler/ir/liveness.js";

/** The textbook iteration on Sets, as eliminateDeadDefs computed it before. */
function reference(f: Func): Set<number>[] {
  const index = new Map(f.blocks.map((b, k) => [b.id, k]));
  const liveIn = f.blocks.map(() => new Set<number>());
  const out = (k: number) => {
    const s = new Set<number>();
    for (const x of successors(f.blocks[k]!.term)) for (const v of liveIn[index.get(x)!]!) s.add(v);
    return s;
  };
  for (let changed = true; changed;) {
    changed = false;
    f.blocks.forEach((b, k) => {
      const live = out(k);
      for (const u of termUses(b.term)) live.add(u);
      for (let j = b.instrs.length - 1; j >= 0; j--) {
        const d = defOf(b.instrs[j]!);
        if (d !== undefined) live.delete(d);
        for (const u of usesOf(b.instrs[j]!)) live.add(u);
      }
      if (live.size !== liveIn[k]!.size) {
        liveIn[k] = live;
        changed = true;
      }
    });
  }
  return f.blocks.map((_, k) => out(k));
}

const members = (s: VRegSet, bound: number): number[] =>
  Array.from({ length: bound }, (_, v) => v).filter((v) => s.has(v));

test("VRegSet: bits across word boundaries, including bit 31", () => {
  const s = VRegSet.empty(70);
  for (const v of [0, 31, 32, 63, 69]) s.add(v);
  s.delete(32);
  assert.deepEqual(members(s, 70), [0, 31, 63, 69]);
  assert.deepEqual([...s.values()], [0, 31, 63, 69], "values() lists the same, ascending");
  const c = s.copy();
  c.delete(31);
  assert.ok(s.has(31) && !c.has(31));
});

test("a value defined before a diamond and read on one side is live out of the entry", () => {
  const blocks: Block[] = [
    {
      id: 0,
      instrs: [{ op: "mov", dst: 40, src: imm(1) }],
      term: { op: "br", cond: "eq", a: reg(1), b: imm(0), t: 1, f: 2 },
    },
    { id: 1, instrs: [], term: { op: "ret", value: reg(40) } },
    { id: 2, instrs: [], term: { op: "ret", value: imm(0) } },
  ];
  const f: Func = { name: "t", ctx: 1, nextVreg: 41, slots: [], blocks };
  const out = liveOutSets(f);
  assert.deepEqual(members(out[0]!, 41), [40]);
  assert.deepEqual(members(out[1]!, 41), []);
});

// Random functions: blocks with moves/ALU over a few vregs (ids spread past 32 and 64), jumps,
// branches and returns to any block (loops included).
const arbFunc = fc.integer({ min: 1, max: 9 }).chain((n) => {
  const vreg = fc.integer({ min: 0, max: 80 });
  const operand = fc.oneof(
    vreg.map(reg),
    fc.integer({ min: 0, max: 3 }).map((v) => imm(v)),
  );
  const instr: fc.Arbitrary<Instr> = fc.oneof(
    fc.record({ op: fc.constant("mov" as const), dst: vreg, src: operand }),
    fc.record({
      op: fc.constant("alu" as const),
      alu: fc.constant("add" as const),
      dst: vreg,
      a: operand,
      b: operand,
    }),
    fc.record({
      op: fc.constant("store" as const),
      base: fc.constant({ kind: "slot" as const, slot: 0 }),
      off: fc.constant(0),
      size: fc.constant(8 as const),
      value: operand,
    }),
  );
  const target = fc.integer({ min: 0, max: n - 1 });
  const term: fc.Arbitrary<Terminator> = fc.oneof(
    fc.record({ op: fc.constant("jmp" as const), target }),
    fc.record({
      op: fc.constant("br" as const),
      cond: fc.constant("eq" as const),
      a: operand,
      b: operand,
      t: target,
      f: target,
    }),
    fc.record({ op: fc.constant("ret" as const), value: operand }),
  );
  return fc
    .array(fc.record({ instrs: fc.array(instr, { maxLength: 5 }), term }), {
      minLength: n,
      maxLength: n,
    })
    .map((bs): Func => ({
      name: "r",
      ctx: 0,
      nextVreg: 1,
      slots: [],
      blocks: bs.map((b, id) => ({ id, ...b })),
    }));
});

test("liveOutSets agrees with the Set-based dataflow (property)", () => {
  fc.assert(
    fc.property(arbFunc, (f) => {
      const bound = vregBound(f);
      const got = liveOutSets(f).map((s) => members(s, bound));
      const want = reference(f).map((s) => [...s].sort((a, b) => a - b));
      assert.deepEqual(got, want);
    }),
    { numRuns: 300 },
  );
});
