// C structs with natural alignment: each field at the next multiple of its own alignment, the
// struct aligned to its strictest field and padded to a multiple of that — what clang does
// for the same declaration on every BPF target (no packing, no bitfields).
import {
  BaseType,
  checkRange,
  DecodeError,
  EncodeError,
  TypeDefinitionError,
  type Infer,
  type Type,
} from "./type.js";
import type { IntType } from "./int.js";
import { describe } from "./int.js";
import { identProblem } from "./ident.js";
import { MAX_TYPE_SIZE } from "./array.js";
import { CompiledLayout, type DecodeNode } from "./decoder-gen.js";
import { CompiledDecoder, type RecordDecoder } from "./decoder.js";
import {
  compileRead,
  compileView,
  compileWrite,
  type ReadFn,
  type ViewSlots,
  type WriteFn,
} from "./codegen.js";

/** Field definitions as passed to struct(): name → type, in declaration order. */
export type Fields = { readonly [name: string]: Type };

/** The value of a struct: one property per field. */
export type StructValue<F extends Fields> = { -readonly [K in keyof F]: Infer<F[K]> };

/** How a struct view reads 64-bit fields. */
export interface StructViewOptions {
  /**
   * `"bigint"` (default): as `decode` does. `"number"`: as a number, exact for |x| ≤ 2^53; a
   * value outside that range throws a DecodeError instead of rounding. Saves a heap BigInt
   * per field read — for sequence numbers, counters and byte counts that stay below 2^53.
   */
  readonly int64?: "bigint" | "number";
}

/** The fields of a struct as a view reads them: 64-bit ints as `W`, the rest as decoded. */
export type ViewFields<F extends Fields, W extends number | bigint = bigint> = {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly [K in keyof F]: F[K] extends IntType<any, bigint> ? W : Infer<F[K]>;
};

/**
 * Reads a struct in place, allocating nothing per record: `at(view, offset)` points one
 * reusable object at the bytes and returns it; each field is a getter that reads the bytes
 * when accessed. The object is the same on every call and sees whatever the bytes hold
 * when a field is read — copy what must outlive the buffer (or use `decodeFrom`).
 */
export interface StructView<out F extends Fields = Fields, out W extends number | bigint = bigint> {
  /** the struct this view reads */
  readonly type: StructType<F>;
  /** Point the view at `offset` in `view` (throws RangeError unless `size` bytes fit). */
  at(view: DataView, offset: number): ViewFields<F, W>;
}

/** What a compiled decoder returns: a plain object, 64-bit ints as `W`, the rest as decoded. */
export type DecodedFields<F extends Fields, W extends number | bigint = bigint> = {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  -readonly [K in keyof F]: F[K] extends IntType<any, bigint> ? W : Infer<F[K]>;
};

/** A laid-out field. */
export interface Field {
  readonly name: string;
  /** byte offset from the start of the struct */
  readonly offset: number;
  readonly type: Type;
}

/**
 * `struct name { … }` in C. `F` (like the parameters of StructView, IntType and TypeBase) is
 * marked covariant, as TypeScript measures it, so the checker skips measuring its variance in
 * every program: that was several milliseconds of each probe build.
 */
export interface StructType<out F extends Fields = Fields> extends BaseType<StructValue<F>> {
  readonly kind: "struct";
  /** the C struct tag (and BTF name) */
  readonly name: string;
  /** fields in declaration order, with offsets */
  readonly fields: readonly Field[];
  /** the definition passed to struct(), for typed access to field types */
  readonly shape: F;
  /** the field called `name`, if any */
  field(name: string): Field | undefined;
  /**
   * A zero-allocation reader of this struct in place (see StructView). Nested arrays and
   * structs are still decoded (copied) when their field is read.
   */
  view(): StructView<F, bigint>;
  view(options: { readonly int64: "number" }): StructView<F, number>;
  view(options: StructViewOptions): StructView<F, number | bigint>;
  /**
   * A decoder compiled for this struct: each record becomes a fresh plain object (the same
   * values as `decodeFrom`), its fields read straight from memory through typed arrays. The
   * fastest way to turn ring buffer records into objects that outlive their batch:
   * `decoder.batch(reader.readRecords())`. With `{ int64: "number" }`, top-level 64-bit
   * fields read as exact numbers (a value outside ±2^53 throws DecodeError), as in `view`.
   * Compiled once per struct and option, on first use.
   */
  decoder(): RecordDecoder<StructValue<F>>;
  decoder(options: { readonly int64: "number" }): RecordDecoder<DecodedFields<F, number>>;
  decoder(options: StructViewOptions): RecordDecoder<DecodedFields<F, number | bigint>>;
}

