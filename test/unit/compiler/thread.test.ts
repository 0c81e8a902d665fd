// Branch threading, liveness DCE, raw-field compares and layout on hand-built IR.
import { test } from "node:test";
import assert from "node:assert/strict";
import { imm, printFunc, reg, type Block, type Func } from "../../../src/compiler/ir.js";
import { optimize } from "../../../src/compiler/passes.js";
import {
  compareRawFields,
  eliminateDeadDefs,
  layoutBlocks,
  threadKnownBranches,
} from "../../../src/compiler/thread.js";

const func = (blocks: Omit<Block, "id">[]): Func => ({
  name: "t",
  ctx: 1,
  nextVreg: 100,
  slots: [],
  blocks: blocks.map((b, id) => ({ ...b, id })),
});

// The lowering's shape of `const ip = parse(); if (!ip) return 2; return ip[0]`: the failure
// path sets the merged vreg to 0 and jumps to the join, which tests it again.
const mergedParse = (): Func =>
  func([
    /* b0 */ {
      instrs: [{ op: "load", dst: 2, base: { kind: "reg", id: 1 }, off: 0, size: 4 }],
      term: { op: "br", cond: "gt", a: reg(2), b: imm(100), t: 1, f: 2 },
    },
    /* b1 fail */ { instrs: [{ op: "mov", dst: 4, src: imm(0) }], term: { op: "jmp", target: 3 } },
    /* b2 ok */ {
      instrs: [
        { op: "load", dst: 5, base: { kind: "reg", id: 2 }, off: 0, size: 1 },
        { op: "mov", dst: 4, src: reg(2) },
      ],
      term: { op: "jmp", target: 3 },
    },
    /* b3 join */ { instrs: [], term: { op: "br", cond: "eq", a: reg(4), b: imm(0), t: 4, f: 5 } },
    /* b4 */ { instrs: [], term: { op: "ret", value: imm(2) } },
    /* b5 */ {
      instrs: [{ op: "load", dst: 6, base: { kind: "reg", id: 4 }, off: 0, size: 1 }],
      term: { op: "ret", value: reg(6) },
    },
  ]);

test("a failure path jumps to its continuation; a dereferenced pointer is not null-tested", () => {
  const f = mergedParse();
  optimize(f);
  const ir = printFunc(f);
  assert.doesNotMatch(ir, /br eq v4, 0/, ir);
  assert.doesNotMatch(ir, /v4 = 0/, ir);
  // b0's failure side now returns directly
  const entry = f.blocks[0]!.term;
  assert.equal(entry.op, "br");
  if (entry.op === "br") {
    const fail = f.blocks[entry.t]!;
    assert.deepEqual(fail.term, { op: "ret", value: imm(2) }, ir);
  }
});

test("threading keeps an undecided join (the vreg may be zero on both sides)", () => {
  const f = mergedParse();
  // the success path no longer dereferences the value, so nothing says it is non-zero
  f.blocks[2]!.instrs = [{ op: "mov", dst: 4, src: reg(2) }];
  threadKnownBranches(f);
  const b2 = f.blocks[2]!;
  assert.deepEqual(b2.term, { op: "jmp", target: 3 });
  assert.deepEqual(f.blocks[1]!.term, { op: "jmp", target: 4 });
});

test("liveness DCE removes a dead definition of a join vreg, keeps the live one", () => {
  const f = func([
    {
      instrs: [{ op: "mov", dst: 3, src: imm(1) }],
      term: { op: "br", cond: "eq", a: reg(1), b: imm(0), t: 1, f: 2 },
    },
    { instrs: [{ op: "mov", dst: 3, src: imm(7) }], term: { op: "ret", value: imm(0) } },
    { instrs: [], term: { op: "ret", value: reg(3) } },
  ]);
  assert.equal(eliminateDeadDefs(f), true);
  assert.equal(f.blocks[1]!.instrs.length, 0);
  assert.equal(f.blocks[0]!.instrs.length, 1);
});

test("bswap(load16) == K compares the raw load with the swapped constant", () => {
  const f = func([
    {
      instrs: [
        { op: "load", dst: 2, base: { kind: "reg", id: 1 }, off: 12, size: 2 },
        { op: "bswap", dst: 3, a: reg(2), bits: 16 },
      ],
      term: { op: "br", cond: "eq", a: reg(3), b: imm(0x86dd), t: 1, f: 2 },
    },
    { instrs: [], term: { op: "ret", value: imm(1) } },
    { instrs: [], term: { op: "ret", value: imm(2) } },
  ]);
  assert.equal(compareRawFields(f), true);
  assert.deepEqual(f.blocks[0]!.term, {
    op: "br",
    cond: "eq",
    a: reg(2),
    b: imm(0xdd86),
    t: 1,
    f: 2,
  });
  // a constant wider than the field is left alone (the comparison is simply false)
  const g = func([
    {
      instrs: [
        { op: "load", dst: 2, base: { kind: "reg", id: 1 }, off: 12, size: 2 },
        { op: "bswap", dst: 3, a: reg(2), bits: 16 },
      ],
      term: { op: "br", cond: "ne", a: reg(3), b: imm(0x10000), t: 1, f: 2 },
    },
    { instrs: [], term: { op: "ret", value: imm(1) } },
    { instrs: [], term: { op: "ret", value: imm(2) } },
  ]);
  assert.equal(compareRawFields(g), false);
});

test("layout puts a jump's target right after it and keeps the entry first", () => {
  const f = func([
    { instrs: [], term: { op: "jmp", target: 2 } },
    { instrs: [], term: { op: "ret", value: imm(1) } },
    { instrs: [], term: { op: "br", cond: "eq", a: reg(1), b: imm(0), t: 1, f: 1 } },
  ]);
  layoutBlocks(f);
  assert.deepEqual(
    f.blocks.map((b) => b.id),
    [0, 1, 2],
  );
  assert.deepEqual(f.blocks[0]!.term, { op: "jmp", target: 1 });
  assert.deepEqual(f.blocks[1]!.term, { op: "br", cond: "eq", a: reg(1), b: imm(0), t: 2, f: 2 });
});
