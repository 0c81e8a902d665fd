// Register allocation on live ranges with holes, on hand-built IR.
import { test } from "node:test";
import assert from "node:assert/strict";
import { imm, reg, type Block, type Func } from "../../../src/compiler/ir/ir.js";
import { allocate, liveRanges, overlaps } from "../../../src/compiler/backend/regalloc.js";

const func = (blocks: Omit<Block, "id">[]): Func => ({
  name: "t",
  ctx: 1,
  nextVreg: 100,
  slots: [],
  blocks: blocks.map((b, id) => ({ ...b, id })),
});

const regOf = (f: Func, v: number): number => {
  const l = allocate(f).loc.get(v);
  assert.ok(l && l.kind === "reg", `v${v} is in a register`);
  return l.reg;
};

test("a value's range has a hole over a block laid out between its uses", () => {
  // b0 defines v2 and branches; b1 (laid out between) does not need v2; b2 reads it.
  const f = func([
    {
      instrs: [{ op: "load", dst: 2, base: { kind: "reg", id: 1 }, off: 0, size: 4 }],
      term: { op: "br", cond: "eq", a: reg(2), b: imm(0), t: 1, f: 2 },
    },
    {
      instrs: [
        { op: "mov", dst: 3, src: imm(7) },
        { op: "store", base: { kind: "reg", id: 1 }, off: 0, size: 4, value: reg(3) },
      ],
      term: { op: "ret", value: imm(0) },
    },
    { instrs: [], term: { op: "ret", value: reg(2) } },
  ]);
  const { ranges } = liveRanges(f);
  const v2 = ranges.get(2)!;
  const v3 = ranges.get(3)!;
  assert.equal(v2.length, 2, JSON.stringify(v2)); // live in b0 and b2, not in b1
  assert.equal(overlaps(v2, v3), false);
  // so v3 may share v2's register
  const a = allocate(f);
  assert.deepEqual(a.loc.get(3), a.loc.get(2));
  assert.equal(a.spillSlots, 0);
});

test("only a call a value is live across forces it into r6–r9", () => {
  // v2 dies before the call on one path; the call is on the other path.
  const f = func([
    {
      instrs: [{ op: "load", dst: 2, base: { kind: "reg", id: 1 }, off: 0, size: 4 }],
      term: { op: "br", cond: "eq", a: reg(2), b: imm(0), t: 1, f: 2 },
    },
    {
      instrs: [{ op: "call", dst: 4, helper: 5, args: [] }],
      term: { op: "ret", value: reg(4) },
    },
    {
      instrs: [{ op: "alu", alu: "add", dst: 5, a: reg(2), b: imm(1) }],
      term: { op: "ret", value: reg(5) },
    },
  ]);
  assert.ok([1, 2, 3, 4].includes(regOf(f, 2)), "v2 stays in a caller-saved register");
  // a value read after the call must survive it
  const g = func([
    {
      instrs: [
        { op: "load", dst: 2, base: { kind: "reg", id: 1 }, off: 0, size: 4 },
        { op: "call", dst: 4, helper: 5, args: [] },
        { op: "alu", alu: "add", dst: 5, a: reg(2), b: reg(4) },
      ],
      term: { op: "ret", value: reg(5) },
    },
  ]);
  assert.ok([6, 7, 8, 9].includes(regOf(g, 2)), "v2 lives across the call in r6–r9");
});

test("a source dying at an instruction hands its register to the result", () => {
  const f = func([
    {
      instrs: [
        { op: "load", dst: 2, base: { kind: "reg", id: 1 }, off: 0, size: 4 },
        { op: "alu", alu: "add", dst: 3, a: reg(2), b: imm(1) },
        { op: "alu", alu: "mul", dst: 4, a: reg(3), b: imm(3) },
        { op: "store", base: { kind: "reg", id: 1 }, off: 0, size: 4, value: reg(4) },
      ],
      term: { op: "ret", value: imm(0) },
    },
  ]);
  const r = regOf(f, 2);
  assert.equal(regOf(f, 3), r);
  assert.equal(regOf(f, 4), r);
});

test("overlapping values never share a register or a spill slot", () => {
  // 12 values all live at once: eight registers, the rest spilled to distinct slots.
  const n = 12;
  const instrs: Func["blocks"][number]["instrs"] = [];
  for (let k = 0; k < n; k++)
    instrs.push({ op: "load", dst: 10 + k, base: { kind: "reg", id: 1 }, off: 4 * k, size: 4 });
  let acc = 10;
  for (let k = 1; k < n; k++) {
    instrs.push({ op: "alu", alu: "add", dst: 30 + k, a: reg(acc), b: reg(10 + k) });
    acc = 30 + k;
  }
  const f = func([{ instrs, term: { op: "ret", value: reg(acc) } }]);
  const { ranges } = liveRanges(f);
  const a = allocate(f);
  const vs = [...ranges.keys()];
  for (const x of vs)
    for (const y of vs) {
      if (x >= y || !overlaps(ranges.get(x)!, ranges.get(y)!)) continue;
      assert.notDeepEqual(a.loc.get(x), a.loc.get(y), `v${x} and v${y} overlap`);
    }
  assert.ok(a.spillSlots >= 1);
});

