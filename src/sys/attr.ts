// A zeroed, little-endian `union bpf_attr` (or any kernel struct) under construction.
// Pointer fields get the address of a caller-owned buffer that must stay referenced until the
// syscall returns (the wrappers keep them in locals).
import { native } from "./native.js";

/** Kernel object names (BPF_OBJ_NAME_LEN) hold 15 bytes and a NUL. */
export const OBJ_NAME_LEN = 16;

const utf8 = new TextEncoder();

/**
 * The name the kernel accepts for `name`: characters other than [A-Za-z0-9_.] become "_"
 * and the result is truncated to 15 bytes (as libbpf does), so ELF names always load.
 */
export function objName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.]/g, "_").slice(0, OBJ_NAME_LEN - 1);
}

export class Attr {
  readonly bytes: Uint8Array;
  readonly view: DataView;

  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }

  u32(offset: number, value: number): this {
    this.view.setUint32(offset, value >>> 0, true);
    return this;
  }

  i32(offset: number, value: number): this {
    this.view.setInt32(offset, value, true);
    return this;
  }

  u64(offset: number, value: bigint | number): this {
    this.view.setBigUint64(offset, BigInt.asUintN(64, BigInt(value)), true);
    return this;
  }

  /** Address of `buf`'s first byte, or NULL when absent or empty. */
  ptr(offset: number, buf: ArrayBufferView | null | undefined): this {
    const addr = buf && buf.byteLength > 0 ? native().addressOf(buf) : 0n;
    this.view.setBigUint64(offset, addr, true);
    return this;
  }

  /** A NUL-terminated string in a fixed `size`-byte field (truncated to size-1 bytes). */
  str(offset: number, size: number, value: string): this {
    const enc = utf8.encode(value).subarray(0, size - 1);
    this.bytes.fill(0, offset, offset + size);
    this.bytes.set(enc, offset);
    return this;
  }

  getU32(offset: number): number {
    return this.view.getUint32(offset, true);
  }

  getU64(offset: number): bigint {
    return this.view.getBigUint64(offset, true);
  }

  clear(): this {
    this.bytes.fill(0);
    return this;
  }
}

/** A NUL-terminated C string for pointer fields. */
export function cString(value: string): Uint8Array {
  const enc = utf8.encode(value);
  const out = new Uint8Array(enc.length + 1);
  out.set(enc);
  return out;
}

/** Decodes a NUL-terminated string from a fixed-size field. */
export function readCString(bytes: Uint8Array, offset = 0, size = bytes.length - offset): string {
  const field = bytes.subarray(offset, offset + size);
  const end = field.indexOf(0);
  return new TextDecoder().decode(end < 0 ? field : field.subarray(0, end));
}
