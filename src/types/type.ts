// The type model shared by the compiler (layout, BTF) and user space (codecs). Every type is a
// plain immutable object with a `kind` tag, so the compiler can walk it with a switch.
import type { Codec } from "./codec.js";
import type { IntType } from "./int.js";
import type { ArrayType } from "./array.js";
import type { StructType } from "./struct.js";
import { TsbpfError, userErrorClass } from "../errors.js";

/** The three shapes a type can have. */
export type TypeKind = "int" | "array" | "struct";

/** What every type offers: C layout plus a codec for values of `T`. */
export interface TypeBase<out T> extends Codec<T> {
  readonly kind: TypeKind;
  /** sizeof in bytes, as clang computes it for the equivalent C type */
  readonly size: number;
  /** _Alignof in bytes */
  readonly align: number;
  /**
   * Encode `value` into `bytes` (host order, padding zeroed). Writes into `out` when given —
   * it must hold at least `size` bytes — and returns the `size` bytes written.
   */
  encode(value: T, out?: Uint8Array): Uint8Array;
  /** Decode the first `size` bytes; longer input is fine (the rest is ignored). */
  decode(bytes: Uint8Array): T;
  /** Decode at `offset` in `view` without copying the input. */
  decodeFrom(view: DataView, offset: number): T;
  /** Encode at `offset` in `view`, zeroing padding. */
  encodeInto(view: DataView, offset: number, value: T): void;
}

/** Any type; switch on `kind` to walk it. */
// `any` keeps every concrete type assignable here whatever its value type.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Type = IntType<any, any> | ArrayType<any, any> | StructType<any>;

/** The value type of a type: `Infer<typeof u16>` is `number`. */
export type Infer<T> = T extends TypeBase<infer V> ? V : never;

/**
 * A value that cannot be encoded as its type. `path` says where it sits, e.g.
 * `RequestInfo.ports[2]`, and `detail` what is wrong with it.
 */
export class EncodeError extends TsbpfError {
  override readonly name = "EncodeError";
  readonly detail: string;
  private root = "";
  private rest = "";

  constructor(detail: string) {
    super(detail);
    this.detail = detail;
  }

  /** Where the bad value sits: struct name, then `.field` / `[index]` steps. */
  get path(): string {
    return this.root + this.rest;
  }

  /** Record one more enclosing step while the error unwinds (innermost first). */
  within(step: string, root = this.root): this {
    this.rest = step + this.rest;
    this.root = root;
    const path = this.path;
    this.message = path === "" ? this.detail : `${path}: ${this.detail}`;
    return this;
  }
}

/**
 * A type that cannot be defined or declared: a bad struct or field name, a field that is not a
 * tsbpf type, an array length, a size past the limit, two different structs of one name, a bad
 * view() option. The message names the type and says what to write instead.
 */
export class TypeDefinitionError extends TypeError {
  override readonly name = "TypeDefinitionError";
}
userErrorClass(TypeDefinitionError);

/** Input shorter than the type it should hold. */
export class DecodeError extends RangeError {
  override readonly name = "DecodeError";
}
userErrorClass(DecodeError);

/** A DataView over exactly the bytes of `bytes`. */
export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Throws unless `size` bytes fit at `offset` in `view` (a DecodeError, or an EncodeError). */
export function checkRange(
  view: DataView,
  offset: number,
  size: number,
  what: string,
  Err: typeof DecodeError | typeof EncodeError = DecodeError,
): void {
  if (!Number.isInteger(offset) || offset < 0 || offset + size > view.byteLength) {
    throw new Err(
      `${what}: ${size} bytes at offset ${offset} do not fit in a DataView of ${view.byteLength} bytes`,
    );
  }
}

/**
 * The shared Codec plumbing on top of `decodeFrom` / `encodeInto`: argument checks, output
 * allocation, zeroed padding.
 */
export abstract class BaseType<T> implements TypeBase<T> {
  abstract readonly kind: TypeKind;
  abstract readonly size: number;
  abstract readonly align: number;
  /** Short name for messages: `u16`, `u8[16]`, `RequestInfo`. */
  abstract readonly label: string;

  /** Decode without bounds checks (the caller has checked the whole outer value). */
  abstract read(view: DataView, offset: number): T;
  /** Encode without bounds checks; throws EncodeError for bad values. */
  abstract write(view: DataView, offset: number, value: T): void;

  decode(bytes: Uint8Array): T {
    if (bytes.byteLength < this.size) {
      throw new DecodeError(
        `${this.label}: need ${this.size} bytes to decode, got ${bytes.byteLength}`,
      );
    }
    return this.read(viewOf(bytes), 0);
  }

  encode(value: T, out?: Uint8Array): Uint8Array {
    if (out === undefined) out = new Uint8Array(this.size);
    else if (out.byteLength < this.size) {
      throw new EncodeError(
        `${this.label}: output buffer of ${out.byteLength} bytes is smaller than its ${this.size} bytes`,
      );
    }
    this.write(viewOf(out), 0, value);
    return out.byteLength === this.size ? out : out.subarray(0, this.size);
  }

  decodeFrom(view: DataView, offset: number): T {
    checkRange(view, offset, this.size, this.label);
    return this.read(view, offset);
  }

  encodeInto(view: DataView, offset: number, value: T): void {
    checkRange(view, offset, this.size, this.label, EncodeError);
    this.write(view, offset, value);
  }

  toString(): string {
    return this.label;
  }

  /** `console.log(RequestInfo)` prints `[struct RequestInfo: 12 bytes]`, not the internals. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `[${this.kind} ${this.label}: ${this.size} bytes]`;
  }
}

/** Whether `v` is a tsbpf type (u8 … i64, be16/be32, array(), struct()). */
export function isType(v: unknown): v is Type {
  return v instanceof BaseType;
}
