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
