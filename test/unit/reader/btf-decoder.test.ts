// compileBtfDecoder (src/reader/btf-decoder.ts) against decodeBtfValue, the codec it compiles:
// random BTF structs and unions (ints of every width and sign, bools, chars, bit-fields of
// ints and enums, arrays and char arrays, nested and anonymous members, floats, enums,
// packed/unaligned members) over random bytes at random offsets — the same value, or the
// same error.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { BtfBuilder, parseBtf } from "../../../src/obj/btf.js";
import { decodeBtfValue } from "../../../src/obj/btf-value.js";
import { compileBtfDecoder } from "../../../src/reader/btf-decoder.js";

type Spec =
  | { k: "int"; size: 1 | 2 | 4 | 8; signed: boolean; enc: "" | "bool" | "char" }
  | { k: "float"; size: 4 | 8 }
  | { k: "enum"; size: 1 | 2 | 4 | 8; signed: boolean; values: number[] }
  | { k: "array"; elem: Spec; n: number }
  | {
      k: "struct" | "union";
      packed: boolean;
      members: { name: string; spec: Spec; bits: number }[];
    };

const NAMES = ["a", "b", "c", "x", ""] as const;

const specArb: fc.Arbitrary<Spec> = fc.letrec<{ spec: Spec; comp: Spec }>((tie) => ({
  spec: fc.oneof(
    { maxDepth: 3, depthIdentifier: "s" },
    fc.record({
      k: fc.constant("int" as const),
      size: fc.constantFrom(1 as const, 2 as const, 4 as const, 8 as const),
      signed: fc.boolean(),
      enc: fc.constantFrom("" as const, "" as const, "bool" as const, "char" as const),
    }),
    fc.record({ k: fc.constant("float" as const), size: fc.constantFrom(4 as const, 8 as const) }),
    fc.record({
      k: fc.constant("enum" as const),
      size: fc.constantFrom(1 as const, 2 as const, 4 as const, 8 as const),
      signed: fc.boolean(),
      values: fc.array(fc.integer({ min: -3, max: 300 }), { maxLength: 4 }),
    }),
    fc.record({ k: fc.constant("array" as const), elem: tie("spec"), n: fc.nat(6) }),
    tie("comp"),
  ),
  comp: fc.record({
    k: fc.constantFrom("struct" as const, "union" as const),
    packed: fc.boolean(),
    members: fc.array(
      fc.record({ name: fc.constantFrom(...NAMES), spec: tie("spec"), bits: fc.nat(70) }),
      { minLength: 0, maxLength: 6 },
    ),
  }),
})).spec;

function sizeOf(s: Spec): number {
  switch (s.k) {
    case "int":
    case "float":
    case "enum":
      return s.size;
    case "array":
      return sizeOf(s.elem) * s.n;
    default:
      return layout(s).size;
  }
}

function alignOf(s: Spec): number {
  switch (s.k) {
    case "int":
    case "float":
    case "enum":
      return s.size;
    case "array":
      return alignOf(s.elem);
    default:
      return s.packed ? 1 : Math.max(1, ...s.members.map((m) => alignOf(m.spec)));
  }
}

/** Member bit offsets, bit-field sizes (0 = none) and the compound's size. */
function layout(s: Extract<Spec, { k: "struct" | "union" }>): {
  size: number;
  at: { bitOffset: number; bitfieldSize: number }[];
} {
  let bit = 0;
  let end = 0;
  const at = s.members.map((m) => {
    const spec = m.spec;
    const width = spec.k === "int" || spec.k === "enum" ? spec.size * 8 : 0;
    // Ints and enums become bit-fields when `bits` is below their width (and not zero).
    const bitfieldSize = width > 0 && m.bits > 0 && m.bits < width ? m.bits : 0;
    let bitOffset: number;
    if (s.k === "union") bitOffset = 0;
    else if (bitfieldSize > 0) bitOffset = bit;
    else {
      const align = s.packed ? 1 : alignOf(spec);
      bitOffset = Math.ceil(Math.ceil(bit / 8) / align) * align * 8;
    }
    const size = bitfieldSize > 0 ? bitfieldSize : sizeOf(spec) * 8;
    if (s.k === "struct") bit = bitOffset + size;
    end = Math.max(end, bitOffset + size);
    return { bitOffset, bitfieldSize };
  });
  const align = alignOf(s);
  return { size: Math.ceil(Math.ceil(end / 8) / align) * align, at };
}

