// ELF64 little-endian reader for eBPF relocatable objects (clang/libbpf-built or ours).
// Input is untrusted: every offset, count and index is checked against the file before it
// is used, nothing is allocated in proportion to a header field that was not validated
// against the file size, and the only exception thrown is ObjectError.

import { ObjectError } from "./errors.js";

// e_machine
export const EM_NONE = 0;
export const EM_BPF = 247;
// e_type
export const ET_REL = 1;

// sh_type
export const SHT_NULL = 0;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_RELA = 4;
export const SHT_NOBITS = 8;
export const SHT_REL = 9;
export const SHT_SYMTAB_SHNDX = 18;
export const SHT_LLVM_ADDRSIG = 0x6fff4c03;

// sh_flags
export const SHF_WRITE = 0x1;
export const SHF_ALLOC = 0x2;
export const SHF_EXECINSTR = 0x4;
export const SHF_MERGE = 0x10;
export const SHF_STRINGS = 0x20;
export const SHF_INFO_LINK = 0x40;

// special section indices
export const SHN_UNDEF = 0;
export const SHN_LORESERVE = 0xff00;
export const SHN_ABS = 0xfff1;
export const SHN_COMMON = 0xfff2;
export const SHN_XINDEX = 0xffff;

// symbol type (low nibble of st_info) and binding (high nibble)
export const STT_NOTYPE = 0;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STT_SECTION = 3;
export const STT_FILE = 4;
export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;
export const STB_WEAK = 2;
// st_other visibility
export const STV_DEFAULT = 0;
export const STV_HIDDEN = 2;

// BPF relocation types (Documentation/bpf/llvm_reloc.rst)
export const R_BPF_NONE = 0;
export const R_BPF_64_64 = 1;
export const R_BPF_64_ABS64 = 2;
export const R_BPF_64_ABS32 = 3;
export const R_BPF_64_NODYLD32 = 4;
export const R_BPF_64_32 = 10;

export const ELF_HEADER_SIZE = 64;
export const SECTION_HEADER_SIZE = 64;
export const SYMBOL_SIZE = 24;
export const REL_SIZE = 16;
export const RELA_SIZE = 24;

export interface ElfSection {
  /** index in the section header table (0 is the null section) */
  index: number;
  name: string;
  /** SHT_* */
  type: number;
  /** SHF_* bits */
  flags: number;
  addr: number;
  /** file offset of the contents */
  offset: number;
  /** size in bytes (for SHT_NOBITS the size in memory; `data` is then empty) */
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
  /** a view into the parsed buffer (not a copy); empty for SHT_NOBITS */
  data: Uint8Array;
}

export interface ElfSymbol {
  /** index in the symbol table (0 is the null symbol) */
  index: number;
  name: string;
  value: number;
  size: number;
  /** STT_* */
  type: number;
  /** STB_* */
  bind: number;
  /** STV_* */
  visibility: number;
  /** section index, or SHN_UNDEF / SHN_ABS / SHN_COMMON (SHN_XINDEX already resolved) */
  shndx: number;
}

export interface ElfRelocation {
  /** byte offset within the target section */
  offset: number;
  /** R_BPF_* */
  type: number;
  /** index into `ElfFile.symbols` (checked to be in range) */
  symbol: number;
  /** present for SHT_RELA entries only */
  addend?: number;
}

export interface ElfHeader {
  /** ET_* (ET_REL for compiled eBPF objects) */
  type: number;
  /** EM_BPF or EM_NONE */
  machine: number;
  flags: number;
}

export class ElfFile {
  private readonly byName = new Map<string, ElfSection>();

  constructor(
    readonly header: ElfHeader,
    /** all sections in header order; `sections[i].index === i` */
    readonly sections: ElfSection[],
    /** the SHT_SYMTAB entries (empty when the object has none); `symbols[i].index === i` */
    readonly symbols: ElfSymbol[],
    private readonly relocs: ReadonlyMap<number, ElfRelocation[]>,
  ) {
    // First wins: section names in a valid object are unique except for oddities we ignore.
    for (const s of sections)
      if (s.index !== 0 && !this.byName.has(s.name)) this.byName.set(s.name, s);
  }

  section(name: string): ElfSection | undefined {
    return this.byName.get(name);
  }

  /** Relocations (from every SHT_REL/SHT_RELA whose sh_info is `sectionIndex`), by offset. */
  relocationsFor(sectionIndex: number): ElfRelocation[] {
    return this.relocs.get(sectionIndex) ?? [];
  }

