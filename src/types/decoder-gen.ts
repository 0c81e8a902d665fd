// Record decoders compiled per struct (issue 16): one generated JS function per struct and per
// alignment class of the record's address, which builds a plain object (one literal of fixed
// shape) by reading each field straight from the record's memory through one typed array per
// width — `u32[(p + 8) >>> 2]` — instead of DataView getters or a generic walk over fields.
// Fields the typed arrays cannot read as they are (misaligned for the record's address, big
// endian) go through the DataView; bit-fields are composed from bytes.
//
// The layout is described by DecodeNode trees, built by the front ends: StructType.decoder()
// (src/types/struct.ts, tsbpf/types conventions) and compileBtfDecoder (src/reader/
// btf-decoder.ts, bpftool's conventions through BTF). Each front end's result is checked
// against its generic codec by property tests.
//
// Safe to generate: field names go in through JSON.stringify (and `__proto__` as a computed
// key), everything else in the source is numbers and fixed identifiers.

import { DecodeError } from "./type.js";

/** How an 8-byte integer becomes a JS value. */
export type WideMode =
  /** always a bigint */
  | "bigint"
  /** a number, exact for |x| ≤ 2^53; beyond that `tooWide(k, hi, lo)` is called (it throws) */
  | "exact"
  /** a number when it is a safe integer, a bigint otherwise (bpftool's JSON convention) */
  | "smallest";

/** One value of a record's layout; `off` is its byte offset from its parent's start. */
export type DecodeNode =
  | {
      readonly kind: "int";
      readonly off: number;
      readonly size: 1 | 2 | 4 | 8;
      readonly signed: boolean;
      readonly le: boolean;
      /** for size 8 (default "bigint") */
      readonly wide?: WideMode;
      /** the tooWide key of an "exact" field */
      readonly key?: number;
      /** a boolean (`!== 0`) instead of the number */
      readonly bool?: boolean;
    }
  | {
      /** `bits` bits from bit `bitOff` (little-endian bit numbering) of the bytes at `off` */
      readonly kind: "bits";
      readonly off: number;
      readonly bitOff: number;
      readonly bits: number;
      readonly signed: boolean;
      readonly bool?: boolean;
    }
  | { readonly kind: "float"; readonly off: number; readonly size: 4 | 8 }
  | {
      readonly kind: "array";
      readonly off: number;
      readonly n: number;
      /** bytes from one element to the next */
      readonly stride: number;
      readonly elem: DecodeNode;
      /** a copy as this typed array (u8/i8 elements) instead of a list */
      readonly typed?: "Uint8Array" | "Int8Array";
      /** a printable NUL-terminated char array reads as a string, otherwise as the list */
      readonly chars?: boolean;
    }
  | {
      readonly kind: "struct";
      readonly off: number;
      readonly fields: readonly { readonly name: string; readonly node: DecodeNode }[];
    }
  | {
      /** anything else: `fn(bytes, at)` decodes it from the caller's bytes at `at` */
      readonly kind: "call";
      readonly off: number;
      readonly fn: (bytes: Uint8Array, at: number) => unknown;
    };

/**
 * The memory a decoder reads: typed arrays over the whole buffer from byte 0 (so an absolute
 * address indexes every one of them), created for the widths the compiled code uses.
 */
export class Binding {
  buffer: ArrayBufferLike = EMPTY_BUFFER;
  u8 = new Uint8Array(0);
  i8 = new Int8Array(0);
  u16 = new Uint16Array(0);
  i16 = new Int16Array(0);
  u32 = new Uint32Array(0);
  i32 = new Int32Array(0);
  f32 = new Float32Array(0);
  f64 = new Float64Array(0);
  b64 = new BigUint64Array(0);
  bi64 = new BigInt64Array(0);
  dv: DataView = new DataView(EMPTY_BUFFER);
  /** the caller's bytes (for "call" nodes) and their absolute start */
  bytes: Uint8Array = new Uint8Array(0);
  base = 0;
  /** the DataView this binding was made for (StructDecoder.at) and its byteLength */
  view: DataView | undefined = undefined;
  len = 0;
  /** bumped whenever an array above changes, so compiled code re-reads them */
  gen = 0;
  /**
   * Whether every array is bound. A small buffer (an event copied out of its ring) gets only
   * the byte arrays and the DataView, and the byte-aligned code: making eight typed arrays
   * per record would cost more than the decode.
   */
  full = false;
}

