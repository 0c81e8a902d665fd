// The object file: one section per program (libbpf SEC() names), `license`, `version`,
// BTF-defined `.maps`, `.BTF` (map definitions, struct layouts, FUNC per program) and
// `.BTF.ext` (func_info + line_info pointing at the TypeScript source).
import { BtfBuilder } from "../../obj/btf.js";
import { encodeBtfExt, type FuncInfo } from "../../obj/btf-ext.js";
import {
  R_BPF_64_32,
  R_BPF_64_64,
  R_BPF_64_ABS64,
  SHF_ALLOC,
  SHF_EXECINSTR,
  SHF_WRITE,
  SHT_NOBITS,
  STB_GLOBAL,
  STB_LOCAL,
  STT_FUNC,
  STT_OBJECT,
  STB_WEAK,
  STT_NOTYPE,
} from "../../obj/elf.js";
import { writeElf, type ElfSectionSpec, type ElfSymbolSpec } from "../../obj/elf-write.js";
import { encodeInsns, INSN_SIZE } from "../../obj/insn.js";
import { toBtf, type Type } from "../../types/index.js";
import { kconfigUses } from "../ir/kernel-structs.js";
import type { CoreRef } from "../ir/ir.js";
import { addCoreTypes, addKconfigTypes } from "./core-btf.js";
import type { GlobalDecl, MapDecl, ProbeModule } from "../module/scan.js";
import { encodeLogSection, LOG_LEVEL_SECTION, LOG_SECTION } from "../../obj/log-section.js";
import type { Selected } from "./isel.js";

export interface CompiledProgram {
  name: string;
  section: string;
  code: Selected;
  /** the source line of a file, for line info (an inlined function may be in another file) */
  lineText: (file: string, line: number) => string;
  /** a bpf-to-bpf subprogram (section `.text`, static): its parameter names */
  params?: string[];
  /** a `bpf_loop` callback (in `.text`, static): `long (unsigned int index, void *ctx)` */
  callback?: boolean;
}

