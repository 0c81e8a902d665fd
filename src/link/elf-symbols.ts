// Function symbols of native executables and shared libraries (any machine, ELF64
// little-endian), for uprobes: a symbol name becomes the file offset the uprobe PMU wants.
//
// src/obj/elf.ts reads eBPF relocatable objects and rightly refuses other machines; this is a
// separate, smaller reader that also knows program headers, .dynsym and GNU symbol versions.
// Input is untrusted: every offset is checked before use, loops are bounded by section sizes,
// and the only exception is FormatError.

import { AttachError, FormatError } from "./errors.js";

const SHT_SYMTAB = 2;
const SHT_NOBITS = 8;
const SHT_DYNSYM = 11;
const SHT_GNU_VERDEF = 0x6ffffffd;
const SHT_GNU_VERSYM = 0x6fffffff;
const PT_LOAD = 1;
const PF_X = 1;
const STT_FUNC = 2;
const STT_GNU_IFUNC = 10;
const STB_WEAK = 2;
const SHN_UNDEF = 0;
const SHN_LORESERVE = 0xff00;
const VER_FLG_BASE = 1;
const VERSYM_HIDDEN = 0x8000;

const EHDR_SIZE = 64;
const SHDR_SIZE = 64;
const PHDR_SIZE = 56;
const SYM_SIZE = 24;

export interface ElfSectionHeader {
  index: number;
  name: string;
  type: number;
  addr: number;
  offset: number;
  size: number;
  link: number;
  info: number;
}

export interface ElfSegment {
  type: number;
  /** p_flags: PF_X 1, PF_W 2, PF_R 4 */
  flags: number;
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
}

export interface FunctionSymbol {
  /** name without version, e.g. "malloc" */
  name: string;
  /** GNU symbol version ("GLIBC_2.2.5"), when the symbol has one */
  version?: string;
  /** true for the default version (`name@@VER`) and for unversioned symbols */
  isDefault: boolean;
  /** st_value: the virtual address in the file's own address space */
  value: number;
  size: number;
  weak: boolean;
  /** containing section index (0 when absolute or unknown) */
  shndx: number;
  table: ".symtab" | ".dynsym";
}

/** A parsed executable or shared library: section and program headers, symbols on demand. */
export class ElfBinary {
  private readonly dv: DataView;

