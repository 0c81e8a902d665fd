// Map definitions in an eBPF object: BTF-defined maps (`.maps`), legacy `struct bpf_map_def`
// maps (`maps`, and RedBPF's one-map-per-section `maps/<name>`), and global data sections
// (`.data`, `.rodata*`, `.bss`, `.data.*`) which become single-entry ARRAY maps.
import { Btf, type BtfStruct } from "./btf.js";
import { BpfFlags, MapType } from "./consts.js";
import {
  SHF_ALLOC,
  SHF_EXECINSTR,
  SHT_NOBITS,
  SHT_PROGBITS,
  STT_SECTION,
  type ElfFile,
  type ElfSection,
  type ElfSymbol,
} from "./elf.js";
import { ObjectError } from "./errors.js";

export interface GlobalVariable {
  name: string;
  offset: number;
  size: number;
}

export interface MapSpec {
  /** the name in the object (variable, symbol or section name); the loader shortens it */
  name: string;
  /** enum bpf_map_type */
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  pinning: "none" | "by-name";
  numaNode?: number;
  mapExtra?: bigint;
  /** template for the maps stored in a map-in-map */
  innerMap?: MapSpec;
  /** initial slots of a map-in-map or prog array (`.values = { [i] = &x }`) */
  initSlots?: { index: number; map?: string; program?: string }[];
  btfKeyTypeId?: number;
  btfValueTypeId?: number;
  /** ELF section the definition came from */
  section: string;
  /** initial contents of a global data section (absent for .bss: all zero) */
  initialData?: Uint8Array;
  global?: {
    kind: "data" | "rodata" | "bss" | "kconfig";
    variables: GlobalVariable[];
    readonly: boolean;
  };
}

/** Where relocations against a symbol land: (section index, offset) → map name. */
export class MapIndex {
  private readonly bySection = new Map<number, Map<number, string>>();
  private readonly globals = new Map<number, string>();

  addMap(section: number, offset: number, name: string): void {
    let m = this.bySection.get(section);
    if (!m) this.bySection.set(section, (m = new Map()));
    m.set(offset, name);
  }
  addGlobal(section: number, name: string): void {
    this.globals.set(section, name);
  }
  /** The map defined at `offset` of a map-definition section. */
  mapAt(section: number, offset: number): string | undefined {
    return this.bySection.get(section)?.get(offset);
  }
  isMapSection(section: number): boolean {
    return this.bySection.has(section);
  }
  /** The global-data map of a data section. */
  globalOf(section: number): string | undefined {
    return this.globals.get(section);
  }
}

const LEGACY_DEF_SIZE = 20; // struct bpf_map_def: type, key_size, value_size, max_entries, map_flags
const MAX_GLOBAL_SECTION = 1 << 30;

/** Symbols by section index, built in one pass (bad input may have many of both). */
const symbolIndex = new WeakMap<ElfFile, Map<number, ElfSymbol[]>>();
function symbolsOf(elf: ElfFile, sec: ElfSection): ElfSymbol[] {
  let idx = symbolIndex.get(elf);
  if (!idx) {
    idx = new Map();
    for (const s of elf.symbols) {
      if (s.index === 0) continue;
      const list = idx.get(s.shndx);
      if (list) list.push(s);
      else idx.set(s.shndx, [s]);
    }
    symbolIndex.set(elf, idx);
  }
  return idx.get(sec.index) ?? [];
}

/** Symbols that name objects (not sections or files) in a section, ordered by value. */
function objectSymbols(elf: ElfFile, sec: ElfSection): ElfSymbol[] {
  return symbolsOf(elf, sec)
    .filter((s) => s.type !== STT_SECTION && s.name !== "")
    .sort((a, b) => a.value - b.value);
}

export function isGlobalDataSection(sec: ElfSection): boolean {
  if ((sec.flags & SHF_ALLOC) === 0 || (sec.flags & SHF_EXECINSTR) !== 0) return false;
  if (sec.type !== SHT_PROGBITS && sec.type !== SHT_NOBITS) return false;
  return /^\.(data|rodata|bss)(\..+)?$/.test(sec.name);
}