export function emitObject(mod: ProbeModule, programs: CompiledProgram[]): Uint8Array {
  const btf = new BtfBuilder();
  const intId = btf.addInt("int", 4, true);
  const sizedArray = (n: number) => btf.addArray(intId, n);
  const ptrTo = (id: number) => btf.addPtr(id);
  const typeId = (t: Type) => toBtf(t, btf);

  // .maps: one VAR per map, each an anonymous struct of __uint/__type pointer members.
  const mapVars: { id: number; offset: number; size: number }[] = [];
  const mapSyms: ElfSymbolSpec[] = [];
  let mapsSize = 0;
  const mapsRelocs: { offset: number; type: number; symbol: string }[] = [];
  for (const m of mod.maps) {
    const members = mapMembers(m, { sizedArray, ptrTo, typeId });
    const defSize = members.length * 8;
    // A ProgArray's initial slots (prog-array.ts): `__array(values, int (void *))` closes the
    // definition, and the variable grows by one 8-byte slot per index up to the last one set.
    const slots = progSlotsOf(m, defSize, btf, intId, ptrTo);
    if (slots) members.push(slots.member);
    const size = defSize + (slots?.bytes ?? 0);
    const st = btf.addStruct(
      "",
      members.map((x, i) => ({ name: x.name, type: x.type, bitOffset: i * 64 })),
      defSize,
    );
    for (const r of slots?.relocs ?? []) mapsRelocs.push({ ...r, offset: mapsSize + r.offset });
    const v = btf.addVar(m.name, st, "global");
    mapVars.push({ id: v, offset: mapsSize, size });
    mapSyms.push({
      name: m.name,
      section: ".maps",
      value: mapsSize,
      size,
      type: STT_OBJECT,
      bind: STB_GLOBAL,
    });
    mapsSize += size;
  }
  // Event types of perf/ring buffers are not part of the map definition; add them so tools
  // (bpftool btf dump) and user space find the layout in the object.
  for (const m of mod.maps)
    if (m.value && (m.cls === "PerfMap" || m.cls === "RingBuf")) typeId(m.value);
  if (mod.maps.length > 0)
    btf.addDatasec(
      ".maps",
      mapVars.map((v) => ({ type: v.id, offset: v.offset, size: v.size })),
      mapsSize,
    );

  // Global variables: one DATASEC per section, as clang emits for C globals.
  const globalSections: { name: GlobalDecl["section"]; size: number }[] = [];
  for (const sec of [".bss", ".data", ".rodata", LOG_LEVEL_SECTION] as const) {
    const vars = mod.globals.filter((g) => g.section === sec);
    if (vars.length === 0) continue;
    const size = vars.reduce((n, g) => Math.max(n, g.offset + g.type.size), 0);
    const infos = vars.map((g) => {
      let t = typeId(g.type);
      if (sec === ".rodata") t = btf.addConst(btf.addVolatile(t)); // const volatile
      return { type: btf.addVar(g.name, t, "global"), offset: g.offset, size: g.type.size };
    });
    btf.addDatasec(sec, infos, size);
    globalSections.push({ name: sec, size });
  }

  // License and version as global variables, as clang emits them.
  const licenseBytes = new TextEncoder().encode(mod.license + "\0");
  const charId = btf.addInt("char", 1, false, { char: true });
  const licVar = btf.addVar("LICENSE", btf.addArray(charId, licenseBytes.length), "global");
  btf.addDatasec(
    "license",
    [{ type: licVar, offset: 0, size: licenseBytes.length }],
    licenseBytes.length,
  );

  // Programs: FUNC (global) with a one-argument proto, func_info at insn 0, line info.
  const ctxPtr = ptrTo(0);
  const proto = btf.addFuncProto(intId, [{ name: "ctx", type: ctxPtr }]);
  const funcInfo = new Map<string, FuncInfo[]>();
  const lineInfo = new Map<
    string,
    { insn: number; fileName: string; text: string; line: number; col: number }[]
  >();
  // Programs sharing a section (two xdp programs) are laid out one after another in it, as
  // clang does; each keeps its own symbol, func_info and line info at its start.
  const startOf = new Map<CompiledProgram, number>();
  const sectionSize = new Map<string, number>();
  for (const p of programs) {
    const at = sectionSize.get(p.section) ?? 0;
    startOf.set(p, at);
    sectionSize.set(p.section, at + p.code.insns.length);
  }
  // Subprograms take and return 64-bit integers: `static long long f(long long a, …)`.
  const i64 = programs.some((p) => p.params) ? btf.addInt("long long", 8, true) : 0;
  // bpf_loop callbacks: `static long cb(__u32 index, void *ctx)`, as clang describes them.
  let cbProto = 0;
  const callbackProto = (): number =>
    (cbProto ||= btf.addFuncProto(btf.addInt("long", 8, true), [
      { name: "index", type: btf.addInt("unsigned int", 4, false) },
      { name: "ctx", type: ctxPtr },
    ]));
  for (const p of programs) {
    const base = startOf.get(p)!;
    const fn = p.callback
      ? btf.addFunc(p.name, callbackProto(), "static")
      : p.params
        ? btf.addFunc(
            p.name,
            btf.addFuncProto(
              i64,
              p.params.map((name) => ({ name, type: i64 })),
            ),
            "static",
          )
        : btf.addFunc(p.name, proto, "global");
    funcInfo.set(p.section, [...(funcInfo.get(p.section) ?? []), { insn: base, typeId: fn }]);
    lineInfo.set(p.section, [
      ...(lineInfo.get(p.section) ?? []),
      ...p.code.lines.map((l) => ({
        insn: base + l.insn,
        fileName: l.loc.file,
        text: p.lineText(l.loc.file, l.loc.line),
        line: l.loc.line,
        col: l.loc.col,
      })),
    ]);
  }
  // Kernel-struct reads (CO-RE) and `.kconfig` externs.
  const coreRelos = addCoreTypes(
    btf,
    programs.flatMap((p) =>
      p.code.coreRelos.map((r): { section: string; insn: number; core: CoreRef } => ({
        section: p.section,
        insn: startOf.get(p)! + r.insn,
        core: r.core,
      })),
    ),
  );
  const externs = kconfigUses(mod);
  addKconfigTypes(btf, externs);
  const ext = encodeBtfExt({ funcInfo, lineInfo, coreRelos }, (s) => btf.addString(s));
  const btfBytes = btf.encode();

  const sections: ElfSectionSpec[] = [];
  const symbols: ElfSymbolSpec[] = [];
  const relocations: Record<string, { offset: number; type: number; symbol: string }[]> = {};
  // A callback's address is `lddw` against `.text` with the callback's byte offset as imm.
  const textStart = new Map(
    programs.filter((p) => p.section === ".text").map((p) => [p.name, startOf.get(p)!]),
  );
  const withFuncAddrs = (p: CompiledProgram) => {
    if (p.code.funcRelocs.length === 0) return p.code.insns;
    const insns = [...p.code.insns];
    for (const r of p.code.funcRelocs)
      insns[r.insn] = { ...insns[r.insn]!, imm: textStart.get(r.fn)! * INSN_SIZE };
    return insns;
  };
  for (const [section] of sectionSize) {
    const members = programs.filter((p) => p.section === section);
    const data = encodeInsns(members.flatMap(withFuncAddrs));
    sections.push({ name: section, flags: SHF_ALLOC | SHF_EXECINSTR, data, align: 8 });
    relocations[section] = [];
    for (const p of members) {
      const base = startOf.get(p)!;
      symbols.push({
        name: p.name,
        section,
        value: base * INSN_SIZE,
        size: p.code.insns.length * INSN_SIZE,
        type: STT_FUNC,
        bind: p.params || p.callback ? STB_LOCAL : STB_GLOBAL,
      });
      relocations[section]!.push(
        ...p.code.mapRelocs.map((r) => ({
          offset: (base + r.insn) * INSN_SIZE,
          type: R_BPF_64_64,
          symbol: r.map,
        })),
        ...p.code.callRelocs.map((r) => ({
          offset: (base + r.insn) * INSN_SIZE,
          type: R_BPF_64_32,
          symbol: r.fn,
        })),
        ...p.code.externRelocs.map((r) => ({
          offset: (base + r.insn) * INSN_SIZE,
          type: R_BPF_64_64,
          symbol: r.symbol,
        })),
        ...p.code.funcRelocs.map((r) => ({
          offset: (base + r.insn) * INSN_SIZE,
          type: R_BPF_64_64,
          symbol: ".text",
        })),
      );
    }
  }
  sections.push({ name: "license", flags: SHF_ALLOC | SHF_WRITE, data: licenseBytes, align: 1 });
  symbols.push({
    name: "LICENSE",
    section: "license",
    value: 0,
    size: licenseBytes.length,
    type: STT_OBJECT,
    bind: STB_GLOBAL,
  });
  const version = new Uint8Array(4);
  new DataView(version.buffer).setUint32(0, mod.version >>> 0, true);
  sections.push({ name: "version", flags: SHF_ALLOC | SHF_WRITE, data: version, align: 4 });
  for (const g of globalSections) {
    if (g.name === ".bss") {
      sections.push({
        name: ".bss",
        type: SHT_NOBITS,
        flags: SHF_ALLOC | SHF_WRITE,
        size: g.size,
        align: 8,
      });
    } else {
      const data = new Uint8Array(g.size);
      for (const v of mod.globals) if (v.section === g.name && v.init) data.set(v.init, v.offset);
      sections.push({
        name: g.name,
        flags: SHF_ALLOC | (g.name !== ".rodata" ? SHF_WRITE : 0),
        data,
        align: 8,
      });
    }
  }
  for (const v of mod.globals)
    symbols.push({
      name: v.name,
      section: v.section,
      value: v.offset,
      size: v.type.size,
      type: STT_OBJECT,
      bind: STB_GLOBAL,
    });
  if (mod.maps.length > 0) {
    sections.push({
      name: ".maps",
      flags: SHF_ALLOC | SHF_WRITE,
      data: new Uint8Array(mapsSize),
      align: 8,
    });
    symbols.push(...mapSyms);
    if (mapsRelocs.length > 0) relocations[".maps"] = mapsRelocs;
  }
  // `.kconfig` externs: undefined symbols (weak for CONFIG_* options: absent reads as 0).
  for (const [name, use] of externs)
    symbols.push({ name, type: STT_NOTYPE, bind: use === "version" ? STB_GLOBAL : STB_WEAK });
  // log formats (module/log.ts): not SHF_ALLOC, so other loaders skip the section
  if (mod.log)
    sections.push({ name: LOG_SECTION, data: encodeLogSection(mod.log.formats), align: 1 });
  sections.push({ name: ".BTF", data: btfBytes, align: 4 });
  sections.push({ name: ".BTF.ext", data: ext, align: 4 });
  return writeElf({ sections, symbols, relocations });
}