  private constructor(
    private readonly bytes: Uint8Array,
    /** for error messages, e.g. the file path */
    readonly source: string,
    /** e_type: 2 executable, 3 shared object / PIE */
    readonly type: number,
    /** e_machine */
    readonly machine: number,
    readonly sections: readonly ElfSectionHeader[],
    readonly segments: readonly ElfSegment[],
  ) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  static parse(bytes: Uint8Array, source = "ELF file"): ElfBinary {
    const src = `ELF ${source}`;
    const fail = (detail: string): never => {
      throw new FormatError(src, detail);
    };
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const len = bytes.byteLength;
    if (len < 16 || dv.getUint32(0, false) !== 0x7f454c46) fail("no ELF magic");
    if (bytes[4] !== 2) fail(bytes[4] === 1 ? "32-bit ELF is not supported" : "bad ELF class");
    if (bytes[5] !== 1) fail("big-endian ELF is not supported");
    if (len < EHDR_SIZE) fail(`ELF header truncated (${len} bytes)`);
    const u64 = (o: number, what: string): number => readU64(dv, o, () => fail(`${what} too big`));
    const type = dv.getUint16(16, true);
    const machine = dv.getUint16(18, true);
    const phoff = u64(32, "e_phoff");
    const shoff = u64(40, "e_shoff");
    const phentsize = dv.getUint16(54, true);
    const phnum = dv.getUint16(56, true);
    const shentsize = dv.getUint16(58, true);
    let shnum = dv.getUint16(60, true);
    let shstrndx = dv.getUint16(62, true);

    const segments: ElfSegment[] = [];
    if (phoff !== 0 && phnum !== 0) {
      if (phentsize !== PHDR_SIZE) fail(`program header size ${phentsize}, expected ${PHDR_SIZE}`);
      if (phoff > len || phnum * PHDR_SIZE > len - phoff) fail("program headers past end of file");
      for (let i = 0; i < phnum; i++) {
        const o = phoff + i * PHDR_SIZE;
        segments.push({
          type: dv.getUint32(o, true),
          flags: dv.getUint32(o + 4, true),
          offset: u64(o + 8, "p_offset"),
          vaddr: readU64Lossy(dv, o + 16),
          filesz: u64(o + 32, "p_filesz"),
          memsz: readU64Lossy(dv, o + 40),
        });
      }
    }

    const sections: ElfSectionHeader[] = [];
    if (shoff !== 0) {
      if (shentsize !== SHDR_SIZE) fail(`section header size ${shentsize}, expected ${SHDR_SIZE}`);
      if (shoff > len - SHDR_SIZE) fail("section headers past end of file");
      // Extended numbering keeps the real counts in section 0.
      if (shnum === 0) shnum = u64(shoff + 32, "section count");
      if (shstrndx === 0xffff) shstrndx = dv.getUint32(shoff + 40, true);
      if (shnum > (len - shoff) / SHDR_SIZE) fail(`${shnum} section headers do not fit the file`);
      const raw: (ElfSectionHeader & { nameOff: number })[] = [];
      for (let i = 0; i < shnum; i++) {
        const o = shoff + i * SHDR_SIZE;
        const t = dv.getUint32(o + 4, true);
        const offset = u64(o + 24, `section ${i} sh_offset`);
        const size = u64(o + 32, `section ${i} sh_size`);
        if (t !== SHT_NOBITS && t !== 0 && (offset > len || size > len - offset))
          fail(`section ${i} contents run past the end of the file`);
        raw.push({
          index: i,
          nameOff: dv.getUint32(o, true),
          name: "",
          type: t,
          addr: readU64Lossy(dv, o + 16),
          offset,
          size,
          link: dv.getUint32(o + 40, true),
          info: dv.getUint32(o + 44, true),
        });
      }
      const shstr = shstrndx < raw.length ? raw[shstrndx] : undefined;
      for (const r of raw) {
        const { nameOff, ...s } = r;
        if (shstr && shstr.type !== SHT_NOBITS)
          s.name = cString(bytes, shstr.offset, shstr.size, nameOff) ?? "";
        sections.push(s);
      }
    }
    return new ElfBinary(bytes, source, type, machine, sections, segments);
  }

  /** The contents of the first section called `name` (undefined when absent or NOBITS). */
  sectionContents(name: string): { header: ElfSectionHeader; bytes: Uint8Array } | undefined {
    const header = this.sections.find((s) => s.name === name);
    if (!header || header.type === SHT_NOBITS) return undefined;
    return { header, bytes: this.bytes.subarray(header.offset, header.offset + header.size) };
  }

  /** The file offset of a virtual address through the PT_LOAD segment holding it. */
  segmentFileOffset(vaddr: number, opts: { executable?: boolean } = {}): number | undefined {
    for (const seg of this.segments) {
      if (seg.type !== PT_LOAD || (opts.executable && (seg.flags & PF_X) === 0)) continue;
      if (vaddr >= seg.vaddr && vaddr < seg.vaddr + seg.filesz)
        return vaddr - seg.vaddr + seg.offset;
    }
    return undefined;
  }

  private fail(detail: string): never {
    throw new FormatError(`ELF ${this.source}`, detail);
  }