/** Collect every map the object defines, in section order. */
export function parseMaps(
  elf: ElfFile,
  btf: Btf | undefined,
  programAt: (section: number, offset: number) => string | undefined,
): { maps: MapSpec[]; index: MapIndex } {
  const maps: MapSpec[] = [];
  const index = new MapIndex();
  for (const sec of elf.sections) {
    if (sec.name === ".maps") {
      maps.push(...btfMaps(elf, sec, btf, index, programAt));
    } else if (sec.name === "maps") {
      maps.push(...legacyMaps(elf, sec, index));
    } else if (sec.name.startsWith("maps/") && sec.name.length > 5) {
      maps.push(redbpfMap(elf, sec, index));
    } else if (isGlobalDataSection(sec) && sec.size > 0) {
      maps.push(globalMap(elf, sec, btf, index));
    }
  }
  const seen = new Set<string>();
  for (const m of maps) {
    if (seen.has(m.name)) {
      throw new ObjectError(`two maps are named '${m.name}'; map names must be unique`, {
        section: m.section,
      });
    }
    seen.add(m.name);
  }
  return { maps, index };
}

function readDef(
  sec: ElfSection,
  offset: number,
  name: string,
): Pick<MapSpec, "type" | "keySize" | "valueSize" | "maxEntries" | "flags"> {
  if (offset + LEGACY_DEF_SIZE > sec.data.byteLength) {
    throw new ObjectError(
      `map '${name}' definition needs ${LEGACY_DEF_SIZE} bytes (struct bpf_map_def) but the section ends`,
      { section: sec.name, offset },
    );
  }
  const dv = new DataView(sec.data.buffer, sec.data.byteOffset + offset, LEGACY_DEF_SIZE);
  return {
    type: dv.getUint32(0, true),
    keySize: dv.getUint32(4, true),
    valueSize: dv.getUint32(8, true),
    maxEntries: dv.getUint32(12, true),
    flags: dv.getUint32(16, true),
  };
}

function legacyMaps(elf: ElfFile, sec: ElfSection, index: MapIndex): MapSpec[] {
  if (sec.type === SHT_NOBITS) {
    throw new ObjectError("legacy maps section has no contents (SHT_NOBITS)", {
      section: sec.name,
    });
  }
  const syms = objectSymbols(elf, sec);
  if (syms.length === 0) return [];
  // Like libbpf: every definition has the same size, section size / number of maps.
  const defSize = sec.size / syms.length;
  if (!Number.isInteger(defSize) || defSize < LEGACY_DEF_SIZE || defSize % 4 !== 0) {
    throw new ObjectError(
      `legacy maps section of ${sec.size} bytes does not divide into ${syms.length} map definitions of at least ${LEGACY_DEF_SIZE} bytes`,
      { section: sec.name },
    );
  }
  return syms.map((sym) => {
    if (sym.value % defSize !== 0) {
      throw new ObjectError(`map symbol '${sym.name}' is not at a definition boundary`, {
        section: sec.name,
        offset: sym.value,
      });
    }
    index.addMap(sec.index, sym.value, sym.name);
    return {
      name: sym.name,
      ...readDef(sec, sym.value, sym.name),
      pinning: "none",
      section: sec.name,
    };
  });
}

function redbpfMap(elf: ElfFile, sec: ElfSection, index: MapIndex): MapSpec {
  const name = sec.name.slice("maps/".length);
  if (sec.type === SHT_NOBITS) {
    throw new ObjectError(`map section has no contents (SHT_NOBITS)`, { section: sec.name });
  }
  // Relocations name the section's symbol; both it and offset 0 mean this map.
  index.addMap(sec.index, 0, name);
  for (const s of symbolsOf(elf, sec)) index.addMap(sec.index, s.value, name);
  return { name, ...readDef(sec, 0, name), pinning: "none", section: sec.name };
}

