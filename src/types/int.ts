// Fixed-width integers. Up to 32 bits they are JS numbers; 64-bit ones are bigints because a
// number loses precision past 2^53 (pointers, nanosecond timestamps, cookies all go there).
import { BaseType, EncodeError } from "./type.js";

export type IntName = "u8" | "u16" | "u32" | "u64" | "i8" | "i16" | "i32" | "i64" | "be16" | "be32";

/**
 * A fixed-width integer type; `T` is `number` up to 32 bits, `bigint` for 64. The parameters
 * are marked covariant (`out`), which is what TypeScript measures for them: stated, the checker
 * does not measure them again in every program (a probe build spent milliseconds on it).
 */
export interface IntType<
  out N extends IntName = IntName,
  out T extends number | bigint = number | bigint,
> extends BaseType<T> {
  readonly kind: "int";
  /** tsbpf name: `u8` … `i64`, `be16`, `be32` */
  readonly name: N;
  readonly signed: boolean;
  /** width in bits: 8, 16, 32 or 64 */
  readonly bits: 8 | 16 | 32 | 64;
  /**
   * Byte order of the stored value. `"little"` is host order on every BPF target tsbpf
   * supports; `"big"` (be16/be32) is network order: the bytes are as in the packet.
   */
  readonly byteOrder: "little" | "big";
  /** C spelling from <linux/types.h>: `__u32`, `__s8`, `__be16` … */
  readonly cName: string;
  /** smallest / largest encodable value */
  readonly min: T;
  readonly max: T;
}

class Int<N extends IntName, T extends number | bigint>
  extends BaseType<T>
  implements IntType<N, T>
{
  readonly kind = "int" as const;
  readonly size: number;
  readonly align: number;
  readonly label: string;
  readonly cName: string;
  readonly min: T;
  readonly max: T;
  private readonly load: (view: DataView, offset: number) => T;
  private readonly store: (view: DataView, offset: number, value: T) => void;

  constructor(
    readonly name: N,
    readonly bits: 8 | 16 | 32 | 64,
    readonly signed: boolean,
    readonly byteOrder: "little" | "big",
  ) {
    super();
    this.size = this.align = bits / 8;
    this.label = name;
    this.cName = byteOrder === "big" ? `__be${bits}` : `__${signed ? "s" : "u"}${bits}`;
    const le = byteOrder === "little";
    if (bits === 64) {
      this.min = (signed ? -(1n << 63n) : 0n) as T;
      this.max = ((signed ? 1n << 63n : 1n << 64n) - 1n) as T;
    } else {
      this.min = (signed ? -(2 ** (bits - 1)) : 0) as T;
      this.max = ((signed ? 2 ** (bits - 1) : 2 ** bits) - 1) as T;
    }
    // Pick the DataView accessor once, so the hot path is a single call.
    type Get = (v: DataView, o: number) => T;
    type Set = (v: DataView, o: number, x: T) => void;
    const key = `${signed ? "i" : "u"}${bits}`;
    switch (key) {
      case "u8":
        this.load = ((v, o) => v.getUint8(o)) as Get;
        this.store = ((v, o, x: number) => v.setUint8(o, x)) as Set;
        break;
      case "i8":
        this.load = ((v, o) => v.getInt8(o)) as Get;
        this.store = ((v, o, x: number) => v.setInt8(o, x)) as Set;
        break;
      case "u16":
        this.load = ((v, o) => v.getUint16(o, le)) as Get;
        this.store = ((v, o, x: number) => v.setUint16(o, x, le)) as Set;
        break;
      case "i16":
        this.load = ((v, o) => v.getInt16(o, le)) as Get;
        this.store = ((v, o, x: number) => v.setInt16(o, x, le)) as Set;
        break;
      case "u32":
        this.load = ((v, o) => v.getUint32(o, le)) as Get;
        this.store = ((v, o, x: number) => v.setUint32(o, x, le)) as Set;
        break;
      case "i32":
        this.load = ((v, o) => v.getInt32(o, le)) as Get;
        this.store = ((v, o, x: number) => v.setInt32(o, x, le)) as Set;
        break;
      case "u64":
        this.load = ((v, o) => v.getBigUint64(o, le)) as Get;
        this.store = ((v, o, x: bigint) => v.setBigUint64(o, x, le)) as Set;
        break;
      default:
        this.load = ((v, o) => v.getBigInt64(o, le)) as Get;
        this.store = ((v, o, x: bigint) => v.setBigInt64(o, x, le)) as Set;
        break;
    }
    Object.freeze(this);
  }

  read(view: DataView, offset: number): T {
    return this.load(view, offset);
  }

  write(view: DataView, offset: number, value: T): void {
    this.store(view, offset, this.check(value));
  }

  /** The value as stored, or an EncodeError saying why it cannot be. */
  private check(value: unknown): T {
    if (this.bits === 64) {
      let big: bigint;
      if (typeof value === "bigint") big = value;
      else if (typeof value === "number" && Number.isSafeInteger(value)) big = BigInt(value);
      else throw this.bad(value, "a bigint (or a safe integer number)");
      if (big < (this.min as bigint) || big > (this.max as bigint)) throw this.range(value);
      return big as T;
    }
    if (typeof value !== "number") throw this.bad(value, "a number");
    if (!Number.isInteger(value)) {
      throw new EncodeError(`${describe(value)} is not an integer (${this.name})`);
    }
    if (value < (this.min as number) || value > (this.max as number)) throw this.range(value);
    return value as T;
  }

  private bad(value: unknown, expected: string): EncodeError {
    if (value === undefined) return new EncodeError(`missing value (${this.name})`);
    return new EncodeError(`expected ${expected} for ${this.name}, got ${describe(value)}`);
  }

  private range(value: number | bigint): EncodeError {
    return new EncodeError(`${describe(value)} does not fit in ${this.name}`);
  }
}

/** A short rendering of a bad value for error messages. */
export function describe(value: unknown): string {
  switch (typeof value) {
    case "bigint":
      return `${value}n`;
    case "number":
      return String(value);
    case "string":
      return JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value);
    case "object":
      if (value === null) return "null";
      if (Array.isArray(value)) return `an array of ${value.length}`;
      if (ArrayBuffer.isView(value))
        return `a ${value.constructor.name} of ${value.byteLength} bytes`;
      return "an object";
    default:
      return typeof value;
  }
}

export const u8: IntType<"u8", number> = new Int("u8", 8, false, "little");
export const u16: IntType<"u16", number> = new Int("u16", 16, false, "little");
export const u32: IntType<"u32", number> = new Int("u32", 32, false, "little");
export const u64: IntType<"u64", bigint> = new Int("u64", 64, false, "little");
export const i8: IntType<"i8", number> = new Int("i8", 8, true, "little");
export const i16: IntType<"i16", number> = new Int("i16", 16, true, "little");
export const i32: IntType<"i32", number> = new Int("i32", 32, true, "little");
export const i64: IntType<"i64", bigint> = new Int("i64", 64, true, "little");
/** u16 in network byte order: decodes the packet's bytes big-endian (port 80 reads as 80). */
export const be16: IntType<"be16", number> = new Int("be16", 16, false, "big");
/** u32 in network byte order: 127.0.0.1 reads as 0x7f000001. */
export const be32: IntType<"be32", number> = new Int("be32", 32, false, "big");

/** Every integer type, by name. */
export const ints: Readonly<Record<IntName, IntType>> = Object.freeze({
  u8,
  u16,
  u32,
  u64,
  i8,
  i16,
  i32,
  i64,
  be16,
  be32,
});
