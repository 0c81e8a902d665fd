// Fixed-length arrays. Byte arrays decode to typed arrays (one copy, no per-element objects);
// everything else decodes to a JS array of element values.
import { BaseType, EncodeError, TypeDefinitionError, type Infer, type Type } from "./type.js";
import { describe, u8, type IntType } from "./int.js";

/** What an array of `E` decodes to: Uint8Array for u8, Int8Array for i8, else an array. */
export type ArrayValue<E> =
  E extends IntType<"u8", number>
    ? Uint8Array
    : E extends IntType<"i8", number>
      ? Int8Array
      : Infer<E>[];

/** `E element[length]` in C. */
export interface ArrayType<E extends Type = Type, V = ArrayValue<E>> extends BaseType<V> {
  readonly kind: "array";
  readonly element: E;
  /** number of elements */
  readonly length: number;
}

/** Largest array accepted, in bytes: well past any map value the kernel allows. */
export const MAX_TYPE_SIZE = 0x7fffffff;

class Arr<E extends Type> extends BaseType<ArrayValue<E>> implements ArrayType<E> {
  readonly kind = "array" as const;
  readonly size: number;
  readonly align: number;
  readonly label: string;
  /** u8/i8 elements: which typed array the value is */
  private readonly typed: typeof Uint8Array | typeof Int8Array | undefined;

  constructor(
    readonly element: E,
    readonly length: number,
  ) {
    super();
    this.size = element.size * length;
    this.align = element.align;
    this.label = `${element.label}[${length}]`;
    const el = element as Type;
    this.typed =
      el.kind === "int" && el.bits === 8 ? (el.signed ? Int8Array : Uint8Array) : undefined;
    Object.freeze(this);
  }

  read(view: DataView, offset: number): ArrayValue<E> {
    if (this.typed !== undefined) {
      // A copy, not a view: event buffers are reused after the callback returns.
      return new this.typed(
        view.buffer as ArrayBuffer,
        view.byteOffset + offset,
        this.length,
      ).slice() as ArrayValue<E>;
    }
    const out = new Array<unknown>(this.length);
    const el = this.element as BaseType<unknown>;
    for (let i = 0, o = offset; i < this.length; i++, o += el.size) out[i] = el.read(view, o);
    return out as ArrayValue<E>;
  }

  write(view: DataView, offset: number, value: ArrayValue<E>): void {
    const v = value as unknown;
    if (this.typed !== undefined && v instanceof this.typed) {
      if (v.length !== this.length) throw this.badLength(v);
      new this.typed(view.buffer as ArrayBuffer, view.byteOffset + offset, this.length).set(v);
      return;
    }
    if (
      typeof v !== "object" ||
      v === null ||
      typeof (v as { length?: unknown }).length !== "number"
    ) {
      const want = this.typed === undefined ? "an array" : `a ${this.typed.name} or an array`;
      throw new EncodeError(
        v === undefined ? `missing value (${this.label})` : `expected ${want}, got ${describe(v)}`,
      );
    }
    const items = v as ArrayLike<unknown>;
    if (items.length !== this.length) throw this.badLength(items);
    const el = this.element as BaseType<unknown>;
    for (let i = 0, o = offset; i < this.length; i++, o += el.size) {
      try {
        el.write(view, o, items[i]);
      } catch (e) {
        if (e instanceof EncodeError) throw e.within(`[${i}]`);
        throw e;
      }
    }
  }

  private badLength(v: ArrayLike<unknown>): EncodeError {
    return new EncodeError(`expected ${this.length} elements (${this.label}), got ${v.length}`);
  }
}

/** `E[length]`: a fixed-length array of `element`, laid out back to back like C. */
export function array<E extends Type>(element: E, length: number): ArrayType<E> {
  const el = element as unknown;
  if (!(el instanceof BaseType)) {
    throw new TypeDefinitionError(
      `array(): element must be a tsbpf type (u8 … i64, array(), struct()), got ${describe(el)}`,
    );
  }
  if (!Number.isInteger(length) || length < 1) {
    throw new TypeDefinitionError(
      `array(${element.label}, ${length}): length must be an integer ≥ 1`,
    );
  }
  if (element.size * length > MAX_TYPE_SIZE) {
    throw new TypeDefinitionError(
      `array(${element.label}, ${length}): ${element.size * length} bytes is larger than ${MAX_TYPE_SIZE}`,
    );
  }
  return new Arr(element, length);
}

/** `u8[length]`, decoded as a Uint8Array. */
export function bytes(length: number): ArrayType<IntType<"u8", number>> {
  return array(u8, length);
}