function globalMap(elf: ElfFile, sec: ElfSection, btf: Btf | undefined, index: MapIndex): MapSpec {
  if (sec.size > MAX_GLOBAL_SECTION) {
    throw new ObjectError(`global data section of ${sec.size} bytes is too large (limit 1 GiB)`, {
      section: sec.name,
    });
  }
  const kind = sec.name.startsWith(".rodata")
    ? "rodata"
    : sec.name.startsWith(".bss")
      ? "bss"
      : "data";
  const readonly = kind === "rodata";
  const variables = objectSymbols(elf, sec)
    .filter((s) => s.value + s.size <= sec.size)
    .map((s) => ({ name: s.name, offset: s.value, size: s.size }));
  index.addGlobal(sec.index, sec.name);
  const spec: MapSpec = {
    name: sec.name,
    type: MapType.ARRAY,
    keySize: 4,
    valueSize: sec.size,
    maxEntries: 1,
    flags: readonly ? BpfFlags.RDONLY_PROG : 0,
    pinning: "none",
    section: sec.name,
    global: { kind, variables, readonly },
  };
  if (sec.type !== SHT_NOBITS) spec.initialData = sec.data.slice();
  const ds = btf?.findByName("datasec", sec.name);
  if (ds) spec.btfValueTypeId = ds.id;
  return spec;
}

// ---- BTF-defined maps ----

const PIN_NONE = 0;
const PIN_BY_NAME = 1;

function btfMaps(
  elf: ElfFile,
  sec: ElfSection,
  btf: Btf | undefined,
  index: MapIndex,
  programAt: (section: number, offset: number) => string | undefined,
): MapSpec[] {
  if (!btf) {
    throw new ObjectError(
      "BTF-defined maps need the object's BTF, but there is no .BTF section (compile with -g)",
      { section: sec.name },
    );
  }
  const ds = btf.findByName("datasec", ".maps");
  if (!ds) throw new ObjectError("no DATASEC '.maps' in BTF", { section: sec.name });
  const syms = new Map(objectSymbols(elf, sec).map((s) => [s.name, s]));
  const relocs = elf.relocationsFor(sec.index);
  return ds.type.vars.map((v) => {
    const vt = btf.typeById(v.type);
    if (vt.kind !== "var") {
      throw new ObjectError(`DATASEC .maps entry (type id ${v.type}) is not a variable`, {
        section: ".BTF",
      });
    }
    const sym = syms.get(vt.name);
    if (!sym) {
      throw new ObjectError(`map '${vt.name}' has no ELF symbol in .maps`, { section: sec.name });
    }
    const def = btf.typeById(btf.resolve(vt.type));
    if (def.kind !== "struct") {
      throw new ObjectError(`map '${vt.name}' is a ${def.kind}, expected a struct definition`, {
        section: sec.name,
        offset: sym.value,
      });
    }
    index.addMap(sec.index, sym.value, vt.name);
    const spec = mapFromStruct(btf, vt.name, def, sec.name, sym.value, false);
    const slots = initSlots(
      elf,
      btf,
      def,
      relocs,
      sym.value,
      // initialised `values` slots extend the symbol past the struct's BTF size
      Math.max(sym.size, btf.sizeOf(vt.type)),
      sec,
      programAt,
    );
    if (slots.length > 0) spec.initSlots = slots;
    return spec;
  });
}

/** libbpf's `__uint(name, val)`: a pointer to an array whose element count is the value. */
function uintMember(
  btf: Btf,
  map: string,
  member: string,
  type: number,
  at: ObjectErrorAt,
): number {
  const p = btf.typeById(btf.resolve(type));
  const arr = p.kind === "ptr" ? btf.typeById(btf.resolve(p.type)) : undefined;
  if (arr?.kind !== "array") {
    throw new ObjectError(
      `map '${map}': member '${member}' must be declared with __uint() (a pointer to an array), found ${p.kind}`,
      at,
    );
  }
  return arr.nelems;
}