function build(b: BtfBuilder, s: Spec): number {
  switch (s.k) {
    case "int": {
      if (s.enc === "bool") return b.addInt("_Bool", 1, false, { bool: true });
      if (s.enc === "char") return b.addInt("char", 1, true, { char: true });
      return b.addInt(`${s.signed ? "" : "u"}int${s.size * 8}`, s.size, s.signed);
    }
    case "float":
      return b.addFloat(s.size === 4 ? "float" : "double", s.size);
    case "enum": {
      const values = s.values.map((v, i) => ({ name: `E${i}`, value: v }));
      return s.size === 8
        ? b.addEnum64(
            "e64",
            values.map((v) => ({ ...v, value: BigInt(v.value) })),
            s.signed,
          )
        : b.addEnum("e", values, s.size, s.signed);
    }
    case "array":
      return b.addArray(build(b, s.elem), s.n);
    default: {
      const { size, at } = layout(s);
      const members = s.members.map((m, i) => ({
        name: m.name,
        type: build(b, m.spec),
        bitOffset: at[i]!.bitOffset,
        ...(at[i]!.bitfieldSize > 0 && { bitfieldSize: at[i]!.bitfieldSize }),
      }));
      return s.k === "struct" ? b.addStruct("s", members, size) : b.addUnion("u", members, size);
    }
  }
}

const outcome = (f: () => unknown): unknown => {
  try {
    return { value: f() };
  } catch (e) {
    return { error: (e as Error).name, message: (e as Error).message };
  }
};

test("compiled BTF decoders return decodeBtfValue's values (or errors) on random types and bytes", () => {
  const compArb = specArb.filter((s) => s.k === "struct" || s.k === "union");
  fc.assert(
    fc.property(
      fc.oneof(compArb, specArb),
      fc.nat(9),
      fc.integer({ min: -2, max: 8 }),
      fc.uint8Array({ minLength: 1, maxLength: 32 }),
      fc.boolean(),
      (spec, offset, slack, seed, printable) => {
        const b = new BtfBuilder();
        const id = build(b, spec);
        const btf = parseBtf(b.encode());
        const size = btf.sizeOf(id);
        const bytes = new Uint8Array(Math.max(0, offset + size + slack));
        for (let i = 0; i < bytes.length; i++) {
          const r = seed[i % seed.length]! ^ (i * 29);
          // Printable runs make char arrays decode as strings, the rest as lists.
          bytes[i] = printable ? (r % 5 === 0 ? 0 : 0x20 + (r % 0x5f)) : r & 0xff;
        }
        const dec = compileBtfDecoder(btf, id);
        const want = outcome(() => decodeBtfValue(btf, id, bytes, offset));
        assert.deepStrictEqual(
          outcome(() => dec(bytes, offset)),
          want,
        );
        // Another alignment class of the same bytes.
        const shifted = new Uint8Array(bytes.length + 3);
        shifted.set(bytes, 3);
        assert.deepStrictEqual(
          outcome(() => dec(shifted.subarray(3), offset)),
          want,
        );
      },
    ),
    { numRuns: 1500 },
  );
});

test("a compiled BTF decoder flattens anonymous members and reads bit-fields as bpftool does", () => {
  const b = new BtfBuilder();
  const u8 = b.addInt("unsigned char", 1, false);
  const s16 = b.addInt("short", 2, true);
  const u32 = b.addInt("unsigned int", 4, false);
  const inner = b.addStruct(
    "",
    [
      { name: "lo", type: u8, bitOffset: 0 },
      { name: "hi", type: u8, bitOffset: 8 },
    ],
    2,
  );
  const outer = b.addStruct(
    "o",
    [
      { name: "flag", type: u32, bitOffset: 0, bitfieldSize: 3 },
      { name: "neg", type: s16, bitOffset: 3, bitfieldSize: 5 },
      { name: "", type: inner, bitOffset: 16 },
      { name: "wide", type: u32, bitOffset: 32 },
    ],
    8,
  );
  const btf = parseBtf(b.encode());
  const bytes = Uint8Array.of(0b1111_0101, 0, 7, 9, 1, 0, 0, 0x80);
  assert.deepStrictEqual(compileBtfDecoder(btf, outer)(bytes), {
    flag: 5,
    neg: -2,
    lo: 7,
    hi: 9,
    wide: 0x80000001,
  });
  assert.deepStrictEqual(compileBtfDecoder(btf, outer)(bytes), decodeBtfValue(btf, outer, bytes));
});
