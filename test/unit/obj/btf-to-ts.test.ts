// btfToTs (tsbpf btf gen): declarations with @btf tags from a BTF built here — ints with sign
// and size, pointers to structs (declared up to --depth, beyond that addresses), embedded and
// anonymous members (hoisted), arrays, bit-fields, forward declarations resolved, reserved
// words renamed; unknown names are BtfTypeNotFoundError; any BTF gives text or a typed error.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { BtfBuilder, LazyBtf } from "../../../src/obj/btf.js";
import { btfToTs, BtfTypeNotFoundError } from "../../../src/obj/btf-to-ts.js";
import { ObjectError } from "../../../src/obj/errors.js";

function sample(): LazyBtf {
  const b = new BtfBuilder();
  const int = b.addInt("int", 4, true);
  const u64 = b.addInt("unsigned long long", 8, false);
  const u8 = b.addInt("unsigned char", 1, false);
  const fwdFile = b.addFwd("file");
  const task = b.addStruct("task_struct", [], 64);
  const inner = b.addStruct("inner", [{ name: "x", type: int, bitOffset: 32 }], 8);
  const anon = b.addUnion(
    "",
    [
      { name: "a", type: int, bitOffset: 0 },
      { name: "b", type: u64, bitOffset: 0 },
    ],
    8,
  );
  const file = b.addStruct("file", [{ name: "f_owner", type: b.addPtr(task), bitOffset: 0 }], 8);
  b.replace(task, {
    kind: "struct",
    name: "task_struct",
    size: 64,
    kindFlag: true,
    members: [
      { name: "pid", type: int, bitOffset: 0, bitfieldSize: 0 },
      { name: "parent", type: b.addPtr(b.addConst(task)), bitOffset: 64, bitfieldSize: 0 },
      { name: "", type: anon, bitOffset: 128, bitfieldSize: 0 },
      { name: "comm", type: b.addArray(u8, 16), bitOffset: 192, bitfieldSize: 0 },
      { name: "in", type: inner, bitOffset: 320, bitfieldSize: 0 },
      { name: "file", type: b.addPtr(fwdFile), bitOffset: 384, bitfieldSize: 0 },
      { name: "flag", type: u8, bitOffset: 448, bitfieldSize: 1 },
      { name: "stack", type: b.addPtr(0), bitOffset: 456, bitfieldSize: 0 },
    ],
  });
  void file;
  b.addStruct("delete", [{ name: "n", type: int, bitOffset: 0 }], 4);
  return LazyBtf.parse(b.encode());
}

test("btfToTs declares structs with @btf tags the compiler reads", () => {
  const { text, interfaces } = btfToTs(sample(), { types: ["task_struct"] });
  assert.equal(interfaces, 3); // task_struct, inner, file (through the forward declaration)
  const lines = text.split("\n");
  const body = lines.slice(lines.indexOf("/* @btf struct task_struct 64 */")).join("\n");
  assert.equal(
    body.split("\n\n")[0],
    [
      "/* @btf struct task_struct 64 */",
      "export interface task_struct {",
      "  /* @btf 0 s32 */ readonly pid: number;",
      "  /* @btf 8 ptr */ readonly parent: task_struct;",
      "  /* @btf 16 s32 */ readonly a: number;",
      "  /* @btf 16 u64 */ readonly b: bigint;",
      "  /* @btf 24 arr u8 16 */ readonly comm: KernelArray<number>;",
      "  /* @btf 40 emb */ readonly in: inner;",
      "  /* @btf 48 ptr */ readonly file: file;",
      "  /* @btf 56 bits 0 1 u8 */ readonly flag: number;",
      "  /* @btf 57 addr */ readonly stack: bigint;",
      "}",
    ].join("\n"),
  );
  assert.match(
    text,
    /\/\* @btf struct inner 8 \*\/\nexport interface inner \{\n {2}\/\* @btf 4 s32 \*\/ readonly x: number;\n\}/,
  );
  assert.match(text, /\/\* @btf struct file 8 \*\/\nexport interface file \{/);
  assert.match(text, /^import type \{ KernelArray \} from "tsbpf\/probe";$/m);
});

test("btfToTs: pointers past --depth are addresses; reserved words are renamed", () => {
  const { text, interfaces } = btfToTs(sample(), { types: ["task_struct", "delete"], depth: 0 });
  assert.equal(interfaces, 3); // task_struct, inner (embedded: always), delete_
  assert.match(text, /\/\* @btf 48 addr \*\/ readonly file: bigint;/);
  assert.match(text, /\/\/ file: struct file \*, beyond --depth 0: its address/);
  assert.match(text, /\/\* @btf 8 ptr \*\/ readonly parent: task_struct;/); // already declared
  assert.match(text, /\/\* @btf struct delete 4 \*\/\nexport interface delete_ \{/);
});

test("btfToTs: an unknown struct name is a BtfTypeNotFoundError naming it", () => {
  assert.throws(
    () => btfToTs(sample(), { types: ["nope"] }),
    (e: unknown) => e instanceof BtfTypeNotFoundError && /named nope/.test(e.message),
  );
});

test("btfToTs on arbitrary BTF gives declarations or a typed error", () => {
  const kinds = ["int", "ptr", "struct", "union", "array", "typedef", "fwd", "const"] as const;
  const arb = fc.array(
    fc.record({
      kind: fc.constantFrom(...kinds),
      ref: fc.nat(40),
      size: fc.constantFrom(1, 2, 4, 8, 16),
      members: fc.array(fc.record({ ref: fc.nat(40), off: fc.nat(512), bits: fc.nat(3) }), {
        maxLength: 4,
      }),
    }),
    { minLength: 1, maxLength: 30 },
  );
  fc.assert(
    fc.property(arb, (specs) => {
      const b = new BtfBuilder();
      specs.forEach((s, i) => {
        const ref = s.ref % (specs.length + 1);
        const name = `t${i}`;
        if (s.kind === "int") b.addInt(name, s.size, false);
        else if (s.kind === "ptr") b.addPtr(ref);
        else if (s.kind === "array") b.addArray(ref, s.size);
        else if (s.kind === "typedef") b.addTypedef(name, ref);
        else if (s.kind === "const") b.addConst(ref);
        else if (s.kind === "fwd") b.addFwd(`t${ref}`);
        else
          b.add({
            kind: s.kind,
            name,
            size: 64,
            kindFlag: s.members.some((m) => m.bits > 0),
            members: s.members.map((m, k) => ({
              name: k === 0 ? "" : `m${k}`,
              type: m.ref % (specs.length + 1),
              bitOffset: m.off,
              bitfieldSize: m.bits,
            })),
          });
      });
      const btf = LazyBtf.parse(b.encode());
      const roots = specs.flatMap((s, i) =>
        s.kind === "struct" || s.kind === "union" ? [`t${i}`] : [],
      );
      try {
        const { text } = btfToTs(btf, { types: roots.length ? roots : ["t0"], depth: 2 });
        assert.ok(text.startsWith("// Generated by `tsbpf btf gen`"));
      } catch (e) {
        assert.ok(e instanceof BtfTypeNotFoundError || e instanceof ObjectError, String(e));
      }
    }),
    { numRuns: 300 },
  );
});
