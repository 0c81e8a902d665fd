// fast-check generators for random tsbpf types and values of them, shared by the types tests.
import fc from "fast-check";
import {
  array,
  be16,
  be32,
  i16,
  i32,
  i64,
  i8,
  struct,
  u16,
  u32,
  u64,
  u8,
  type Type,
} from "../../../src/types/index.js";

export const allInts = [u8, u16, u32, u64, i8, i16, i32, i64, be16, be32] as const;

let serial = 0;
/** A fresh struct name; every generated struct gets its own so one C file can hold them all. */
export function freshName(prefix = "S"): string {
  return `${prefix}${serial++}`;
}

/** Random types up to a few levels deep: ints, arrays of anything, structs of anything. */
export const typeArb: fc.Arbitrary<Type> = fc.letrec<{
  type: Type;
  array: Type;
  struct: Type;
}>((tie) => ({
  type: fc.oneof(
    { maxDepth: 3, depthIdentifier: "type" },
    fc.constantFrom(...allInts),
    tie("array"),
    tie("struct"),
  ),
  array: fc
    .tuple(tie("type"), fc.integer({ min: 1, max: 5 }))
    .map(([el, n]) => array(el, n) as Type),
  struct: fc
    .array(tie("type"), { minLength: 1, maxLength: 6 })
    .map((ts) => struct(freshName(), Object.fromEntries(ts.map((t, i) => [`f${i}`, t]))) as Type),
})).type;

/** Random structs (the top level is always a struct). */
export const structArb = fc
  .array(typeArb, { minLength: 1, maxLength: 6 })
  .map((ts) => struct(freshName(), Object.fromEntries(ts.map((t, i) => [`f${i}`, t]))));

/** Values that fit `t`. */
export function valueArb(t: Type): fc.Arbitrary<unknown> {
  switch (t.kind) {
    case "int":
      return t.bits === 64
        ? fc.bigInt({ min: t.min as bigint, max: t.max as bigint })
        : fc.integer({ min: t.min as number, max: t.max as number });
    case "array": {
      const el = t.element as Type;
      const n = { minLength: t.length, maxLength: t.length };
      if (el.kind === "int" && el.bits === 8) return el.signed ? fc.int8Array(n) : fc.uint8Array(n);
      return fc.array(valueArb(el), n);
    }
    case "struct":
      return fc.record(Object.fromEntries(t.fields.map((f) => [f.name, valueArb(f.type)])), {
        noNullPrototype: true,
      });
  }
}

/** Which bytes of `t` hold data (true) rather than padding (false). */
export function dataBytes(t: Type): boolean[] {
  const used = new Array<boolean>(t.size).fill(false);
  const walk = (x: Type, at: number): void => {
    switch (x.kind) {
      case "int":
        for (let i = 0; i < x.size; i++) used[at + i] = true;
        return;
      case "array":
        for (let i = 0; i < x.length; i++) walk(x.element, at + i * x.element.size);
        return;
      case "struct":
        for (const f of x.fields) walk(f.type, at + f.offset);
    }
  };
  walk(t, 0);
  return used;
}

/** Every struct reachable from `t`, each once, inner first. */
export function structsIn(t: Type, out: Type[] = []): Extract<Type, { kind: "struct" }>[] {
  if (t.kind === "array") structsIn(t.element, out);
  if (t.kind === "struct" && !out.includes(t)) {
    for (const f of t.fields) structsIn(f.type, out);
    out.push(t);
  }
  return out as Extract<Type, { kind: "struct" }>[];
}