const EMPTY_BUFFER = new ArrayBuffer(0);

type ArrayName = "u8" | "i8" | "u16" | "i16" | "u32" | "i32" | "f32" | "f64" | "b64" | "bi64";

const CTORS = {
  u8: Uint8Array,
  i8: Int8Array,
  u16: Uint16Array,
  i16: Int16Array,
  u32: Uint32Array,
  i32: Int32Array,
  f32: Float32Array,
  f64: Float64Array,
  b64: BigUint64Array,
  bi64: BigInt64Array,
} as const;

const EMPTY: Record<ArrayName, ArrayBufferView> = {
  u8: new Uint8Array(0),
  i8: new Int8Array(0),
  u16: new Uint16Array(0),
  i16: new Int16Array(0),
  u32: new Uint32Array(0),
  i32: new Int32Array(0),
  f32: new Float32Array(0),
  f64: new Float64Array(0),
  b64: new BigUint64Array(0),
  bi64: new BigInt64Array(0),
};

const lowbit = (x: number): number => (x === 0 ? 8 : Math.min(8, x & -x));

/** Runtime helpers the generated code calls. */
interface Helpers {
  tooWide: (k: number, hi: number, lo: number) => never;
  calls: readonly ((bytes: Uint8Array, at: number) => unknown)[];
  smallU: (hi: number, lo: number) => number | bigint;
  smallI: (hi: number, lo: number) => number | bigint;
  bitsBig: (
    u8: Uint8Array,
    at: number,
    sh: number,
    bits: number,
    signed: boolean,
  ) => number | bigint;
  cstr: (u8: Uint8Array, at: number, n: number) => string | undefined;
}

/** Source of the decode function for records whose address is a multiple of `rootAlign`. */
class Gen {
  readonly helpers: string[] = [];
  readonly uses = new Set<ArrayName>(["u8"]);
  readonly calls: ((bytes: Uint8Array, at: number) => unknown)[] = [];
  /** whether the code reads through the DataView */
  usesDv = false;
  /** whether helpers read the binding from the closure (array loops, calls) */
  closure = false;
  private tmp = 0;

  private dv(): string {
    this.usesDv = true;
    return "dv";
  }

  /** `name[addr >>> shift]` when the address is aligned for it, else undefined */
  private typed(name: ArrayName, addr: string, align: number, size: number): string | undefined {
    if (align < size) return undefined;
    this.uses.add(name);
    const shift = Math.log2(size);
    return shift === 0 ? `${name}[${addr}]` : `${name}[(${addr}) >>> ${shift}]`;
  }

  /** The expression for `node` at `base + c` where `base` is a multiple of `al`. */
  expr(node: DecodeNode, base: string, c: number, al: number): string {
    const off = c + node.off;
    const addr = off === 0 ? base : `${base} + ${off}`;
    const align = Math.min(al, lowbit(off));
    switch (node.kind) {
      case "int":
        return this.int(node, addr, align);
      case "bits":
        return this.bits(node, base, off);
      case "float": {
        const name = node.size === 4 ? "f32" : "f64";
        const fast = this.typed(name, addr, align, node.size);
        if (fast !== undefined) return fast;
        this.uses.add("u8");
        return `${this.dv()}.getFloat${node.size * 8}(${addr}, true)`;
      }
      case "array":
        return this.array(node, addr, align);
      case "struct": {
        const parts = node.fields.map(({ name, node: f }) => {
          const key = name === "__proto__" ? `["__proto__"]` : JSON.stringify(name);
          return `${key}: ${this.expr(f, base, off, al)}`;
        });
        return `{ ${parts.join(", ")} }`;
      }
      case "call": {
        this.closure = true;
        this.calls.push(node.fn);
        return `calls[${this.calls.length - 1}](s.bytes, ${addr} - s.base)`;
      }
    }
  }

