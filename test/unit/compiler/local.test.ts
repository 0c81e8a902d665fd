// Block-local propagation, return duplication and self-decided branches, on hand-built IR.
import { test } from "node:test";
import assert from "node:assert/strict";
import { imm, printFunc, reg, type Block, type Func } from "../../../src/compiler/ir/ir.js";
import { duplicateReturns } from "../../../src/compiler/opt/returns.js";
import { foldConstants } from "../../../src/compiler/opt/fold.js";
import { propagateLocally } from "../../../src/compiler/opt/local-copies.js";
import { threadJumps } from "../../../src/compiler/opt/jumps.js";
import { mergeIdenticalBlocks } from "../../../src/compiler/opt/merge-blocks.js";
import { propagateFacts } from "../../../src/compiler/opt/propagate-facts.js";
import { threadKnownBranches } from "../../../src/compiler/opt/thread-known-branches.js";

const func = (blocks: Omit<Block, "id">[]): Func => ({
  name: "t",
  ctx: 1,
  nextVreg: 100,
  slots: [],
  blocks: blocks.map((b, id) => ({ ...b, id })),
});

test("a join vreg's constant reaches its uses in the same block, not past a redefinition", () => {
  const f = func([
    {
      instrs: [
        { op: "mov", dst: 3, src: imm(5) },
        { op: "alu", alu: "add", dst: 4, a: reg(3), b: imm(1) },
        { op: "load", dst: 3, base: { kind: "reg", id: 1 }, off: 0, size: 4 },
        { op: "alu", alu: "add", dst: 5, a: reg(3), b: reg(4) },
      ],
      term: { op: "ret", value: reg(5) },
    },
    { instrs: [{ op: "mov", dst: 3, src: imm(9) }], term: { op: "ret", value: reg(3) } },
  ]);
  assert.equal(propagateLocally(f), true);
  const [, add1, , add2] = f.blocks[0]!.instrs;
  assert.deepEqual(add1, { op: "alu", alu: "add", dst: 4, a: imm(5), b: imm(1) });
  assert.deepEqual(add2, { op: "alu", alu: "add", dst: 5, a: reg(3), b: reg(4) }, printFunc(f));
  assert.deepEqual(f.blocks[1]!.term, { op: "ret", value: imm(9) });
});

test("a copy stops standing for its source once the source is redefined", () => {
  const f = func([
    {
      instrs: [
        { op: "mov", dst: 3, src: reg(2) },
        { op: "alu", alu: "add", dst: 2, a: reg(2), b: imm(1) },
        { op: "alu", alu: "add", dst: 4, a: reg(3), b: reg(2) },
      ],
      term: { op: "ret", value: reg(4) },
    },
  ]);
  propagateLocally(f);
  assert.deepEqual(f.blocks[0]!.instrs[2], {
    op: "alu",
    alu: "add",
    dst: 4,
    a: reg(3),
    b: reg(2),
  });
});

test("a jump to `ret v` where the jumping block set v returns directly", () => {
  const f = func([
    {
      instrs: [],
      term: { op: "br", cond: "eq", a: reg(1), b: imm(0), t: 1, f: 2 },
    },
    { instrs: [{ op: "mov", dst: 3, src: imm(0) }], term: { op: "jmp", target: 3 } },
    {
      instrs: [{ op: "load", dst: 3, base: { kind: "reg", id: 1 }, off: 0, size: 4 }],
      term: { op: "jmp", target: 3 },
    },
    { instrs: [], term: { op: "ret", value: reg(3) } },
  ]);
  assert.equal(duplicateReturns(f), true);
  assert.equal(f.blocks[1]!.term.op, "ret");
  // b2's value is not known there: it keeps jumping to the shared return
  assert.deepEqual(f.blocks[2]!.term, { op: "jmp", target: 3 });
  propagateLocally(f);
  assert.deepEqual(f.blocks[1]!.term, { op: "ret", value: imm(0) });
});

test("a branch on a tag set in its own block is decided", () => {
  const f = func([
    {
      instrs: [
        { op: "mov", dst: 3, src: imm(17) },
        { op: "load", dst: 4, base: { kind: "reg", id: 1 }, off: 0, size: 4 },
      ],
      term: { op: "br", cond: "eq", a: reg(3), b: imm(6), t: 1, f: 2 },
    },
    { instrs: [], term: { op: "ret", value: imm(1) } },
    { instrs: [], term: { op: "ret", value: reg(4) } },
  ]);
  assert.equal(threadKnownBranches(f), true);
  assert.deepEqual(f.blocks[0]!.term, { op: "jmp", target: 2 });
});

