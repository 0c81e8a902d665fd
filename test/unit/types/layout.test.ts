// Our layouts against clang's: the C that toC() renders must compile with static asserts of
// our sizes/offsets/alignments, and clang's BTF for it must match what toBtf() emits.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  array,
  be16,
  be32,
  bytes,
  i16,
  i32,
  i64,
  i8,
  isType,
  struct,
  toBtf,
  toC,
  u16,
  u32,
  u64,
  u8,
  type StructType,
  type Type,
} from "../../../src/types/index.js";
import { BtfBuilder, parseBtf, type Btf } from "../../../src/obj/btf.js";
import { parseElf } from "../../../src/obj/elf.js";
import { buildC, needsClang } from "../../support/fixtures.js";
import { structArb, structsIn } from "./gen.js";

const RequestInfo = struct("RequestInfo", { saddr: u32, daddr: u32, sport: u16, dport: u16 });

test("RequestInfo: 12 bytes, align 4, fields packed in order", () => {
  assert.equal(RequestInfo.size, 12);
  assert.equal(RequestInfo.align, 4);
  assert.deepEqual(
    RequestInfo.fields.map((f) => [f.name, f.offset, f.type.kind, f.type.size]),
    [
      ["saddr", 0, "int", 4],
      ["daddr", 4, "int", 4],
      ["sport", 8, "int", 2],
      ["dport", 10, "int", 2],
    ],
  );
  assert.equal(RequestInfo.field("sport")?.offset, 8);
  assert.equal(RequestInfo.field("nope"), undefined);
  assert.ok(isType(RequestInfo) && isType(u8) && isType(bytes(2)));
  assert.ok(!isType({ kind: "int", size: 4, align: 4 }));
});

test("padding: fields go to their alignment, the size to the struct's", () => {
  const P = struct("Padded", { a: u8, b: u64, c: u16 });
  assert.deepEqual(
    P.fields.map((f) => f.offset),
    [0, 8, 16],
  );
  assert.equal(P.size, 24);
  assert.equal(P.align, 8);
  const A = struct("Arrays", { tag: bytes(3), n: u32, w: array(u16, 3) });
  assert.deepEqual(
    A.fields.map((f) => f.offset),
    [0, 4, 8],
  );
  assert.equal(A.size, 16);
  const N = struct("Nested", { flag: u8, inner: P, tail: u8 });
  assert.deepEqual(
    N.fields.map((f) => f.offset),
    [0, 8, 32],
  );
  assert.equal(N.size, 40);
});

test("int types carry kind, size, signedness and byte order", () => {
  const cases: [Type, number, boolean, string][] = [
    [u8, 1, false, "__u8"],
    [i8, 1, true, "__s8"],
    [u16, 2, false, "__u16"],
    [i16, 2, true, "__s16"],
    [u32, 4, false, "__u32"],
    [i32, 4, true, "__s32"],
    [u64, 8, false, "__u64"],
    [i64, 8, true, "__s64"],
    [be16, 2, false, "__be16"],
    [be32, 4, false, "__be32"],
  ];
  for (const [t, size, signed, cName] of cases) {
    assert.equal(t.kind, "int");
    if (t.kind !== "int") continue;
    assert.equal(t.size, size);
    assert.equal(t.align, size);
    assert.equal(t.bits, size * 8);
    assert.equal(t.signed, signed);
    assert.equal(t.cName, cName);
    assert.equal(t.byteOrder, t.name.startsWith("be") ? "big" : "little");
  }
});

test("struct() and array() reject bad definitions with clear errors", () => {
  assert.throws(
    () => struct("9lives", { a: u8 }),
    /struct\("9lives"\): the struct name is not a C identifier/,
  );
  assert.throws(() => struct("int", { a: u8 }), /the struct name is a C keyword/);
  assert.throws(() => struct("", { a: u8 }), /the struct name must not be empty/);
  assert.throws(
    () => struct("T", { "a b": u8 }),
    /struct T: field name "a b" is not a C identifier/,
  );
  assert.throws(() => struct("T", { while: u8 }), /struct T: field name "while" is a C keyword/);
  assert.throws(() => struct("T", {}), /struct T: needs at least one field/);
  assert.throws(
    () => struct("T", Object.defineProperty({}, "__proto__", { value: u8, enumerable: true })),
    /field name "__proto__" cannot be a JS property name/,
  );
  assert.throws(
    () => struct("T", { a: 4 as unknown as Type }),
    /struct T: field a must be a tsbpf type .*got 4/,
  );
  assert.throws(() => struct("x".repeat(121), { a: u8 }), /longer than 120/);
  assert.throws(() => array(u8, 0), /array\(u8, 0\): length must be an integer ≥ 1/);
  assert.throws(() => array(u8, 1.5), /length must be an integer/);
  assert.throws(() => array(u64, 2 ** 30), /larger than/);
  assert.throws(() => array({} as Type, 2), /array\(\): element must be a tsbpf type/);
});