  private int(node: Extract<DecodeNode, { kind: "int" }>, addr: string, align: number): string {
    const { size, signed, le } = node;
    let e: string;
    if (size === 8) {
      const wide = node.wide ?? "bigint";
      if (node.bool === true) {
        e = `${this.dv()}.getBigUint64(${addr}, ${le})`;
        return `${e} !== 0n`;
      }
      if (wide === "bigint") {
        const fast = le ? this.typed(signed ? "bi64" : "b64", addr, align, 8) : undefined;
        return fast ?? `${this.dv()}.getBig${signed ? "Int" : "Uint"}64(${addr}, ${le})`;
      }
      const hiAt = `${addr} + ${le ? 4 : 0}`;
      const loAt = `${addr} + ${le ? 0 : 4}`;
      const hiName = signed ? "i32" : "u32";
      const hi =
        (le ? this.typed(hiName, hiAt, align, 4) : undefined) ??
        `${this.dv()}.get${signed ? "Int" : "Uint"}32(${hiAt}, ${le})`;
      const lo =
        (le ? this.typed("u32", loAt, align, 4) : undefined) ??
        `${this.dv()}.getUint32(${loAt}, ${le})`;
      if (wide === "smallest") return `${signed ? "smallI" : "smallU"}(${hi}, ${lo})`;
      const k = node.key ?? 0;
      const ok = signed ? "h >= -0x200000 && h <= 0x1fffff" : "h <= 0x1fffff";
      const h = `h${this.tmp++}`;
      // An IIFE-free form: a helper per field keeps the literal one expression.
      this.helpers.push(
        `function ${h}(h, l) { return ${ok} ? h * 4294967296 + l : tooWide(${k}, h, l); }`,
      );
      return `${h}(${hi}, ${lo})`;
    }
    const bits = size * 8;
    const name = (
      size === 1 ? (signed ? "i8" : "u8") : `${signed ? "i" : "u"}${bits}`
    ) as ArrayName;
    const fast = le || size === 1 ? this.typed(name, addr, align, size) : undefined;
    e =
      fast ??
      `${this.dv()}.get${signed ? "Int" : "Uint"}${bits}(${addr}${size === 1 ? "" : `, ${le}`})`;
    return node.bool === true ? `(${e}) !== 0` : e;
  }

  private bits(node: Extract<DecodeNode, { kind: "bits" }>, base: string, off: number): string {
    const first = off + (node.bitOff >> 3);
    const sh = node.bitOff & 7;
    const { bits, signed } = node;
    const at = (k: number): string => (first + k === 0 ? base : `${base} + ${first + k}`);
    let e: string;
    if (sh + bits <= 32 && bits > 0) {
      const n = (sh + bits + 7) >> 3;
      const bytes: string[] = [];
      for (let k = 0; k < n; k++)
        bytes.push(k === 0 ? `u8[${at(k)}]` : `(u8[${at(k)}] << ${8 * k})`);
      const word = n === 1 ? bytes[0]! : `(${bytes.join(" | ")})`;
      if (bits === 32) e = signed ? `(${word} | 0)` : `(${word} >>> 0)`;
      else {
        const v = `((${word} >>> ${sh}) & ${2 ** bits - 1})`;
        e = signed ? `((${v} << ${32 - bits}) >> ${32 - bits})` : v;
      }
    } else e = `bitsBig(u8, ${at(0)}, ${sh}, ${bits}, ${signed})`;
    return node.bool === true ? `(${e} != 0)` : e;
  }

