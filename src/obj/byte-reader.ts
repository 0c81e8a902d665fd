// Bounds-checked little-endian reads over one section's bytes. Every out-of-range read
// becomes an ObjectError naming the section and the offset, so parsers of untrusted input
// can read fields without writing a check per field.
import { ObjectError } from "./errors.js";

export class ByteReader {
  private readonly dv: DataView;

  constructor(
    readonly bytes: Uint8Array,
    /** section name used in errors, e.g. ".BTF" */
    readonly section: string,
    /** added to offsets in errors (e.g. a header length when reading a sub-area) */
    readonly baseOffset = 0,
  ) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get length(): number {
    return this.bytes.byteLength;
  }

  error(message: string, offset: number): ObjectError {
    return new ObjectError(message, { section: this.section, offset: this.baseOffset + offset });
  }

  /** Throws unless `[offset, offset + size)` lies within the bytes. */
  need(offset: number, size: number, what: string): void {
    if (offset < 0 || size < 0 || offset + size > this.bytes.byteLength) {
      throw this.error(
        `${what} needs ${size} bytes but only ${Math.max(0, this.bytes.byteLength - offset)} remain`,
        offset,
      );
    }
  }

  u8(offset: number, what = "u8"): number {
    this.need(offset, 1, what);
    return this.dv.getUint8(offset);
  }
  u16(offset: number, what = "u16"): number {
    this.need(offset, 2, what);
    return this.dv.getUint16(offset, true);
  }
  u32(offset: number, what = "u32"): number {
    this.need(offset, 4, what);
    return this.dv.getUint32(offset, true);
  }
  i32(offset: number, what = "i32"): number {
    this.need(offset, 4, what);
    return this.dv.getInt32(offset, true);
  }
  u64(offset: number, what = "u64"): bigint {
    this.need(offset, 8, what);
    return this.dv.getBigUint64(offset, true);
  }

  /** A view (not a copy) of `size` bytes at `offset`. */
  slice(offset: number, size: number, what: string): Uint8Array {
    this.need(offset, size, what);
    return this.bytes.subarray(offset, offset + size);
  }
}

/** Little-endian appender that grows geometrically; used by the BTF/.BTF.ext writers. */
export class ByteWriter {
  private buf = new Uint8Array(256);
  private dv = new DataView(this.buf.buffer);
  private len = 0;

  get length(): number {
    return this.len;
  }

  private reserve(n: number): number {
    const at = this.len;
    if (at + n > this.buf.byteLength) {
      let cap = this.buf.byteLength * 2;
      while (cap < at + n) cap *= 2;
      const next = new Uint8Array(cap);
      next.set(this.buf.subarray(0, at));
      this.buf = next;
      this.dv = new DataView(next.buffer);
    }
    this.len += n;
    return at;
  }

  // reserve() may replace `dv`, so take the offset before touching it.
  u8(v: number): void {
    const at = this.reserve(1);
    this.dv.setUint8(at, v);
  }
  u16(v: number): void {
    const at = this.reserve(2);
    this.dv.setUint16(at, v, true);
  }
  u32(v: number): void {
    const at = this.reserve(4);
    this.dv.setUint32(at, v >>> 0, true);
  }
  i32(v: number): void {
    const at = this.reserve(4);
    this.dv.setInt32(at, v | 0, true);
  }
  /** Overwrite a u32 already written at `offset` (header fields known only at the end). */
  patchU32(offset: number, v: number): void {
    this.dv.setUint32(offset, v >>> 0, true);
  }
  bytes(b: Uint8Array): void {
    const at = this.reserve(b.byteLength);
    this.buf.set(b, at);
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}