  /**
   * Defined function symbols (STT_FUNC and STT_GNU_IFUNC) of .symtab then .dynsym. A generator:
   * large binaries have 10^5 symbols and callers usually stop at a name.
   */
  *functions(name?: string): Generator<FunctionSymbol> {
    // With a name, compare raw bytes first so unmatched names are never decoded or scanned.
    const want = name === undefined ? undefined : latin1Bytes(name);
    for (const tab of this.sections) {
      if (tab.type !== SHT_SYMTAB && tab.type !== SHT_DYNSYM) continue;
      const table = tab.type === SHT_SYMTAB ? ".symtab" : ".dynsym";
      const strtab = this.sections[tab.link];
      if (!strtab || strtab.type === SHT_NOBITS) this.fail(`${table} has no string table`);
      const versions = table === ".dynsym" ? this.versions(tab) : undefined;
      const count = Math.floor(tab.size / SYM_SIZE);
      for (let i = 1; i < count; i++) {
        const o = tab.offset + i * SYM_SIZE;
        const info = this.dv.getUint8(o + 4);
        const stype = info & 0xf;
        if (stype !== STT_FUNC && stype !== STT_GNU_IFUNC) continue;
        const shndx = this.dv.getUint16(o + 6, true);
        if (shndx === SHN_UNDEF) continue;
        const nameOff = this.dv.getUint32(o, true);
        if (want && !hasNamePrefix(this.bytes, strtab.offset, strtab.size, nameOff, want)) continue;
        const raw = cString(this.bytes, strtab.offset, strtab.size, nameOff);
        if (raw === undefined) this.fail(`${table} symbol ${i} has a bad name offset`);
        const sym: FunctionSymbol = {
          name: raw,
          isDefault: true,
          value: readU64Lossy(this.dv, o + 8),
          size: readU64Lossy(this.dv, o + 16),
          weak: info >> 4 === STB_WEAK,
          shndx: shndx >= SHN_LORESERVE ? 0 : shndx,
          table,
        };
        // .symtab spells versions into the name ("memcpy@@GLIBC_2.14"); .dynsym uses .gnu.version.
        const v = splitVersion(raw);
        if (v.version !== undefined) {
          sym.name = v.name;
          sym.version = v.version;
          sym.isDefault = v.isDefault;
        } else if (versions) {
          const vs = versions.index(i);
          if (vs !== undefined) {
            const name = versions.names.get(vs & 0x7fff);
            if (name !== undefined) {
              sym.version = name;
              sym.isDefault = (vs & VERSYM_HIDDEN) === 0;
            }
          }
        }
        yield sym;
      }
    }
  }

  /** .gnu.version entries for a .dynsym and the version names from .gnu.version_d. */
  private versions(dynsym: ElfSectionHeader) {
    const versym = this.sections.find((s) => s.type === SHT_GNU_VERSYM && s.link === dynsym.index);
    if (!versym) return undefined;
    const names = new Map<number, string>();
    const verdef = this.sections.find((s) => s.type === SHT_GNU_VERDEF);
    const strtab = verdef && this.sections[verdef.link];
    if (verdef && strtab && strtab.type !== SHT_NOBITS) {
      let at = 0;
      // Each entry is at least 20 bytes, so this bounds the walk even if vd_next loops.
      for (let n = 0; n < Math.floor(verdef.size / 20) && at + 20 <= verdef.size; n++) {
        const o = verdef.offset + at;
        const flags = this.dv.getUint16(o + 2, true);
        const ndx = this.dv.getUint16(o + 4, true);
        const aux = this.dv.getUint32(o + 12, true);
        const next = this.dv.getUint32(o + 16, true);
        if ((flags & VER_FLG_BASE) === 0 && aux <= verdef.size - at - 8) {
          const nameOff = this.dv.getUint32(o + aux, true);
          const name = cString(this.bytes, strtab.offset, strtab.size, nameOff);
          if (name !== undefined) names.set(ndx, name);
        }
        if (next === 0) break;
        at += next;
      }
    }
    const dv = this.dv;
    return {
      names,
      index: (i: number): number | undefined =>
        (i + 1) * 2 <= versym.size ? dv.getUint16(versym.offset + i * 2, true) : undefined,
    };
  }

  /**
   * File offset of a virtual address: through the containing section (libbpf's
   * `st_value - sh_addr + sh_offset`) when known, else through the PT_LOAD segment holding it.
   */
  fileOffset(sym: Pick<FunctionSymbol, "value" | "shndx">): number | undefined {
    const sec = sym.shndx !== 0 ? this.sections[sym.shndx] : undefined;
    if (sec && sec.type !== SHT_NOBITS && sym.value >= sec.addr && sym.value < sec.addr + sec.size)
      return sym.value - sec.addr + sec.offset;
    for (const seg of this.segments) {
      if (seg.type !== PT_LOAD) continue;
      if (sym.value >= seg.vaddr && sym.value < seg.vaddr + seg.filesz)
        return sym.value - seg.vaddr + seg.offset;
    }
    return undefined;
  }