  private array(node: Extract<DecodeNode, { kind: "array" }>, addr: string, align: number): string {
    if (node.typed !== undefined) {
      const name = node.typed === "Uint8Array" ? "u8" : "i8";
      this.uses.add(name);
      return `${name}.slice(${addr}, ${addr} + ${node.n})`;
    }
    this.closure = true;
    const h = `a${this.tmp++}`;
    const qAlign = Math.min(align, lowbit(node.stride));
    const elem = this.expr(node.elem, "q", 0, qAlign);
    const pre =
      node.chars === true
        ? `const t = cstr(u8, b, ${node.n}); if (t !== undefined) return t;\n`
        : "";
    this.helpers.push(
      `function ${h}(b) {\n${pre}const a = new Array(${node.n});\n` +
        `for (let i = 0, q = b; i < ${node.n}; i++, q += ${node.stride}) a[i] = ${elem};\nreturn a;\n}`,
    );
    return `${h}(${addr})`;
  }
}

const ARRAY_NAMES = Object.keys(CTORS) as ArrayName[];

/** The functions a compiled layout makes for one Binding. */
export interface LayoutFns {
  /** decode at `offset` of `view` (the caller binds and range-checks through the hooks) */
  at(view: DataView, offset: number): unknown;
  /** decode at `offset` of `bytes` */
  decode(bytes: Uint8Array, offset: number): unknown;
}

/** What the generated code calls back for binding and errors. */
export interface LayoutHooks {
  /** bind `s` to a DataView (sets view, len, base, bytes and the arrays) */
  bindView(view: DataView): void;
  /** throw the error for a record that does not fit the view */
  outOfRange(view: DataView, offset: number): never;
  /** throw the error for bytes too short */
  tooShort(bytes: Uint8Array, offset: number): never;
}

type Factory = (s: Binding, hooks: LayoutHooks, helpers: Helpers) => LayoutFns;

/**
 * A record layout compiled once: a factory that makes, per Binding, an `at` and a `decode`
 * with the range check, the binding check and one straight-line decode function per
 * alignment class of the record's address (8, 4, 2, 1) inlined into one source.
 */
export class CompiledLayout {
  /** the byte length a record must have: the layout's extent */
  readonly size: number;
  private readonly factory: Factory;
  private readonly helpers: Helpers;
  private readonly uses: readonly ArrayName[];

  constructor(
    root: DecodeNode,
    size: number,
    tooWide: (k: number, hi: number, lo: number) => never = () => {
      throw new DecodeError("64-bit value outside ±2^53, where a number is exact");
    },
  ) {
    this.size = size;
    const gen = new Gen();
    const bodies = [8, 4, 2, 1].map((a) => gen.expr(root, "p", 0, a));
    const uses = [...gen.uses];
    this.uses = uses;
    const locals = uses.map((n) => `const ${n} = s.${n};`).join(" ");
    const dvLocal = gen.usesDv ? " const dv = s.dv;" : "";
    const fns = bodies
      .map((b, k) => `function d${k}(p) {\n  ${locals}${dvLocal}\n  return ${b};\n}`)
      .join("\n");
    const sync = gen.closure ? `  if (s.gen !== g) sync();\n` : "";
    const src =
      `"use strict";\n` +
      `const { tooWide, calls, smallU, smallI, bitsBig, cstr } = helpers;\n` +
      `const { bindView, outOfRange, tooShort } = hooks;\n` +
      `let ${ARRAY_NAMES.join(", ")}, dv, g = -1;\n` +
      `function sync() { g = s.gen; ${ARRAY_NAMES.map((n) => `${n} = s.${n}`).join("; ")}; dv = s.dv; }\n` +
      `${gen.helpers.join("\n")}\n${fns}\n` +
      `function pick(p) {\n  const a = p & 7;\n` +
      `  return a === 0 ? d0(p) : (a & 3) === 0 ? d1(p) : (a & 1) === 0 ? d2(p) : d3(p);\n}\n` +
      `function at(view, offset) {\n` +
      `  if (view !== s.view) bindView(view);\n` +
      `  if ((offset >>> 0) !== offset || offset + ${size} > s.len || s.u8.length === 0) outOfRange(view, offset);\n` +
      sync +
      `  return pick(s.base + offset);\n}\n` +
      `function decode(bytes, offset) {\n` +
      `  if (bytes.buffer !== s.buffer || s.view !== undefined) hooks.bindBytes(bytes);\n` +
      `  else { s.bytes = bytes; s.base = bytes.byteOffset; }\n` +
      `  if ((offset >>> 0) !== offset || offset + ${size} > bytes.length || s.u8.length === 0) tooShort(bytes, offset);\n` +
      sync +
      `  return s.full ? pick(s.base + offset) : d3(s.base + offset);\n}\n` +
      `return { at, decode };`;
    if (process.env.TSBPF_DUMP_DECODER) console.error(src);
    this.factory = new Function("s", "hooks", "helpers", src) as Factory;
    this.helpers = { tooWide, calls: gen.calls, smallU, smallI, bitsBig, cstr };
  }