class Struct<F extends Fields> extends BaseType<StructValue<F>> implements StructType<F> {
  readonly kind = "struct" as const;
  readonly size: number;
  readonly align: number;
  readonly label: string;
  readonly fields: readonly Field[];
  private readonly byName: ReadonlyMap<string, Field>;
  private readonly readFields: ReadFn;
  private readonly writeFields: WriteFn;

  constructor(
    readonly name: string,
    readonly shape: F,
  ) {
    super();
    this.label = name;
    const fields: Field[] = [];
    const padding: [number, number][] = [];
    let end = 0;
    let align = 1;
    for (const [fname, type] of Object.entries(shape)) {
      const offset = alignUp(end, type.align);
      if (offset > end) padding.push([end, offset]);
      fields.push(Object.freeze({ name: fname, offset, type }));
      end = offset + type.size;
      align = Math.max(align, type.align);
    }
    this.size = alignUp(end, align);
    if (this.size > end) padding.push([end, this.size]);
    this.align = align;
    this.fields = Object.freeze(fields);
    this.byName = new Map(fields.map((f) => [f.name, f]));
    this.readFields = compileRead(fields);
    this.writeFields = compileWrite(
      fields,
      padding,
      (k, view, at, x) => this.slowField(k, view, at, x),
      (k, e) => this.fail(k, e),
    );
    Object.freeze(this);
  }

  field(name: string): Field | undefined {
    return this.byName.get(name);
  }

  view(): StructView<F, bigint>;
  view(options: { readonly int64: "number" }): StructView<F, number>;
  view(options: StructViewOptions): StructView<F, number | bigint>;
  view(options: StructViewOptions = {}): StructView<F, number | bigint> {
    const int64 = options.int64 ?? "bigint";
    if (int64 !== "bigint" && int64 !== "number") {
      throw new TypeDefinitionError(
        `struct ${this.name}: view({ int64 }) must be "bigint" or "number", got ${describe(int64)}`,
      );
    }
    const View = compileView(this.fields, int64 === "number", (k, hi, lo) => {
      const f = this.fields[k]!;
      const x = (BigInt(hi) << 32n) | BigInt(lo);
      throw new DecodeError(
        `${this.name}.${f.name}: ${x}n is outside ±2^53, where a number is exact; ` +
          `read it with view({ int64: "bigint" }) or decodeFrom`,
      );
    });
    // console.log(view) shows the field values, not the slots.
    const names = this.fields.map((f) => f.name);
    Object.defineProperty(View.prototype, Symbol.for("nodejs.util.inspect.custom"), {
      value(this: Record<string, unknown>) {
        return Object.fromEntries(names.map((n) => [n, this[n]]));
      },
    });
    return new FieldsView(this, new View());
  }

  decoder(): RecordDecoder<StructValue<F>>;
  decoder(options: { readonly int64: "number" }): RecordDecoder<DecodedFields<F, number>>;
  decoder(options: StructViewOptions): RecordDecoder<DecodedFields<F, number | bigint>>;
  decoder(options: StructViewOptions = {}): RecordDecoder<DecodedFields<F, number | bigint>> {
    const int64 = options.int64 ?? "bigint";
    if (int64 !== "bigint" && int64 !== "number") {
      throw new TypeDefinitionError(
        `struct ${this.name}: decoder({ int64 }) must be "bigint" or "number", got ${describe(int64)}`,
      );
    }
    let layout = layouts.get(this)?.[int64];
    if (layout === undefined) {
      const root = layoutOf(this, 0, int64 === "number" ? "exact" : "bigint");
      layout = new CompiledLayout(root, this.size, (k, hi, lo) => {
        const f = this.fields[k]!;
        const x = (BigInt(hi) << 32n) | BigInt(lo);
        throw new DecodeError(
          `${this.name}.${f.name}: ${x}n is outside ±2^53, where a number is exact; ` +
            `read it with decoder() or decodeFrom`,
        );
      });
      layouts.set(this, { ...layouts.get(this), [int64]: layout });
    }
    return new CompiledDecoder(layout, this.name);
  }

  read(view: DataView, offset: number): StructValue<F> {
    return this.readFields(view, offset) as StructValue<F>;
  }

  write(view: DataView, offset: number, value: StructValue<F>): void {
    const v = value as unknown;
    if (typeof v !== "object" || v === null || ArrayBuffer.isView(v) || Array.isArray(v)) {
      const err = new EncodeError(
        v === undefined ? "missing value" : `expected an object, got ${describe(v)}`,
      );
      throw err.within("", this.name);
    }
    this.writeFields(view, offset, v);
  }

  /** Field `k` failed the fast check: write it the checked way, or say why it cannot be. */
  private slowField(k: number, view: DataView, offset: number, x: unknown): void {
    const f = this.fields[k]!;
    try {
      if (x === undefined) {
        throw new EncodeError(`missing field (${f.type.label}); every field needs a value`);
      }
      (f.type as BaseType<unknown>).write(view, offset, x);
    } catch (e) {
      this.fail(k, e);
    }
  }