type ObjectErrorAt = { section: string; offset?: number };

/** libbpf's `__ulong(name, val)`: an anonymous enum whose single value is the number. */
function ulongMember(
  btf: Btf,
  map: string,
  member: string,
  type: number,
  at: ObjectErrorAt,
): bigint {
  const t = btf.typeById(btf.resolve(type));
  if ((t.kind === "enum" || t.kind === "enum64") && t.values.length > 0) {
    return BigInt.asUintN(64, BigInt(t.values[0]!.value));
  }
  return BigInt(uintMember(btf, map, member, type, at));
}

/** libbpf's `__type(name, T)`: a pointer to T. Returns T's id. */
function typeMember(
  btf: Btf,
  map: string,
  member: string,
  type: number,
  at: ObjectErrorAt,
): number {
  const p = btf.typeById(btf.resolve(type));
  if (p.kind !== "ptr") {
    throw new ObjectError(
      `map '${map}': member '${member}' must be declared with __type() (a pointer), found ${p.kind}`,
      at,
    );
  }
  return p.type;
}

function mapFromStruct(
  btf: Btf,
  name: string,
  def: BtfStruct,
  section: string,
  offset: number,
  inner: boolean,
): MapSpec {
  const at: ObjectErrorAt = { section, offset };
  const spec: MapSpec = {
    name,
    type: MapType.UNSPEC,
    keySize: 0,
    valueSize: 0,
    maxEntries: 0,
    flags: 0,
    pinning: "none",
    section,
  };
  let keySizeGiven: number | undefined;
  let valueSizeGiven: number | undefined;
  for (const m of def.members) {
    switch (m.name) {
      case "type":
        spec.type = uintMember(btf, name, m.name, m.type, at);
        break;
      case "max_entries":
        spec.maxEntries = uintMember(btf, name, m.name, m.type, at);
        break;
      case "map_flags":
        spec.flags = uintMember(btf, name, m.name, m.type, at);
        break;
      case "numa_node":
        spec.numaNode = uintMember(btf, name, m.name, m.type, at);
        break;
      case "key_size":
        keySizeGiven = uintMember(btf, name, m.name, m.type, at);
        break;
      case "value_size":
        valueSizeGiven = uintMember(btf, name, m.name, m.type, at);
        break;
      case "map_extra":
        spec.mapExtra = ulongMember(btf, name, m.name, m.type, at);
        break;
      case "key": {
        const id = typeMember(btf, name, m.name, m.type, at);
        spec.btfKeyTypeId = id;
        spec.keySize = btf.sizeOf(id);
        break;
      }
      case "value": {
        const id = typeMember(btf, name, m.name, m.type, at);
        spec.btfValueTypeId = id;
        spec.valueSize = btf.sizeOf(id);
        break;
      }
      case "pinning": {
        const p = uintMember(btf, name, m.name, m.type, at);
        if (p !== PIN_NONE && p !== PIN_BY_NAME) {
          throw new ObjectError(
            `map '${name}': pinning ${p} is not supported (use LIBBPF_PIN_NONE or LIBBPF_PIN_BY_NAME)`,
            at,
          );
        }
        spec.pinning = p === PIN_BY_NAME ? "by-name" : "none";
        break;
      }
      case "values": {
        if (inner) throw new ObjectError(`map '${name}': an inner map cannot have 'values'`, at);
        const arr = btf.typeById(btf.resolve(m.type));
        const ptr = arr.kind === "array" ? btf.typeById(btf.resolve(arr.type)) : undefined;
        if (ptr?.kind !== "ptr") {
          throw new ObjectError(
            `map '${name}': 'values' must be declared with __array() (an array of pointers)`,
            at,
          );
        }
        const target = btf.typeById(btf.resolve(ptr.type));
        // Prog arrays point at function prototypes; maps of maps at an inner map definition.
        if (target.kind === "struct") {
          spec.innerMap = mapFromStruct(btf, `${name}.inner`, target, section, offset, true);
        } else if (target.kind !== "func_proto") {
          throw new ObjectError(
            `map '${name}': 'values' points at a ${target.kind}, expected a map definition or a function`,
            at,
          );
        }
        break;
      }
      default:
        // libbpf ignores members it does not know in non-strict mode; so do we.
        break;
    }
  }
  if (keySizeGiven !== undefined) {
    if (spec.btfKeyTypeId !== undefined && keySizeGiven !== spec.keySize) {
      throw new ObjectError(
        `map '${name}': key_size ${keySizeGiven} disagrees with the key type's size ${spec.keySize}`,
        at,
      );
    }
    spec.keySize = keySizeGiven;
  }
  if (valueSizeGiven !== undefined) {
    if (spec.btfValueTypeId !== undefined && valueSizeGiven !== spec.valueSize) {
      throw new ObjectError(
        `map '${name}': value_size ${valueSizeGiven} disagrees with the value type's size ${spec.valueSize}`,
        at,
      );
    }
    spec.valueSize = valueSizeGiven;
  }
  if (spec.type === MapType.UNSPEC) {
    throw new ObjectError(`map '${name}' has no type (add __uint(type, BPF_MAP_TYPE_...))`, at);
  }
  // Map-in-map values are map fds; the kernel wants 4-byte values and no BTF value type.
  if (spec.innerMap) {
    spec.valueSize = 4;
    delete spec.btfValueTypeId;
  }
  if (spec.type === MapType.PROG_ARRAY && valueSizeGiven === undefined && spec.valueSize === 0) {
    spec.valueSize = 4;
  }
  if (
    (spec.type === MapType.PROG_ARRAY || spec.innerMap) &&
    spec.keySize === 0 &&
    keySizeGiven === undefined
  ) {
    spec.keySize = 4;
  }
  return spec;
}