test("a helper's result stays in r0 unless a spill or call needs r0 while it lives", () => {
  // v = lookup(); if (v == 0) ret 0; atomic_add [v], 1; ret 2
  const mk = (between: Func["blocks"][number]["instrs"]) =>
    func([
      {
        instrs: [
          { op: "mapfd", dst: 2, map: "m" },
          { op: "call", dst: 3, helper: 1, args: [reg(2), reg(1)] },
        ],
        term: { op: "br", cond: "eq", a: reg(3), b: imm(0), t: 1, f: 2 },
      },
      { instrs: [], term: { op: "ret", value: imm(0) } },
      {
        instrs: [
          ...between,
          { op: "atomicAdd", base: { kind: "reg", id: 3 }, off: 0, size: 8, value: imm(1) },
        ],
        term: { op: "ret", value: imm(2) },
      },
    ]);
  assert.equal(regOf(mk([]), 3), 0);
  // a later helper call clobbers r0: the result moves to a callee-saved register
  const g = mk([{ op: "call", dst: undefined, helper: 5, args: [] }]);
  assert.ok([6, 7, 8, 9].includes(regOf(g, 3)));
});

test("a value read only by returns is computed in r0, unless r0 is scratch while it lives", () => {
  // v2 = load; if v2 == 0 ret v3 = 5 else ret v4 = v2 + 1: no `r0 = rX` before either exit.
  const f = func([
    {
      instrs: [{ op: "load", dst: 2, base: { kind: "reg", id: 1 }, off: 0, size: 4 }],
      term: { op: "br", cond: "eq", a: reg(2), b: imm(0), t: 1, f: 2 },
    },
    { instrs: [{ op: "mov", dst: 3, src: imm(5) }], term: { op: "ret", value: reg(3) } },
    {
      instrs: [{ op: "alu", alu: "add", dst: 4, a: reg(2), b: imm(1) }],
      term: { op: "ret", value: reg(4) },
    },
  ]);
  assert.equal(regOf(f, 3), 0);
  assert.equal(regOf(f, 4), 0);
  assert.notEqual(regOf(f, 2), 0, "a value a branch reads is not a return value");
  // a store of a spilled/immediate-64 value while it lives needs r0: it moves out again
  const g = func([
    {
      instrs: [
        { op: "load", dst: 2, base: { kind: "reg", id: 1 }, off: 0, size: 4 },
        { op: "store", base: { kind: "reg", id: 1 }, off: 8, size: 8, value: imm(1n << 40n) },
      ],
      term: { op: "ret", value: reg(2) },
    },
  ]);
  assert.notEqual(regOf(g, 2), 0);
  // a returned value live across a call cannot be in r0 (nor r1–r5)
  const h = func([
    {
      instrs: [
        { op: "load", dst: 2, base: { kind: "reg", id: 1 }, off: 0, size: 4 },
        { op: "call", dst: undefined, helper: 5, args: [] },
      ],
      term: { op: "ret", value: reg(2) },
    },
  ]);
  assert.ok([6, 7, 8, 9].includes(regOf(h, 2)));
});

test("a copy of a join value dying on its path takes its register though it lives on later", () => {
  // b0 → b1 (v3 = v2 + 1) → b2: v4 = v3; b3 (laid out last) sets v3 = v2 + 2 and jumps to b2,
  // so v3 has a segment after the copy in layout order. The context (r1) is free in b2, where
  // first fit would put v4; the copy coalesces instead.
  const st = { op: "store", base: { kind: "reg", id: 1 }, off: 8, size: 4, value: imm(0) } as const;
  const f = func([
    {
      instrs: [{ op: "load", dst: 2, base: { kind: "reg", id: 1 }, off: 0, size: 4 }],
      term: { op: "br", cond: "eq", a: reg(2), b: imm(0), t: 1, f: 3 },
    },
    {
      instrs: [{ op: "alu", alu: "add", dst: 3, a: reg(2), b: imm(1) }, st],
      term: { op: "jmp", target: 2 },
    },
    {
      instrs: [
        { op: "mov", dst: 4, src: reg(3) },
        { op: "load", dst: 5, base: { kind: "reg", id: 4 }, off: 0, size: 4 },
      ],
      term: { op: "ret", value: reg(5) },
    },
    {
      instrs: [{ op: "alu", alu: "add", dst: 3, a: reg(2), b: imm(2) }, st],
      term: { op: "jmp", target: 2 },
    },
  ]);
  const v3 = liveRanges(f).ranges.get(3)!;
  assert.ok(v3.length >= 2, JSON.stringify(v3));
  assert.equal(regOf(f, 1), 1);
  assert.notEqual(regOf(f, 3), 1);
  assert.equal(regOf(f, 4), regOf(f, 3));
});

test("a value dying into a copy to a join value takes the join value's register", () => {
  // v3 is 0 on one path and a loaded byte (v5, copied) on the other, laid out after: the load
  // writes v3's register directly rather than its base's (which dies there too).
  const ctx = { kind: "reg", id: 1 } as const;
  const f = func([
    {
      instrs: [{ op: "load", dst: 2, base: ctx, off: 0, size: 4 }],
      term: { op: "br", cond: "eq", a: reg(2), b: imm(0), t: 1, f: 3 },
    },
    { instrs: [{ op: "mov", dst: 3, src: imm(0) }], term: { op: "jmp", target: 2 } },
    {
      instrs: [{ op: "store", base: ctx, off: 8, size: 4, value: reg(3) }],
      term: { op: "ret", value: imm(0) },
    },
    {
      instrs: [
        { op: "load", dst: 6, base: ctx, off: 4, size: 4 },
        { op: "alu", alu: "add", dst: 4, a: reg(1), b: imm(14) },
        { op: "store", base: ctx, off: 16, size: 4, value: reg(6) },
        { op: "load", dst: 5, base: { kind: "reg", id: 4 }, off: 0, size: 1 },
        { op: "mov", dst: 3, src: reg(5) },
      ],
      term: { op: "jmp", target: 2 },
    },
  ]);
  assert.notEqual(regOf(f, 4), regOf(f, 3));
  assert.equal(regOf(f, 5), regOf(f, 3));
});