  /** Rethrow an error from field `k`, adding the field to an EncodeError's path. */
  private fail(k: number, e: unknown): never {
    if (e instanceof EncodeError) throw e.within(`.${this.fields[k]!.name}`, this.name);
    throw e;
  }
}

/** StructView over a generated getter class; `at` only rebinds the one instance. */
class FieldsView<F extends Fields> implements StructView<F, number | bigint> {
  constructor(
    readonly type: Struct<F>,
    private readonly flyweight: ViewSlots,
  ) {
    Object.freeze(this);
  }

  at(view: DataView, offset: number): ViewFields<F, number | bigint> {
    const f = this.flyweight;
    // Callers rebind to the same DataView again and again (a ring buffer's data area), and
    // `byteLength` is the slowest part of the check: remember it per view. Safe even if a
    // resizable buffer shrinks later: every field read is bounds-checked by DataView itself.
    const n = view === f.$v ? f.$n : view.byteLength;
    if (!(offset >= 0 && offset + this.type.size <= n && Number.isInteger(offset))) {
      checkRange(view, offset, this.type.size, this.type.name);
    }
    f.$v = view;
    f.$n = n;
    f.$o = offset;
    return f as unknown as ViewFields<F, number | bigint>;
  }
}

/** Compiled layouts per struct (the struct itself is frozen). */
const layouts = new WeakMap<object, { bigint?: CompiledLayout; number?: CompiledLayout }>();

/**
 * The decode layout of `t` at `off`. `top64` "exact" (given for the root) reaches the root's
 * own int fields only: nested values decode as `decodeFrom` does, as in `view`.
 */
function layoutOf(t: Type, off: number, top64: "bigint" | "exact", key = 0): DecodeNode {
  switch (t.kind) {
    case "int":
      return {
        kind: "int",
        off,
        size: (t.bits / 8) as 1 | 2 | 4 | 8,
        signed: t.signed,
        le: t.byteOrder === "little",
        wide: top64,
        key,
      };
    case "array": {
      const el = t.element as Type;
      if (el.kind === "int" && el.bits === 8) {
        return {
          kind: "array",
          off,
          n: t.length,
          stride: 1,
          elem: layoutOf(el, 0, "bigint"),
          typed: el.signed ? "Int8Array" : "Uint8Array",
        };
      }
      return {
        kind: "array",
        off,
        n: t.length,
        stride: el.size,
        elem: layoutOf(el, 0, "bigint"),
      };
    }
    case "struct":
      return {
        kind: "struct",
        off,
        fields: t.fields.map((f, k) => ({
          name: f.name,
          node: layoutOf(
            f.type,
            f.offset,
            top64 === "exact" && f.type.kind === "int" ? "exact" : "bigint",
            k,
          ),
        })),
      };
  }
}

function alignUp(n: number, align: number): number {
  return Math.ceil(n / align) * align;
}

/**
 * Define a C struct. Fields keep declaration order and C natural alignment; `name` and field
 * names must be C identifiers. The result is both a layout (for the compiler and BTF) and a
 * codec (for user space).
 *
 * ```ts
 * const RequestInfo = struct("RequestInfo", { saddr: u32, daddr: u32, sport: u16, dport: u16 });
 * type RequestInfo = Infer<typeof RequestInfo>;
 * ```
 */
export function struct<F extends Fields>(name: string, fields: F): StructType<F> {
  const problem = identProblem(name);
  if (problem !== undefined) {
    throw new TypeDefinitionError(`struct(${JSON.stringify(name)}): the struct name ${problem}`);
  }
  if (typeof fields !== "object" || fields === null) {
    throw new TypeDefinitionError(
      `struct ${name}: fields must be an object of name: type, got ${describe(fields)}`,
    );
  }
  const entries = Object.entries(fields);
  if (entries.length === 0) {
    throw new TypeDefinitionError(
      `struct ${name}: needs at least one field (C has no empty structs)`,
    );
  }
  let size = 0;
  for (const [fname, type] of entries) {
    // A C identifier, but as a JS object key it sets the prototype instead of a property.
    const bad = fname === "__proto__" ? "cannot be a JS property name" : identProblem(fname);
    if (bad !== undefined) {
      throw new TypeDefinitionError(`struct ${name}: field name ${JSON.stringify(fname)} ${bad}`);
    }
    if (!((type as unknown) instanceof BaseType)) {
      throw new TypeDefinitionError(
        `struct ${name}: field ${fname} must be a tsbpf type (u8 … i64, array(), struct()), got ${describe(type)}`,
      );
    }
    size += type.size + type.align;
  }
  if (size > MAX_TYPE_SIZE) {
    throw new TypeDefinitionError(`struct ${name}: larger than ${MAX_TYPE_SIZE} bytes`);
  }
  return new Struct(name, Object.freeze({ ...fields }));
}