  /** The at/decode pair over binding `s`. */
  make(s: Binding, hooks: LayoutHooks & { bindBytes(bytes: Uint8Array): void }): LayoutFns {
    return this.factory(s, hooks, this.helpers);
  }

  /**
   * Point `s` at `buffer`: the typed arrays this layout's code uses, or with `full` false
   * only those of the byte-aligned variant (see Binding.full).
   */
  bind(s: Binding, buffer: ArrayBufferLike, full = true): void {
    s.buffer = buffer;
    s.dv = new DataView(buffer);
    s.full = full;
    for (const name of this.uses) {
      if (!full && name !== "u8" && name !== "i8") {
        (s as unknown as Record<ArrayName, unknown>)[name] = EMPTY[name];
        continue;
      }
      const C = CTORS[name];
      (s as unknown as Record<ArrayName, unknown>)[name] = new C(
        buffer as ArrayBuffer,
        0,
        Math.floor(buffer.byteLength / C.BYTES_PER_ELEMENT),
      );
    }
    s.gen++;
  }
}

function smallU(hi: number, lo: number): number | bigint {
  return hi <= 0x1fffff ? hi * 4294967296 + lo : (BigInt(hi) << 32n) | BigInt(lo);
}

function smallI(hi: number, lo: number): number | bigint {
  const v = hi * 4294967296 + lo;
  return hi >= -0x200000 && hi <= 0x1fffff && v >= -Number.MAX_SAFE_INTEGER
    ? v
    : (BigInt(hi) << 32n) + BigInt(lo);
}

/** `bits` bits from bit `sh` of the bytes at `at` (little-endian), as the smallest value. */
function bitsBig(
  u8: Uint8Array,
  at: number,
  sh: number,
  bits: number,
  signed: boolean,
): number | bigint {
  const last = at + ((sh + bits - 1) >> 3);
  let v = 0n;
  for (let i = last; i >= at; i--) v = (v << 8n) | BigInt(u8[i]!);
  v = (v >> BigInt(sh)) & ((1n << BigInt(bits)) - 1n);
  if (signed && bits > 0 && (v >> BigInt(bits - 1)) & 1n) v -= 1n << BigInt(bits);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(v)
    : v;
}

/** A printable, NUL-terminated char array as text (bpftool's rule); undefined otherwise. */
function cstr(u8: Uint8Array, at: number, n: number): string | undefined {
  let s = "";
  for (let i = 0; i < n; i++) {
    const c = u8[at + i]!;
    if (c === 0) return s;
    if (c < 0x20 || c > 0x7e) return undefined;
    s += String.fromCharCode(c);
  }
  return undefined;
}
