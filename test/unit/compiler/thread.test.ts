// Branch threading, liveness DCE, raw-field compares and layout on hand-built IR.
import { test } from "node:test";
import assert from "node:assert/strict";
import { imm, printFunc, reg, type Block, type Func } from "../../../src/compiler/ir/ir.js";
import { optimize, simplify } from "../../../src/compiler/pipeline.js";
import { cloneDecidedPaths } from "../../../src/compiler/opt/clone-paths.js";
import { compareRawFields } from "../../../src/compiler/opt/raw-fields.js";
import { eliminateDeadDefs } from "../../../src/compiler/opt/dead-defs.js";
import { layoutBlocks } from "../../../src/compiler/opt/layout.js";
import { threadKnownBranches } from "../../../src/compiler/opt/thread-known-branches.js";

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

// `const ip = parse(); const t = parse2(); if (ip.version !== 4) return 2; …`: the version tag
// v3 is 4 or 6 on the two parse paths, and tested only after a shared second parse (b3–b5).
const tagTestedLate = (): Func =>
  func([
    /* b0 */ {
      instrs: [{ op: "load", dst: 2, base: { kind: "reg", id: 1 }, off: 0, size: 1 }],
      term: { op: "br", cond: "eq", a: reg(2), b: imm(4), t: 1, f: 2 },
    },
    /* b1 v4 */ { instrs: [{ op: "mov", dst: 3, src: imm(4) }], term: { op: "jmp", target: 3 } },
    /* b2 v6 */ {
      instrs: [{ op: "mov", dst: 3, src: imm(6) }],
      term: { op: "br", cond: "eq", a: reg(2), b: imm(6), t: 3, f: 7 },
    },
    /* b3 second parse */ {
      instrs: [{ op: "load", dst: 5, base: { kind: "reg", id: 1 }, off: 9, size: 1 }],
      term: { op: "br", cond: "gt", a: reg(5), b: imm(20), t: 7, f: 4 },
    },
    /* b4 */ {
      instrs: [{ op: "load", dst: 6, base: { kind: "reg", id: 1 }, off: 10, size: 1 }],
      term: { op: "jmp", target: 5 },
    },
    /* b5 late tag test */ {
      instrs: [],
      term: { op: "br", cond: "ne", a: reg(3), b: imm(4), t: 7, f: 6 },
    },
    /* b6 */ {
      instrs: [{ op: "alu", alu: "add", dst: 8, a: reg(6), b: reg(5) }],
      term: { op: "ret", value: reg(8) },
    },
    /* b7 */ { instrs: [], term: { op: "ret", value: imm(2) } },
  ]);

test("an edge whose tag decides a later test gets its own copy of the path, which folds away", () => {
  const f = tagTestedLate();
  assert.equal(
    cloneDecidedPaths(f, (g) => simplify(g)),
    true,
  );
  const ir = printFunc(f);
  // The IPv6 side returns without the second parse; the late test is gone on the IPv4 side too.
  assert.doesNotMatch(ir, /br ne v3, 4/, ir);
  assert.equal((ir.match(/load8 \[v1\+9\]/g) ?? []).length, 1, ir);
  assert.doesNotMatch(ir, /v3 = 6/, ir);
});

test("a copy that would grow the program past the caller's limit is not kept", () => {
  const f = tagTestedLate();
  // the IPv6 side now needs the second parse's values after the test: the copy cannot fold
  f.blocks[7] = {
    id: 7,
    instrs: [{ op: "alu", alu: "add", dst: 9, a: reg(6), b: reg(5) }],
    term: { op: "ret", value: reg(9) },
  };
  f.blocks[3]!.term = { op: "br", cond: "gt", a: reg(5), b: imm(20), t: 6, f: 4 };
  simplify(f);
  const before = printFunc(f);
  const size = f.blocks.reduce((n, b) => n + b.instrs.length + 1, 0);
  const kept = cloneDecidedPaths(f, (g) => simplify(g), size);
  const after = f.blocks.reduce((n, b) => n + b.instrs.length + 1, 0);
  assert.ok(after <= size, `${before}\n---\n${printFunc(f)}`);
  if (!kept) assert.equal(printFunc(f), before);
});

test("a join block that loads before testing the tag is copied for each tag", () => {
  // `t.protocol === "tcp" ? t.flags : 0` after the key's loads: both paths set the tag v3.
  const f = func([
    {
      instrs: [{ op: "load", dst: 2, base: { kind: "reg", id: 1 }, off: 0, size: 1 }],
      term: { op: "br", cond: "eq", a: reg(2), b: imm(6), t: 1, f: 2 },
    },
    { instrs: [{ op: "mov", dst: 3, src: imm(6) }], term: { op: "jmp", target: 3 } },
    { instrs: [{ op: "mov", dst: 3, src: imm(17) }], term: { op: "jmp", target: 3 } },
    {
      instrs: [{ op: "load", dst: 4, base: { kind: "reg", id: 1 }, off: 4, size: 4 }],
      term: { op: "br", cond: "eq", a: reg(3), b: imm(6), t: 4, f: 5 },
    },
    {
      instrs: [{ op: "alu", alu: "add", dst: 5, a: reg(4), b: imm(1) }],
      term: { op: "ret", value: reg(5) },
    },
    { instrs: [], term: { op: "ret", value: reg(4) } },
  ]);
  optimize(f);
  const ir = printFunc(f);
  assert.doesNotMatch(ir, /v3/, ir);
  assert.equal((ir.match(/load32 \[v1\+4\]/g) ?? []).length, 2, ir);
});
