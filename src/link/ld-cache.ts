// /etc/ld.so.cache reader: the dynamic linker's map from library names ("libc.so.6") to paths,
// so a uprobe can name "libc" the way a user thinks of it. Only the "glibc-ld.so.cache1.1"
// format (written alone since glibc 2.32, or after the old "ld.so-1.7.0" table before it) is
// read. Input is untrusted: bounds-checked, bounded loops, FormatError only.

import { FormatError } from "./errors.js";

export interface LdCacheEntry {
  /** soname or file name the linker looks up, e.g. "libc.so.6" */
  name: string;
  /** absolute path */
  path: string;
  /** FLAG_* word: low byte the ELF kind (3 = libc6), next byte the arch (0x03 x86-64, 0x0a aarch64 …) */
  flags: number;
}

const OLD_MAGIC = "ld.so-1.7.0";
const NEW_MAGIC = "glibc-ld.so.cache1.1";
const OLD_ENTRY = 12;
const NEW_HEADER = 48;
const NEW_ENTRY = 24;
const MAX_STRING = 4096;

export const LD_FLAG_ELF_LIBC6 = 0x0003;
export const LD_FLAG_TYPE_MASK = 0x00ff;
export const LD_FLAG_ARCH_MASK = 0xff00;
/** Arch flag for 64-bit libraries of this process's architecture, or undefined when unknown. */
export const LD_FLAG_NATIVE_ARCH: number | undefined = (
  { x64: 0x0300, arm64: 0x0a00, riscv64: 0x1000, ppc64: 0x0500, s390x: 0x0400 } as Record<
    string,
    number
  >
)[process.arch];

export function parseLdCache(bytes: Uint8Array): LdCacheEntry[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = bytes.byteLength;
  let base = 0;
  if (startsWith(bytes, 0, OLD_MAGIC)) {
    if (len < 16) fail("old header truncated");
    const n = dv.getUint32(12, true);
    if (n > (len - 16) / OLD_ENTRY) fail(`old table of ${n} entries does not fit`);
    // The new table follows, aligned to 8 (the alignment of its header's largest field).
    base = align(16 + n * OLD_ENTRY, 8);
  }
  if (!startsWith(bytes, base, NEW_MAGIC)) fail(`no "${NEW_MAGIC}" header`);
  if (len - base < NEW_HEADER) fail("header truncated");
  const n = dv.getUint32(base + 20, true);
  if (n > (len - base - NEW_HEADER) / NEW_ENTRY) fail(`table of ${n} entries does not fit`);
  const out: LdCacheEntry[] = [];
  for (let i = 0; i < n; i++) {
    const o = base + NEW_HEADER + i * NEW_ENTRY;
    // String offsets are relative to the new header.
    const name = str(bytes, base + dv.getUint32(o + 4, true));
    const path = str(bytes, base + dv.getUint32(o + 8, true));
    if (name === undefined || path === undefined) fail(`entry ${i} has a bad string offset`);
    out.push({ name, path, flags: dv.getInt32(o, true) });
  }
  return out;
}

function fail(detail: string): never {
  throw new FormatError("/etc/ld.so.cache", detail);
}

function str(bytes: Uint8Array, at: number): string | undefined {
  if (at >= bytes.byteLength) return undefined;
  const end = bytes.subarray(at, at + MAX_STRING).indexOf(0);
  return end < 0 ? undefined : utf8.decode(bytes.subarray(at, at + end));
}

function startsWith(bytes: Uint8Array, at: number, magic: string): boolean {
  if (at + magic.length > bytes.byteLength) return false;
  for (let i = 0; i < magic.length; i++) if (bytes[at + i] !== magic.charCodeAt(i)) return false;
  return true;
}

const align = (n: number, a: number): number => Math.ceil(n / a) * a;
const utf8 = new TextDecoder("utf-8");