  /** Symbols defined in the given section. */
  symbolsIn(sectionIndex: number): ElfSymbol[] {
    return this.symbols.filter((s) => s.shndx === sectionIndex && s.index !== 0);
  }
}

const MACHINES: Record<number, string> = {
  3: "x86 (i386)",
  8: "MIPS",
  20: "PowerPC",
  21: "PowerPC64",
  22: "s390",
  40: "ARM",
  62: "x86-64",
  183: "AArch64",
  243: "RISC-V",
  258: "LoongArch",
};

/** Parse an ELF64 little-endian eBPF object. Throws ObjectError on anything malformed. */
export function parseElf(bytes: Uint8Array): ElfFile {
  return new Parser(bytes).parse();
}

class Parser {
  private readonly dv: DataView;
  private readonly len: number;

  constructor(private readonly bytes: Uint8Array) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.len = bytes.byteLength;
  }

  parse(): ElfFile {
    const header = this.header();
    const { shoff, shnum, shstrndx } = header;
    if (shnum === 0)
      throw new ObjectError(
        "no section headers (e_shnum 0); an eBPF object keeps its programs in sections",
      );
    const raw = this.sectionHeaders(shoff, shnum);
    if (shstrndx >= raw.length) {
      throw new ObjectError(
        `section name table index ${shstrndx} out of range (${raw.length} sections)`,
      );
    }
    const shstr = raw[shstrndx]!;
    if (shstr.type !== SHT_STRTAB && shnum > 1) {
      throw new ObjectError(`section name table (section ${shstrndx}) is not SHT_STRTAB`);
    }
    const sections = raw.map((r): ElfSection => {
      const name = r.index === 0 ? "" : this.str(shstr, r.nameOff, `name of section ${r.index}`);
      return { ...r, name };
    });
    for (const s of sections) this.checkLinks(s, sections);
    const symbols = this.symbols(sections);
    const relocs = this.relocations(sections, symbols.length);
    return new ElfFile(
      { type: header.type, machine: header.machine, flags: header.flags },
      sections,
      symbols,
      relocs,
    );
  }

  private header() {
    if (this.len < 16 || this.u32(0) !== 0x464c457f) {
      throw ObjectError.notEbpf(
        this.len < 4 ? `file too short (${this.len} bytes)` : "no ELF magic (\\x7fELF) at offset 0",
      );
    }
    const cls = this.bytes[4]!;
    const data = this.bytes[5]!;
    if (cls !== 2)
      throw ObjectError.notEbpf(
        cls === 1 ? "32-bit ELF (eBPF objects are ELF64)" : `unknown ELF class ${cls}`,
      );
    if (data !== 1) {
      throw ObjectError.notEbpf(
        data === 2
          ? "big-endian ELF (only little-endian eBPF objects are supported)"
          : `unknown ELF data encoding ${data}`,
      );
    }
    if (this.len < ELF_HEADER_SIZE) {
      throw new ObjectError(
        `ELF header truncated: file has ${this.len} bytes, header needs ${ELF_HEADER_SIZE}`,
      );
    }
    const type = this.u16(16);
    const machine = this.u16(18);
    if (machine !== EM_BPF && machine !== EM_NONE) {
      throw ObjectError.notEbpf(
        `machine ${MACHINES[machine] ?? "unknown"} (${machine}); expected BPF (${EM_BPF})`,
      );
    }
    const shoff = this.u64(40, "e_shoff");
    const flags = this.u32(48);
    const shentsize = this.u16(58);
    let shnum = this.u16(60);
    let shstrndx = this.u16(62);
    if (shoff === 0) {
      if (shnum !== 0)
        throw new ObjectError(
          `e_shnum is ${shnum} but there is no section header table (e_shoff 0)`,
        );
      return { type, machine, flags, shoff, shnum: 0, shstrndx: 0 };
    }
    if (shentsize !== SECTION_HEADER_SIZE) {
      throw new ObjectError(
        `section header entry size ${shentsize}, expected ${SECTION_HEADER_SIZE}`,
      );
    }
    if (shoff + SECTION_HEADER_SIZE > this.len) {
      throw new ObjectError(
        `section header table at 0x${shoff.toString(16)} lies beyond the end of the file (${this.len} bytes)`,
      );
    }
    // Extended numbering: the real counts live in section 0 when they do not fit in 16 bits.
    if (shnum === 0) shnum = this.u64(shoff + 32, "section count (sh_size of section 0)");
    if (shstrndx === SHN_XINDEX) shstrndx = this.u32(shoff + 40);
    if (shnum > (this.len - shoff) / SECTION_HEADER_SIZE) {
      throw new ObjectError(
        `${shnum} section headers at 0x${shoff.toString(16)} do not fit in the file (${this.len} bytes)`,
      );
    }
    return { type, machine, flags, shoff, shnum, shstrndx };
  }

  private sectionHeaders(shoff: number, shnum: number) {
    const out = [];
    for (let i = 0; i < shnum; i++) {
      const o = shoff + i * SECTION_HEADER_SIZE;
      const where = `section header ${i}`;
      const type = this.u32(o + 4);
      const offset = this.u64(o + 24, `${where} sh_offset`);
      const size = this.u64(o + 32, `${where} sh_size`);
      const hasBytes = type !== SHT_NOBITS && type !== SHT_NULL;
      if (hasBytes && (offset > this.len || size > this.len - offset)) {
        throw new ObjectError(
          `section ${i} contents (offset 0x${offset.toString(16)}, size 0x${size.toString(16)}) run past the end of the file (${this.len} bytes)`,
          { offset: o },
        );
      }
      out.push({
        index: i,
        nameOff: this.u32(o),
        type,
        flags: this.u64(o + 8, `${where} sh_flags`, true),
        addr: this.u64(o + 16, `${where} sh_addr`, true),
        offset,
        size,
        link: this.u32(o + 40),
        info: this.u32(o + 44),
        addralign: this.u64(o + 48, `${where} sh_addralign`, true),
        entsize: this.u64(o + 56, `${where} sh_entsize`, true),
        data: hasBytes ? this.bytes.subarray(offset, offset + size) : new Uint8Array(0),
      });
    }
    return out;
  }

  private checkLinks(s: ElfSection, all: ElfSection[]): void {
    const n = all.length;
    const needsLink =
      s.type === SHT_SYMTAB ||
      s.type === SHT_REL ||
      s.type === SHT_RELA ||
      s.type === SHT_SYMTAB_SHNDX;
    if (needsLink && (s.link === 0 || s.link >= n)) {
      throw new ObjectError(`sh_link ${s.link} out of range (${n} sections)`, { section: s.name });
    }
    if ((s.type === SHT_REL || s.type === SHT_RELA) && (s.info === 0 || s.info >= n)) {
      throw new ObjectError(`relocation target sh_info ${s.info} out of range (${n} sections)`, {
        section: s.name,
      });
    }
  }

  private symbols(sections: ElfSection[]): ElfSymbol[] {
    const tabs = sections.filter((s) => s.type === SHT_SYMTAB);
    if (tabs.length === 0) return [];
    if (tabs.length > 1) throw new ObjectError(`${tabs.length} symbol tables; expected one`);
    const tab = tabs[0]!;
    const count = this.entries(tab, SYMBOL_SIZE);
    const strtab = sections[tab.link]!;
    if (strtab.type !== SHT_STRTAB) {
      throw new ObjectError(`symbol string table (section ${tab.link}) is not SHT_STRTAB`, {
        section: tab.name,
      });
    }
    const xindex = sections.find((s) => s.type === SHT_SYMTAB_SHNDX && s.link === tab.index);
    const dv = new DataView(tab.data.buffer, tab.data.byteOffset, tab.data.byteLength);
    const out: ElfSymbol[] = [];
    for (let i = 0; i < count; i++) {
      const o = i * SYMBOL_SIZE;
      const info = dv.getUint8(o + 4);
      let shndx = dv.getUint16(o + 6, true);
      if (shndx === SHN_XINDEX) {
        if (!xindex || (i + 1) * 4 > xindex.data.byteLength) {
          throw new ObjectError(
            `symbol ${i} uses SHN_XINDEX but there is no SHT_SYMTAB_SHNDX entry for it`,
            {
              section: tab.name,
              offset: o,
            },
          );
        }
        shndx = new DataView(xindex.data.buffer, xindex.data.byteOffset).getUint32(i * 4, true);
      } else if (shndx >= SHN_LORESERVE) {
        out.push(this.symbol(dv, o, i, info, shndx, tab, strtab));
        continue;
      }
      if (shndx >= sections.length) {
        throw new ObjectError(
          `symbol ${i} refers to section ${shndx}, but there are ${sections.length}`,
          {
            section: tab.name,
            offset: o,
          },
        );
      }
      out.push(this.symbol(dv, o, i, info, shndx, tab, strtab));
    }
    return out;
  }

  private symbol(
    dv: DataView,
    o: number,
    index: number,
    info: number,
    shndx: number,
    tab: ElfSection,
    strtab: ElfSection,
  ): ElfSymbol {
    const at = tab.offset + o;
    return {
      index,
      name: index === 0 ? "" : this.str(strtab, dv.getUint32(o, true), `name of symbol ${index}`),
      value: this.u64(at + 8, `symbol ${index} st_value`, true),
      size: this.u64(at + 16, `symbol ${index} st_size`, true),
      type: info & 0xf,
      bind: info >> 4,
      visibility: dv.getUint8(o + 5) & 0x3,
      shndx,
    };
  }

  private relocations(sections: ElfSection[], nsyms: number): Map<number, ElfRelocation[]> {
    const out = new Map<number, ElfRelocation[]>();
    for (const s of sections) {
      if (s.type !== SHT_REL && s.type !== SHT_RELA) continue;
      const rela = s.type === SHT_RELA;
      const entSize = rela ? RELA_SIZE : REL_SIZE;
      const count = this.entries(s, entSize);
      if (sections[s.link]!.type !== SHT_SYMTAB) {
        throw new ObjectError(`sh_link ${s.link} is not the symbol table`, { section: s.name });
      }
      const list = out.get(s.info) ?? [];
      for (let i = 0; i < count; i++) {
        const at = s.offset + i * entSize;
        const offset = this.u64(at, `relocation ${i} r_offset`);
        const type = this.u32(at + 8);
        const symbol = this.u32(at + 12);
        if (symbol >= nsyms) {
          throw new ObjectError(
            `relocation ${i} refers to symbol ${symbol}, but there are ${nsyms}`,
            {
              section: s.name,
              offset: i * entSize,
            },
          );
        }
        const target = sections[s.info]!;
        if (target.type !== SHT_NOBITS && offset >= target.size) {
          throw new ObjectError(
            `relocation ${i} at 0x${offset.toString(16)} lies outside its target section ${target.name} (size 0x${target.size.toString(16)})`,
            { section: s.name, offset: i * entSize },
          );
        }
        const r: ElfRelocation = { offset, type, symbol };
        if (rela) r.addend = Number(this.dv.getBigInt64(at + 16, true));
        list.push(r);
      }
      list.sort((a, b) => a.offset - b.offset);
      out.set(s.info, list);
    }
    return out;
  }

  /** Number of fixed-size entries in a table section, checking sh_entsize and divisibility. */
  private entries(s: ElfSection, size: number): number {
    if (s.entsize !== 0 && s.entsize !== size) {
      throw new ObjectError(`entry size ${s.entsize}, expected ${size}`, { section: s.name });
    }
    if (s.size % size !== 0) {
      throw new ObjectError(
        `size 0x${s.size.toString(16)} is not a multiple of the entry size ${size}`,
        {
          section: s.name,
        },
      );
    }
    return s.size / size;
  }

  private str(
    tab: { data: Uint8Array; name?: string; index: number },
    off: number,
    what: string,
  ): string {
    const d = tab.data;
    if (off >= d.byteLength) {
      throw new ObjectError(
        `${what}: string offset 0x${off.toString(16)} outside the string table (${d.byteLength} bytes)`,
        {
          section: tab.name ?? `#${tab.index}`,
        },
      );
    }
    const end = d.indexOf(0, off);
    if (end < 0) {
      throw new ObjectError(`${what}: string at 0x${off.toString(16)} is not NUL-terminated`, {
        section: tab.name ?? `#${tab.index}`,
      });
    }
    return utf8.decode(d.subarray(off, end));
  }

  private u16(o: number): number {
    return this.dv.getUint16(o, true);
  }
  private u32(o: number): number {
    return this.dv.getUint32(o, true);
  }
  /**
   * Read a u64 as a number. Offsets and sizes must be exact (files are far below 2^53), so a
   * larger value is an error unless `lossy` (addresses, flags, values: kept approximately).
   */
  private u64(o: number, what: string, lossy = false): number {
    const lo = this.dv.getUint32(o, true);
    const hi = this.dv.getUint32(o + 4, true);
    if (hi >= 0x200000 && !lossy) {
      throw new ObjectError(
        `${what} 0x${hi.toString(16)}${lo.toString(16).padStart(8, "0")} is absurdly large`,
        {
          offset: o,
        },
      );
    }
    return hi * 0x100000000 + lo;
  }
}

const utf8 = new TextDecoder("utf-8");
