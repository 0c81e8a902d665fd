// ELF64 little-endian writer for relocatable eBPF objects (what `clang -target bpf -c` makes).
// The compiler describes sections, symbols and relocations by name; this module does the
// layout: section data, one SHT_REL per relocated section (".rel" + name, placed right after
// its target as clang does), .symtab with locals first, .strtab and .shstrtab.

import {
  EM_BPF,
  ELF_HEADER_SIZE,
  ET_REL,
  REL_SIZE,
  SECTION_HEADER_SIZE,
  SHF_INFO_LINK,
  SHN_LORESERVE,
  SHN_UNDEF,
  SHT_NOBITS,
  SHT_PROGBITS,
  SHT_REL,
  SHT_STRTAB,
  SHT_SYMTAB,
  STB_LOCAL,
  STT_FILE,
  STT_NOTYPE,
  STT_SECTION,
  SHN_ABS,
  STV_DEFAULT,
  SYMBOL_SIZE,
} from "./elf.js";
import { bug } from "../bug.js";

export interface ElfSectionSpec {
  name: string;
  /** SHT_*; default SHT_PROGBITS */
  type?: number;
  /** SHF_* bits; default 0 */
  flags?: number;
  /** contents (not for SHT_NOBITS) */
  data?: Uint8Array;
  /** size of an SHT_NOBITS section (ignored otherwise) */
  size?: number;
  /** sh_addralign; default 1 (8 for code is what clang uses) */
  align?: number;
  entsize?: number;
  /** sh_link: the name of another section in the spec, or a raw number */
  link?: string | number;
  /** sh_info: the name of another section in the spec, or a raw number */
  info?: string | number;
}

export interface ElfSymbolSpec {
  name: string;
  /** defining section by name; a number is a raw shndx (SHN_ABS…); omitted = undefined (extern) */
  section?: string | number;
  value?: number;
  size?: number;
  /** STT_*; default STT_NOTYPE */
  type?: number;
  /** STB_*; default STB_LOCAL */
  bind?: number;
  /** STV_*; default STV_DEFAULT */
  visibility?: number;
}

export interface ElfRelocationSpec {
  /** byte offset in the target section */
  offset: number;
  /** R_BPF_* */
  type: number;
  /**
   * A symbol name from `symbols`; when no symbol has this name but a section does, the
   * section's STT_SECTION symbol (created on demand), as clang emits for static data.
   */
  symbol: string;
}

export interface ElfWriteSpec {
  /** sections in output order (after the null section) */
  sections: ElfSectionSpec[];
  /** symbols in any order; locals are written first as ELF requires */
  symbols?: ElfSymbolSpec[];
  /** relocations keyed by target section name; each non-empty list becomes ".rel<name>" */
  relocations?: Record<string, ElfRelocationSpec[]>;
  /** adds an STT_FILE symbol, like clang's source file name */
  fileName?: string;
  /** e_machine; default EM_BPF */
  machine?: number;
}

