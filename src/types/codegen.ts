// Straight-line read/write functions per struct, generated once at struct() time. A generic
// loop over fields costs ~400 ns per small struct (megamorphic calls, keyed stores); the
// generated code builds each value with one object literal of fixed shape and inlines the
// DataView calls and range checks, ~10× faster. Only bad values leave the fast path: they
// go to `slow`, which runs the field type's own checked write to produce the error.
//
// Safe to generate: field names are validated C identifiers (never `__proto__`), everything
// else in the source is numbers and fixed method names.
import type { Type } from "./type.js";

export interface CompiledField {
  name: string;
  offset: number;
  type: Type;
}

export type ReadFn = (view: DataView, offset: number) => unknown;
export type WriteFn = (view: DataView, offset: number, value: unknown) => void;

/** DataView accessor suffix and little-endian flag for an int type. */
function accessor(t: Extract<Type, { kind: "int" }>): { method: string; le: string } {
  const method =
    t.bits === 64 ? (t.signed ? "BigInt64" : "BigUint64") : `${t.signed ? "Int" : "Uint"}${t.bits}`;
  return { method, le: t.bits === 8 ? "" : t.byteOrder === "little" ? ", true" : ", false" };
}

/** A JS expression true when `x` is a value the int type stores as-is. */
function fits(t: Extract<Type, { kind: "int" }>): string {
  // Bit operators throw on bigints, so they need the typeof guard first.
  return t.bits === 64 ? fitsWide(t) : `typeof x === "number" && ${fitsNarrow(t)}`;
}

function fitsWide(t: Extract<Type, { kind: "int" }>): string {
  return `typeof x === "bigint" && x >= ${t.min}n && x <= ${t.max}n`;
}

function fitsNarrow(t: Extract<Type, { kind: "int" }>): string {
  switch (`${t.signed ? "i" : "u"}${t.bits}`) {
    case "u8":
      return "(x & 0xff) === x";
    case "u16":
      return "(x & 0xffff) === x";
    case "u32":
      return "x >>> 0 === x";
    case "i8":
      return "(x << 24) >> 24 === x";
    case "i16":
      return "(x << 16) >> 16 === x";
    default:
      return "(x | 0) === x";
  }
}

/** `(view, offset) => ({ a: …, b: … })` for the fields. */
export function compileRead(fields: readonly CompiledField[]): ReadFn {
  const parts = fields.map((f, k) => {
    const at = f.offset === 0 ? "o" : `o + ${f.offset}`;
    if (f.type.kind === "int") {
      const { method, le } = accessor(f.type);
      return `${JSON.stringify(f.name)}: view.get${method}(${at}${le})`;
    }
    return `${JSON.stringify(f.name)}: t[${k}].read(view, ${at})`;
  });
  const body = `return function read(view, o) {\n  return { ${parts.join(",\n    ")} };\n};`;
  return new Function("t", body)(fields.map((f) => f.type)) as ReadFn;
}

/**
 * `(view, offset, value) => void` writing each field, then zeroing `padding` ranges. `slow(k,
 * view, offset, x)` must write int field k or throw the EncodeError that explains why not;
 * `fail(k, e)` rethrows an error from writing nested field k with the field's name added.
 */
export function compileWrite(
  fields: readonly CompiledField[],
  padding: readonly (readonly [number, number])[],
  slow: (k: number, view: DataView, offset: number, x: unknown) => void,
  fail: (k: number, e: unknown) => never,
): WriteFn {
  const lines: string[] = [];
  fields.forEach((f, k) => {
    const at = f.offset === 0 ? "o" : `o + ${f.offset}`;
    lines.push(`x = v[${JSON.stringify(f.name)}];`);
    if (f.type.kind === "int") {
      const { method, le } = accessor(f.type);
      lines.push(`if (${fits(f.type)}) view.set${method}(${at}, x${le});`);
      lines.push(`else slow(${k}, view, ${at}, x);`);
    } else {
      lines.push(`if (x === undefined) slow(${k}, view, ${at}, x);`);
      lines.push(`else try { t[${k}].write(view, ${at}, x); } catch (e) { fail(${k}, e); }`);
    }
  });
  for (const [start, end] of padding) {
    for (let p = start; p < end; p++) lines.push(`view.setUint8(o + ${p}, 0);`);
  }
  const body = `return function write(view, o, v) {\n  let x;\n  ${lines.join("\n  ")}\n};`;
  return new Function("t", "slow", "fail", body)(
    fields.map((f) => f.type),
    slow,
    fail,
  ) as WriteFn;
}

/** Slots of a generated view; `$` cannot appear in a C identifier, so no field collides. */
export interface ViewSlots {
  $v: DataView;
  $o: number;
  /** `$v.byteLength` as of binding (reading it costs more than the rest of `at`) */
  $n: number;
}

/**
 * A class whose instances read the fields in place: one getter per field over the DataView
 * and offset held in `$v`/`$o`. With `int64AsNumber`, 64-bit ints read as two 32-bit halves
 * combined into a number, and `tooWide(k, hi, lo)` is called (it must throw) when the value
 * lies outside ±2^53, where a number would round.
 */
export function compileView(
  fields: readonly CompiledField[],
  int64AsNumber: boolean,
  tooWide: (k: number, hi: number, lo: number) => never,
): new () => ViewSlots {
  const getters = fields.map((f, k) => {
    const at = f.offset === 0 ? "o" : `o + ${f.offset}`;
    const name = JSON.stringify(f.name);
    let body: string;
    if (f.type.kind !== "int") {
      body = `return t[${k}].read(this.$v, this.$o + ${f.offset});`;
    } else if (f.type.bits === 64 && int64AsNumber) {
      const le = f.type.byteOrder === "little";
      const hiAt = `o + ${f.offset + (le ? 4 : 0)}`;
      const loAt = `o + ${f.offset + (le ? 0 : 4)}`;
      const flag = le ? "true" : "false";
      // |x| ≤ 2^53 exactly when the high word is within [-2^21, 2^21 - 1] (signed) or ≤ 2^21 - 1.
      const ok = f.type.signed ? "hi >= -0x200000 && hi <= 0x1fffff" : "hi <= 0x1fffff";
      body =
        `const v = this.$v, o = this.$o;\n` +
        `    const hi = v.get${f.type.signed ? "Int32" : "Uint32"}(${hiAt}, ${flag});\n` +
        `    const lo = v.getUint32(${loAt}, ${flag});\n` +
        `    if (${ok}) return hi * 4294967296 + lo;\n` +
        `    return tooWide(${k}, hi, lo);`;
    } else {
      const { method, le } = accessor(f.type);
      body = `const o = this.$o;\n    return this.$v.get${method}(${at}${le});`;
    }
    return `  get [${name}]() {\n    ${body}\n  }`;
  });
  const src =
    `return class View {\n` +
    `  constructor() { this.$v = EMPTY; this.$o = 0; this.$n = 0; }\n` +
    `${getters.join("\n")}\n};`;
  return new Function("t", "tooWide", "EMPTY", src)(
    fields.map((f) => f.type),
    tooWide,
    new DataView(new ArrayBuffer(0)),
  ) as new () => ViewSlots;
}