test("a let's value known on every path is propagated; one that differs by path is not", () => {
  // v3 = 0xff; loop copy 1 uses it, then v3 = v3 << 8 and copy 2 uses it; b2 joins v3 = 1 / 2
  const f = func([
    {
      instrs: [
        { op: "mov", dst: 3, src: imm(0xff) },
        { op: "alu", alu: "and", dst: 4, a: reg(1), b: reg(3) },
        { op: "alu", alu: "lsh", dst: 3, a: reg(3), b: imm(8) },
        { op: "alu", alu: "and", dst: 5, a: reg(1), b: reg(3) },
      ],
      term: { op: "br", cond: "eq", a: reg(4), b: reg(5), t: 1, f: 2 },
    },
    { instrs: [{ op: "mov", dst: 6, src: imm(1) }], term: { op: "jmp", target: 3 } },
    { instrs: [{ op: "mov", dst: 6, src: imm(2) }], term: { op: "jmp", target: 3 } },
    { instrs: [], term: { op: "ret", value: reg(6) } },
  ]);
  assert.equal(propagateFacts(f), true);
  const [, and1, , and2] = f.blocks[0]!.instrs;
  assert.deepEqual(and1, { op: "alu", alu: "and", dst: 4, a: reg(1), b: imm(0xff) });
  assert.deepEqual(and2, { op: "alu", alu: "and", dst: 5, a: reg(1), b: imm(0xff00) });
  assert.deepEqual(f.blocks[3]!.term, { op: "ret", value: reg(6) }, printFunc(f));
});

test("blocks returning the same constant are merged", () => {
  const f = func([
    { instrs: [], term: { op: "br", cond: "eq", a: reg(1), b: imm(0), t: 1, f: 2 } },
    { instrs: [], term: { op: "ret", value: imm(1) } },
    { instrs: [], term: { op: "br", cond: "eq", a: reg(1), b: imm(5), t: 3, f: 4 } },
    { instrs: [], term: { op: "ret", value: imm(1) } },
    { instrs: [], term: { op: "ret", value: imm(2) } },
  ]);
  assert.equal(mergeIdenticalBlocks(f), true);
  assert.deepEqual(f.blocks[2]!.term, { op: "br", cond: "eq", a: reg(1), b: imm(5), t: 1, f: 4 });
});

test("identical blocks are merged, the entry and near-copies are not", () => {
  // b1 and b3 both set the join vreg v3 to 0 and jump to the lookup in b4; b2 sets 1.
  const f = func([
    { instrs: [], term: { op: "br", cond: "eq", a: reg(1), b: imm(0), t: 1, f: 2 } },
    { instrs: [{ op: "mov", dst: 3, src: imm(0) }], term: { op: "jmp", target: 4 } },
    { instrs: [], term: { op: "br", cond: "eq", a: reg(1), b: imm(5), t: 3, f: 5 } },
    { instrs: [{ op: "mov", dst: 3, src: imm(0) }], term: { op: "jmp", target: 4 } },
    {
      instrs: [{ op: "store", base: { kind: "slot", slot: 0 }, off: 0, size: 4, value: reg(3) }],
      term: { op: "ret", value: imm(0) },
    },
    { instrs: [{ op: "mov", dst: 3, src: imm(1) }], term: { op: "jmp", target: 4 } },
  ]);
  assert.equal(mergeIdenticalBlocks(f), true);
  assert.deepEqual(f.blocks[2]!.term, { op: "br", cond: "eq", a: reg(1), b: imm(5), t: 1, f: 5 });
  assert.equal(mergeIdenticalBlocks(f), false, "nothing left to merge");
  // a block identical to the entry keeps its own predecessors (the entry has none)
  const g = func([
    { instrs: [], term: { op: "jmp", target: 1 } },
    { instrs: [], term: { op: "br", cond: "eq", a: reg(1), b: imm(0), t: 2, f: 3 } },
    { instrs: [], term: { op: "jmp", target: 1 } },
    { instrs: [], term: { op: "ret", value: imm(0) } },
  ]);
  assert.equal(mergeIdenticalBlocks(g), false, printFunc(g));
});

test("a branch whose sides end up at the same block is a jump", () => {
  // b0: if v1 == 5 → b1, else b2 (empty, jumps to b1): both sides reach b1
  const f = func([
    { instrs: [], term: { op: "br", cond: "eq", a: reg(1), b: imm(5), t: 1, f: 2 } },
    { instrs: [], term: { op: "ret", value: imm(2) } },
    { instrs: [], term: { op: "jmp", target: 1 } },
  ]);
  assert.equal(threadJumps(f), true);
  assert.deepEqual(f.blocks[0]!.term, { op: "jmp", target: 1 }, printFunc(f));
  assert.equal(threadJumps(f), false);
});

test("masking a zero-extended load or swap with all its bits is a copy", () => {
  const mk = (mask: bigint) =>
    func([
      {
        instrs: [
          { op: "load", dst: 2, base: { kind: "reg", id: 1 }, off: 0, size: 4 },
          { op: "bswap", dst: 3, a: reg(2), bits: 16 },
          { op: "alu", alu: "and", dst: 4, a: reg(2), b: imm(mask) },
          { op: "alu", alu: "and", dst: 5, a: reg(3), b: imm(mask) },
          { op: "alu", alu: "add", dst: 6, a: reg(4), b: reg(5) },
        ],
        term: { op: "ret", value: reg(6) },
      },
    ]);
  const f = mk(0xffffffffn);
  foldConstants(f);
  assert.deepEqual(f.blocks[0]!.instrs[2], { op: "mov", dst: 4, src: reg(2) });
  assert.deepEqual(f.blocks[0]!.instrs[3], { op: "mov", dst: 5, src: reg(3) });
  const g = mk(0xffffn);
  foldConstants(g);
  assert.equal(g.blocks[0]!.instrs[2]!.op, "alu", "a 32-bit load keeps a 16-bit mask");
  assert.deepEqual(g.blocks[0]!.instrs[3], { op: "mov", dst: 5, src: reg(3) });
});