/** Lay out and encode a relocatable ELF64 LE object. Throws Error on an inconsistent spec. */
export function writeElf(spec: ElfWriteSpec): Uint8Array {
  const relocs = spec.relocations ?? {};
  const userNames = new Set<string>();
  for (const s of spec.sections) {
    if (s.name === "") throw bug("writeElf: section names must not be empty");
    if (userNames.has(s.name)) throw bug(`writeElf: duplicate section ${s.name}`);
    userNames.add(s.name);
  }
  for (const target of Object.keys(relocs)) {
    if (!userNames.has(target)) throw bug(`writeElf: relocations for unknown section ${target}`);
  }

  // 1. Section list: user sections, each followed by its relocations, then the tables.
  interface Out {
    name: string;
    type: number;
    flags: number;
    data: Uint8Array;
    size: number;
    align: number;
    entsize: number;
    link: string | number;
    info: string | number;
    relocs?: { target: string; list: ElfRelocationSpec[] };
  }
  const out: Out[] = [];
  for (const s of spec.sections) {
    const type = s.type ?? SHT_PROGBITS;
    const data = type === SHT_NOBITS ? new Uint8Array(0) : (s.data ?? new Uint8Array(0));
    out.push({
      name: s.name,
      type,
      flags: s.flags ?? 0,
      data,
      size: type === SHT_NOBITS ? (s.size ?? 0) : data.byteLength,
      align: s.align ?? 1,
      entsize: s.entsize ?? 0,
      link: s.link ?? 0,
      info: s.info ?? 0,
    });
    const list = relocs[s.name];
    if (list && list.length > 0) {
      out.push({
        name: `.rel${s.name}`,
        type: SHT_REL,
        flags: SHF_INFO_LINK,
        data: new Uint8Array(0),
        size: 0,
        align: 8,
        entsize: REL_SIZE,
        link: ".symtab",
        info: s.name,
        relocs: { target: s.name, list },
      });
    }
  }
  const needSymtab =
    (spec.symbols?.length ?? 0) > 0 || out.some((s) => s.relocs) || !!spec.fileName;
  const tables: Out[] = [];
  if (needSymtab) {
    tables.push({
      name: ".symtab",
      type: SHT_SYMTAB,
      flags: 0,
      data: new Uint8Array(0),
      size: 0,
      align: 8,
      entsize: SYMBOL_SIZE,
      link: ".strtab",
      info: 0,
    });
    tables.push({
      name: ".strtab",
      type: SHT_STRTAB,
      flags: 0,
      data: new Uint8Array(0),
      size: 0,
      align: 1,
      entsize: 0,
      link: 0,
      info: 0,
    });
  }
  tables.push({
    name: ".shstrtab",
    type: SHT_STRTAB,
    flags: 0,
    data: new Uint8Array(0),
    size: 0,
    align: 1,
    entsize: 0,
    link: 0,
    info: 0,
  });
  for (const t of tables) {
    if (userNames.has(t.name)) throw bug(`writeElf: section name ${t.name} is reserved`);
    out.push(t);
  }
  const indexOf = new Map<string, number>();
  out.forEach((s, i) => indexOf.set(s.name, i + 1));
  if (out.length + 1 >= SHN_LORESERVE) throw bug(`writeElf: too many sections (${out.length + 1})`);
  const resolve = (ref: string | number, what: string): number => {
    if (typeof ref === "number") return ref;
    const i = indexOf.get(ref);
    if (i === undefined) throw bug(`writeElf: ${what} names unknown section ${ref}`);
    return i;
  };

  // 2. Symbols: null, file, section symbols (on demand), other locals, then globals.
  const strtab = new StringTable();
  const symbols = spec.symbols ?? [];
  const byName = new Map<string, ElfSymbolSpec>();
  for (const s of symbols) {
    if (s.name !== "" && (s.bind ?? STB_LOCAL) !== STB_LOCAL && byName.has(s.name)) {
      throw bug(`writeElf: duplicate global symbol ${s.name}`);
    }
    if (!byName.has(s.name)) byName.set(s.name, s);
  }
  interface Sym {
    name: string;
    info: number;
    other: number;
    shndx: number;
    value: number;
    size: number;
  }
  const syms: Sym[] = [{ name: "", info: 0, other: 0, shndx: 0, value: 0, size: 0 }];
  if (spec.fileName)
    syms.push({ name: spec.fileName, info: STT_FILE, other: 0, shndx: SHN_ABS, value: 0, size: 0 });
  const sectionSym = new Map<string, number>();
  for (const list of Object.values(relocs)) {
    for (const r of list) {
      if (!byName.has(r.symbol) && indexOf.has(r.symbol) && !sectionSym.has(r.symbol)) {
        sectionSym.set(r.symbol, syms.length);
        syms.push({
          name: "",
          info: STT_SECTION,
          other: 0,
          shndx: indexOf.get(r.symbol)!,
          value: 0,
          size: 0,
        });
      }
    }
  }
  const toSym = (s: ElfSymbolSpec): Sym => {
    const shndx = s.section === undefined ? SHN_UNDEF : resolve(s.section, `symbol ${s.name}`);
    return {
      name: s.name,
      info: (((s.bind ?? STB_LOCAL) & 0xf) << 4) | ((s.type ?? STT_NOTYPE) & 0xf),
      other: (s.visibility ?? STV_DEFAULT) & 0x3,
      shndx,
      value: s.value ?? 0,
      size: s.size ?? 0,
    };
  };
  const symIndex = new Map<ElfSymbolSpec, number>();
  const locals = symbols.filter((s) => (s.bind ?? STB_LOCAL) === STB_LOCAL);
  const globals = symbols.filter((s) => (s.bind ?? STB_LOCAL) !== STB_LOCAL);
  for (const s of locals) symIndex.set(s, syms.push(toSym(s)) - 1);
  const firstGlobal = syms.length;
  for (const s of globals) symIndex.set(s, syms.push(toSym(s)) - 1);
  const symbolIndex = (name: string): number => {
    const s = byName.get(name);
    if (s) return symIndex.get(s)!;
    const i = sectionSym.get(name);
    if (i === undefined) throw bug(`writeElf: relocation against unknown symbol ${name}`);
    return i;
  };

  // 3. Encode tables.
  for (const s of out) {
    if (s.relocs) {
      const target = out[indexOf.get(s.relocs.target)! - 1]!;
      const bytes = new Uint8Array(s.relocs.list.length * REL_SIZE);
      const dv = new DataView(bytes.buffer);
      s.relocs.list.forEach((r, i) => {
        if (target.type !== SHT_NOBITS && (r.offset < 0 || r.offset >= target.size)) {
          throw bug(
            `writeElf: relocation at ${r.offset} outside section ${target.name} (${target.size} bytes)`,
          );
        }
        dv.setBigUint64(i * REL_SIZE, BigInt(r.offset), true);
        dv.setUint32(i * REL_SIZE + 8, r.type, true);
        dv.setUint32(i * REL_SIZE + 12, symbolIndex(r.symbol), true);
      });
      s.data = bytes;
      s.size = bytes.byteLength;
    }
  }
  if (needSymtab) {
    const bytes = new Uint8Array(syms.length * SYMBOL_SIZE);
    const dv = new DataView(bytes.buffer);
    syms.forEach((s, i) => {
      const o = i * SYMBOL_SIZE;
      dv.setUint32(o, s.name === "" ? 0 : strtab.add(s.name), true);
      dv.setUint8(o + 4, s.info);
      dv.setUint8(o + 5, s.other);
      dv.setUint16(o + 6, s.shndx, true);
      dv.setBigUint64(o + 8, BigInt(s.value), true);
      dv.setBigUint64(o + 16, BigInt(s.size), true);
    });
    const symtab = out[indexOf.get(".symtab")! - 1]!;
    symtab.data = bytes;
    symtab.size = bytes.byteLength;
    symtab.info = firstGlobal;
    const str = out[indexOf.get(".strtab")! - 1]!;
    str.data = strtab.bytes();
    str.size = str.data.byteLength;
  }
  const shstrtab = new StringTable();
  const nameOffsets = out.map((s) => shstrtab.add(s.name));
  const shstr = out[out.length - 1]!;
  shstr.data = shstrtab.bytes();
  shstr.size = shstr.data.byteLength;

  // 4. Layout: header, section contents (aligned), section header table (8-aligned).
  let pos = ELF_HEADER_SIZE;
  const offsets = out.map((s) => {
    if (s.type === SHT_NOBITS) return pos;
    pos = alignUp(pos, Math.max(1, s.align));
    const at = pos;
    pos += s.data.byteLength;
    return at;
  });
  const shoff = alignUp(pos, 8);
  const shnum = out.length + 1;
  const file = new Uint8Array(shoff + shnum * SECTION_HEADER_SIZE);
  const dv = new DataView(file.buffer);
  file.set([0x7f, 0x45, 0x4c, 0x46, 2 /* ELFCLASS64 */, 1 /* LSB */, 1 /* EV_CURRENT */], 0);
  dv.setUint16(16, ET_REL, true);
  dv.setUint16(18, spec.machine ?? EM_BPF, true);
  dv.setUint32(20, 1, true);
  dv.setBigUint64(40, BigInt(shoff), true);
  dv.setUint16(52, ELF_HEADER_SIZE, true);
  dv.setUint16(58, SECTION_HEADER_SIZE, true);
  dv.setUint16(60, shnum, true);
  dv.setUint16(62, shnum - 1, true); // .shstrtab is last
  out.forEach((s, i) => {
    if (s.type !== SHT_NOBITS) file.set(s.data, offsets[i]!);
    const h = shoff + (i + 1) * SECTION_HEADER_SIZE;
    dv.setUint32(h, nameOffsets[i]!, true);
    dv.setUint32(h + 4, s.type, true);
    dv.setBigUint64(h + 8, BigInt(s.flags), true);
    dv.setBigUint64(h + 24, BigInt(offsets[i]!), true);
    dv.setBigUint64(h + 32, BigInt(s.size), true);
    dv.setUint32(h + 40, resolve(s.link, `sh_link of ${s.name}`), true);
    dv.setUint32(h + 44, resolve(s.info, `sh_info of ${s.name}`), true);
    dv.setBigUint64(h + 48, BigInt(s.align), true);
    dv.setBigUint64(h + 56, BigInt(s.entsize), true);
  });
  return file;
}

const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

/** NUL-separated strings with offset 0 the empty string; identical strings are shared. */
class StringTable {
  private readonly parts: Uint8Array[] = [new Uint8Array(1)];
  private readonly seen = new Map<string, number>();
  private len = 1;

  add(s: string): number {
    if (s === "") return 0;
    const known = this.seen.get(s);
    if (known !== undefined) return known;
    const enc = new TextEncoder().encode(s);
    if (enc.includes(0)) throw bug(`writeElf: name ${JSON.stringify(s)} contains NUL`);
    const at = this.len;
    this.parts.push(enc, new Uint8Array(1));
    this.len += enc.byteLength + 1;
    this.seen.set(s, at);
    return at;
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.len);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.byteLength;
    }
    return out;
  }
}