interface BtfHelpers {
  sizedArray: (n: number) => number;
  ptrTo: (id: number) => number;
  typeId: (t: Type) => number;
}

/** The `__uint(name, value)` / `__type(name, T)` members of a BTF map definition. */
function mapMembers(m: MapDecl, h: BtfHelpers): { name: string; type: number }[] {
  const uint = (name: string, v: number) => ({ name, type: h.ptrTo(h.sizedArray(v)) });
  const out = [uint("type", m.type)];
  const btfKeyValue =
    m.cls !== "PerfMap" &&
    m.cls !== "RingBuf" &&
    m.cls !== "ProgArray" &&
    m.cls !== "StackTraceMap";
  if (btfKeyValue) {
    out.push({ name: "key", type: h.ptrTo(h.typeId(m.key!)) });
    out.push({ name: "value", type: h.ptrTo(h.typeId(m.value!)) });
  } else if (m.keySize !== undefined) {
    out.push(uint("key_size", m.keySize));
    out.push(uint("value_size", m.valueSize!));
  }
  if (m.maxEntries !== undefined) out.push(uint("max_entries", m.maxEntries));
  if (m.flags !== 0) out.push(uint("map_flags", m.flags));
  return out;
}

/**
 * The BTF member and relocations of a ProgArray's initial slots (module/prog-array.ts), laid out
 * as clang lays out `__array(values, int (void *)); … = { .values = { [i] = &prog } }`.
 */
function progSlotsOf(
  m: MapDecl,
  defSize: number,
  btf: BtfBuilder,
  intId: number,
  ptrTo: (id: number) => number,
):
  | {
      member: { name: string; type: number };
      bytes: number;
      relocs: { offset: number; type: number; symbol: string }[];
    }
  | undefined {
  if (!m.progSlots || m.progSlots.length === 0) return undefined;
  // int (void *): a FUNC_PROTO returning int with one anonymous `void *` parameter
  const proto = btf.addFuncProto(intId, [{ name: "", type: ptrTo(0) }]);
  const member = { name: "values", type: btf.addArray(ptrTo(proto), 0) };
  const last = Math.max(...m.progSlots.map((s) => s.index));
  return {
    member,
    bytes: (last + 1) * 8,
    relocs: m.progSlots.map((s) => ({
      offset: defSize + s.index * 8,
      type: R_BPF_64_ABS64,
      symbol: s.program,
    })),
  };
}