  /**
   * The file offset of function `query`: a plain name ("malloc"), or one with a version
   * ("malloc@@GLIBC_2.2.5" for the default version, "memcpy@GLIBC_2.2.5" for that exact one).
   * Several symbols at one address are fine (aliases, .symtab and .dynsym); several addresses
   * are resolved as the dynamic linker would (default version over others, global over weak);
   * what stays ambiguous is an error listing the candidates.
   */
  functionOffset(query: string): number {
    const want = splitVersion(query);
    const hits: { sym: FunctionSymbol; offset: number }[] = [];
    for (const sym of this.functions(want.name)) {
      if (want.version !== undefined) {
        if (sym.version !== want.version) continue;
        if (want.isDefault && !sym.isDefault) continue;
      }
      const offset = this.fileOffset(sym);
      if (offset === undefined) continue;
      if (!hits.some((h) => h.offset === offset)) hits.push({ sym, offset });
    }
    if (hits.length === 0) {
      throw new AttachError(
        `no function ${query} in ${this.source} (a stripped binary has only its exported symbols; check with \`nm -D ${this.source}\`)`,
      );
    }
    let best = hits;
    if (best.length > 1 && best.some((h) => h.sym.isDefault))
      best = best.filter((h) => h.sym.isDefault);
    if (best.length > 1 && best.some((h) => !h.sym.weak)) best = best.filter((h) => !h.sym.weak);
    if (best.length > 1) {
      const list = best.map((h) => `${fmtSym(h.sym)} at 0x${h.offset.toString(16)}`).join(", ");
      throw new AttachError(
        `function ${query} is ambiguous in ${this.source}: ${list}; name one with its version or pass an offset`,
      );
    }
    return best[0]!.offset;
  }
}

function fmtSym(s: FunctionSymbol): string {
  return s.version === undefined ? s.name : `${s.name}${s.isDefault ? "@@" : "@"}${s.version}`;
}

/** "malloc@@GLIBC_2.2.5" → { name: "malloc", version: "GLIBC_2.2.5", isDefault: true }. */
export function splitVersion(s: string): { name: string; version?: string; isDefault: boolean } {
  const at = s.indexOf("@");
  if (at <= 0) return { name: s, isDefault: true };
  const isDefault = s.startsWith("@@", at);
  return { name: s.slice(0, at), version: s.slice(at + (isDefault ? 2 : 1)), isDefault };
}

/** Longest symbol or version name we decode; bounds the work per symbol on hostile input. */
const MAX_NAME = 4096;

/** NUL-terminated string at `off` inside the table [start, start+size), or undefined. */
function cString(bytes: Uint8Array, start: number, size: number, off: number): string | undefined {
  if (off >= size) return undefined;
  const from = start + off;
  const end = bytes.subarray(from, Math.min(start + size, from + MAX_NAME)).indexOf(0);
  if (end < 0) return undefined;
  return latin1.decode(bytes.subarray(from, from + end));
}

/** Whether the string at `off` is `want` followed by NUL or "@" (a version). */
function hasNamePrefix(
  bytes: Uint8Array,
  start: number,
  size: number,
  off: number,
  want: Uint8Array,
): boolean {
  if (off >= size || want.length >= size - off) return false;
  const from = start + off;
  for (let i = 0; i < want.length; i++) if (bytes[from + i] !== want[i]) return false;
  const next = bytes[from + want.length];
  return next === 0 || next === 0x40;
}

function latin1Bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

function readU64(dv: DataView, o: number, tooBig: () => never): number {
  const hi = dv.getUint32(o + 4, true);
  if (hi >= 0x200000) tooBig();
  return hi * 0x100000000 + dv.getUint32(o, true);
}

/** Addresses may exceed 2^53 in odd files; approximate is fine, they only get compared. */
function readU64Lossy(dv: DataView, o: number): number {
  return dv.getUint32(o + 4, true) * 0x100000000 + dv.getUint32(o, true);
}

// Symbol names are bytes; latin1 maps each to one char, so names round-trip without replacement.
const latin1 = new TextDecoder("latin1");