/** `.values = { [i] = &map_or_prog }` initialisers are ABS64 relocations in `.rel.maps`. */
function initSlots(
  elf: ElfFile,
  btf: Btf,
  def: BtfStruct,
  relocs: ReturnType<ElfFile["relocationsFor"]>,
  mapOffset: number,
  mapSize: number,
  sec: ElfSection,
  programAt: (section: number, offset: number) => string | undefined,
): { index: number; map?: string; program?: string }[] {
  const values = def.members.find((m) => m.name === "values");
  // relocs are sorted by offset: binary-search the first one inside this map
  let lo = 0;
  let hi = relocs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (relocs[mid]!.offset < mapOffset) lo = mid + 1;
    else hi = mid;
  }
  const mine: typeof relocs = [];
  for (let k = lo; k < relocs.length && relocs[k]!.offset < mapOffset + mapSize; k++) {
    mine.push(relocs[k]!);
  }
  if (mine.length === 0) return [];
  if (!values) {
    throw new ObjectError("relocation inside a map definition that has no 'values' member", {
      section: sec.name,
      offset: mine[0]!.offset,
    });
  }
  const start = mapOffset + values.bitOffset / 8;
  return mine.map((r) => {
    const rel = r.offset - start;
    if (rel < 0 || rel % 8 !== 0) {
      throw new ObjectError("relocation in a map definition is not at a 'values' slot", {
        section: sec.name,
        offset: r.offset,
      });
    }
    const sym = elf.symbols[r.symbol]!;
    const index = rel / 8;
    if (sym.shndx === sec.index) {
      const target = btf.findByName("var", sym.name);
      if (!target) {
        throw new ObjectError(`'values' slot ${index} refers to unknown map '${sym.name}'`, {
          section: sec.name,
          offset: r.offset,
        });
      }
      return { index, map: sym.name };
    }
    const program = programAt(sym.shndx, sym.value);
    if (program === undefined) {
      throw new ObjectError(
        `'values' slot ${index} refers to '${sym.name}', which is neither a map nor a program`,
        { section: sec.name, offset: r.offset },
      );
    }
    return { index, program };
  });
}
