// Common subexpressions and redundant stack stores, on hand-built IR.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  imm,
  printFunc,
  reg,
  type Block,
  type Func,
  type Instr,
} from "../../../src/compiler/ir/ir.js";
import { eliminateCommonSubexpressions } from "../../../src/compiler/opt/cse.js";
import { eliminateRedundantStores } from "../../../src/compiler/opt/redundant-stores.js";

const func = (blocks: Omit<Block, "id">[], slots = 0): Func => ({
  name: "t",
  ctx: 1,
  nextVreg: 100,
  slots: Array.from({ length: slots }, () => ({ size: 16, align: 8, what: "key" })),
  blocks: blocks.map((b, id) => ({ ...b, id })),
});
const ctxBase = { kind: "reg", id: 1 } as const;
const slot0 = { kind: "slot", slot: 0 } as const;

test("a value computed on every path is reused; one computed on one path is not", () => {
  const f = func([
    {
      instrs: [
        { op: "load", dst: 2, base: ctxBase, off: 0, size: 4 },
        { op: "alu", alu: "add", dst: 3, a: reg(2), b: imm(14) },
      ],
      term: { op: "br", cond: "eq", a: reg(3), b: imm(0), t: 1, f: 2 },
    },
    {
      instrs: [{ op: "alu", alu: "mul", dst: 4, a: reg(2), b: imm(3) }],
      term: { op: "jmp", target: 3 },
    },
    { instrs: [], term: { op: "jmp", target: 3 } },
    {
      instrs: [
        { op: "load", dst: 5, base: ctxBase, off: 0, size: 4 }, // = v2
        { op: "alu", alu: "add", dst: 6, a: imm(14), b: reg(5) }, // = v3 once v5 is v2
        { op: "alu", alu: "mul", dst: 7, a: reg(2), b: imm(3) }, // only on b1's path
        { op: "alu", alu: "add", dst: 8, a: reg(6), b: reg(7) },
      ],
      term: { op: "ret", value: reg(8) },
    },
  ]);
  assert.ok(eliminateCommonSubexpressions(f));
  const join = f.blocks[3]!.instrs;
  assert.deepEqual(join[0], { op: "mov", dst: 5, src: reg(2) }, printFunc(f));
  assert.equal(join[2]!.op, "alu", "v7 is not available on b2's path");
  // after v5 is known to be v2 (copy propagation), the commuted add is v3
  join[1] = { op: "alu", alu: "add", dst: 6, a: imm(14), b: reg(2) };
  eliminateCommonSubexpressions(f);
  assert.deepEqual(f.blocks[3]!.instrs[1], { op: "mov", dst: 6, src: reg(3) }, printFunc(f));
});

test("a store or helper call makes earlier loads unavailable", () => {
  for (const clobber of [
    { op: "store", base: ctxBase, off: 8, size: 4, value: imm(1) },
    { op: "call", dst: undefined, helper: 5, args: [] },
  ] as Instr[]) {
    const f = func([
      {
        instrs: [
          { op: "load", dst: 2, base: ctxBase, off: 0, size: 4 },
          clobber,
          { op: "load", dst: 3, base: ctxBase, off: 0, size: 4 },
          { op: "alu", alu: "add", dst: 4, a: reg(2), b: reg(3) },
        ],
        term: { op: "ret", value: reg(4) },
      },
    ]);
    assert.equal(eliminateCommonSubexpressions(f), false, clobber.op);
  }
});

test("multi-definition vregs never name a reusable value", () => {
  const f = func([
    {
      instrs: [
        { op: "mov", dst: 2, src: imm(1) },
        { op: "alu", alu: "add", dst: 3, a: reg(2), b: imm(1) },
        { op: "mov", dst: 2, src: imm(5) },
        { op: "alu", alu: "add", dst: 4, a: reg(2), b: imm(1) },
        { op: "alu", alu: "add", dst: 5, a: reg(3), b: reg(4) },
      ],
      term: { op: "ret", value: reg(5) },
    },
  ]);
  assert.equal(eliminateCommonSubexpressions(f), false);
});

const keyStores = (v: number): Instr[] => [
  { op: "store", base: slot0, off: 0, size: 4, value: reg(v) },
  { op: "store", base: slot0, off: 4, size: 4, value: imm(0) },
];
const addr = (dst: number): Instr => ({ op: "addr", dst, slot: 0, off: 0 });

test("a key stored again for a second map call is not stored twice", () => {
  // lookup(key); if (null) update(key, …)
  const f = func(
    [
      {
        instrs: [
          { op: "load", dst: 2, base: ctxBase, off: 0, size: 4 },
          ...keyStores(2),
          addr(3),
          { op: "mapfd", dst: 4, map: "m" },
          { op: "call", dst: 5, helper: 1, args: [reg(4), reg(3)] },
        ],
        term: { op: "br", cond: "eq", a: reg(5), b: imm(0), t: 1, f: 2 },
      },
      {
        instrs: [
          ...keyStores(2),
          addr(6),
          { op: "mapfd", dst: 7, map: "m" },
          { op: "call", dst: undefined, helper: 2, args: [reg(7), reg(6), reg(6), imm(0)] },
        ],
        term: { op: "ret", value: imm(1) },
      },
      { instrs: [], term: { op: "ret", value: imm(2) } },
    ],
    1,
  );
  assert.ok(eliminateRedundantStores(f));
  assert.equal(f.blocks[1]!.instrs.filter((i) => i.op === "store").length, 0, printFunc(f));
  assert.equal(f.blocks[0]!.instrs.filter((i) => i.op === "store").length, 2);
});

test("stores stay when the slot may have changed or the value differs", () => {
  const cases: [string, Instr[]][] = [
    [
      "a helper that writes through the pointer",
      [addr(3), { op: "call", dst: undefined, helper: 4, args: [reg(3), imm(4), reg(1)] }],
    ],
    [
      "a store through a frame pointer",
      [addr(3), { op: "store", base: { kind: "reg", id: 3 }, off: 0, size: 1, value: imm(9) }],
    ],
    ["an overlapping store", [{ op: "store", base: slot0, off: 2, size: 4, value: imm(9) }]],
    ["a new value of the stored vreg", [{ op: "alu", alu: "add", dst: 2, a: reg(2), b: imm(1) }]],
  ];
  for (const [what, between] of cases) {
    const f = func(
      [
        {
          instrs: [
            { op: "load", dst: 2, base: ctxBase, off: 0, size: 4 },
            ...keyStores(2),
            ...between,
            ...keyStores(2),
          ],
          term: { op: "ret", value: imm(0) },
        },
      ],
      1,
    );
    eliminateRedundantStores(f);
    // the key's first word must be written again after the change
    const last = f.blocks[0]!.instrs.filter(
      (i) => i.op === "store" && i.base.kind === "slot" && i.off === 0,
    );
    assert.equal(last.length, 2, `${what}: ${printFunc(f)}`);
  }
});

test("paths that stored different values keep the store after the join", () => {
  const f = func(
    [
      {
        instrs: [{ op: "load", dst: 2, base: ctxBase, off: 0, size: 4 }],
        term: { op: "br", cond: "eq", a: reg(2), b: imm(0), t: 1, f: 2 },
      },
      { instrs: [keyStores(2)[0]!], term: { op: "jmp", target: 3 } },
      {
        instrs: [{ op: "store", base: slot0, off: 0, size: 4, value: imm(7) }],
        term: { op: "jmp", target: 3 },
      },
      { instrs: [keyStores(2)[0]!], term: { op: "ret", value: imm(0) } },
    ],
    1,
  );
  assert.equal(eliminateRedundantStores(f), false);
});