test("struct fields keep declaration order", () => {
  const T = struct("Order", { z: u8, a: u8, m: u8 });
  assert.deepEqual(
    T.fields.map((f) => f.name),
    ["z", "a", "m"],
  );
  assert.deepEqual(Object.keys(T.decode(new Uint8Array(3))), ["z", "a", "m"]);
});

/** A C translation unit asserting our layout of `structs` and instantiating them for BTF. */
function layoutAsserts(top: StructType, structs: StructType[]): string {
  const lines = [toC(top), `struct ${top.name} instance_${top.name};`];
  for (const s of structs) {
    lines.push(`_Static_assert(sizeof(struct ${s.name}) == ${s.size}, "sizeof ${s.name}");`);
    lines.push(`_Static_assert(_Alignof(struct ${s.name}) == ${s.align}, "alignof ${s.name}");`);
    for (const f of s.fields) {
      lines.push(
        `_Static_assert(__builtin_offsetof(struct ${s.name}, ${f.name}) == ${f.offset}, "${s.name}.${f.name}");`,
      );
    }
  }
  return lines.join("\n") + "\n";
}

/** A BTF struct as text, members resolved down to ints, so two BTFs can be compared. */
function describeStruct(btf: Btf, id: number): string {
  const t = btf.typeById(id);
  assert.equal(t.kind, "struct");
  if (t.kind !== "struct") return "";
  const ref = (rid: number): string => {
    const x = btf.typeById(rid);
    switch (x.kind) {
      case "int":
        return `int(${x.name},${x.size},${x.encoding},${x.bits})`;
      case "typedef":
        return `${x.name}=${ref(x.type)}`;
      case "array":
        return `${ref(x.type)}[${x.nelems}] by ${ref(x.indexType)}`;
      case "struct":
        return `struct ${x.name}`;
      default:
        return `unexpected ${x.kind}`;
    }
  };
  const members = t.members.map((m) => `${m.name}@${m.bitOffset}/${m.bitfieldSize}:${ref(m.type)}`);
  return `struct ${t.name} size ${t.size} kindFlag ${t.kindFlag} { ${members.join("; ")} }`;
}

function clangBtf(source: string, name: string): Btf {
  const elf = parseElf(buildC(source, name));
  const sec = elf.section(".BTF");
  assert.ok(sec, "clang emitted no .BTF section");
  return parseBtf(sec.data);
}

/** Compile `top` with clang, then compare its layout and BTF with ours for every struct. */
function compareWithClang(top: StructType, header: string, name: string): void {
  const structs = structsIn(top) as StructType[];
  const theirs = clangBtf(header + layoutAsserts(top, structs), name);
  const builder = new BtfBuilder();
  const ids = new Map(structs.map((s) => [s.name, toBtf(s, builder)]));
  const ours = parseBtf(builder.encode());
  for (const s of structs) {
    const found = theirs.findByName("struct", s.name);
    assert.ok(found, `clang BTF lacks struct ${s.name}`);
    assert.equal(describeStruct(ours, ids.get(s.name)!), describeStruct(theirs, found.id));
  }
}

test("clang agrees: hand-picked structs with <linux/types.h>", (t) => {
  if (!needsClang(t)) return;
  const Padded = struct("Padded", { a: u8, b: u64, c: u16 });
  const Everything = struct("Everything", {
    req: RequestInfo,
    flag: u8,
    big: i64,
    small: i8,
    pair: array(Padded, 2),
    grid: array(array(i16, 3), 2),
    name: bytes(7),
    port: be16,
    addr: be32,
    word: i32,
  });
  compareWithClang(Everything, "#include <linux/types.h>\n", "types-layout-everything");
});

test("clang agrees: toC typedefs compile on their own and next to <linux/types.h>", (t) => {
  if (!needsClang(t)) return;
  const S = struct("Standalone", {
    a: u8,
    b: i8,
    c: u16,
    d: i16,
    e: u32,
    f: i32,
    g: u64,
    h: i64,
    p: be16,
    q: be32,
  });
  const alone = toC(S, { typedefs: true });
  compareWithClang(S, alone.slice(0, alone.indexOf("\n\n") + 1), "types-layout-standalone");
  compareWithClang(
    S,
    "#include <linux/types.h>\n" + alone.slice(0, alone.indexOf("\n\n") + 1),
    "types-layout-both",
  );
});

test("property: clang agrees on random nested structs", (t) => {
  if (!needsClang(t)) return;
  let run = 0;
  fc.assert(
    fc.property(fc.array(structArb, { minLength: 1, maxLength: 6 }), (tops) => {
      const all = struct(`All${run}`, Object.fromEntries(tops.map((s, i) => [`s${i}`, s])));
      compareWithClang(all, "#include <linux/types.h>\n", `types-layout-random-${run++}`);
    }),
    { numRuns: 25 },
  );
});
