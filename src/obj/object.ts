// An eBPF object file as the loader needs it: programs (with their bpf-to-bpf subprograms
// linked in, as libbpf does), map definitions, global data, license, kernel version, BTF.
//
// Pure: bytes in, model out. Every malformed input becomes an ObjectError naming the
// section and offset. Work is bounded by the file size (and a cap on linked instructions).
import { parseBtf, fixupDatasecs, Btf, BtfFuncLinkage } from "./btf.js";
import {
  parseBtfExt,
  type BtfExt,
  type CoreRelo,
  type FuncInfo,
  type LineInfo,
} from "./btf-ext.js";
import {
  parseElf,
  R_BPF_64_32,
  R_BPF_64_64,
  R_BPF_NONE,
  SHF_EXECINSTR,
  SHN_UNDEF,
  SHT_PROGBITS,
  STT_FUNC,
  STT_SECTION,
  type ElfFile,
  type ElfRelocation,
  type ElfSection,
  type ElfSymbol,
} from "./elf.js";
import { ObjectError } from "./errors.js";
import {
  BPF_PSEUDO_CALL,
  BPF_PSEUDO_FUNC,
  decodeInsns,
  INSN_SIZE,
  isCall,
  LDDW,
  type Insn,
} from "./insn.js";
import { parseMaps, type MapSpec } from "./maps-section.js";
import { kconfigLayout, ksymsLayout, type KconfigLayout, type KsymExtern } from "./kconfig.js";
import { BpfFlags, MapType } from "./consts.js";
import { parseSectionName, type ProgramSection } from "./section.js";

export type { MapSpec, GlobalVariable } from "./maps-section.js";

export type Relocation =
  | { insn: number; kind: "map"; map: string }
  | { insn: number; kind: "mapValue"; map: string; offset: number };

export interface ProgramLineInfo extends LineInfo {
  /** instruction index in `ProgramSpec.insns` */
  insn: number;
}

export interface ProgramSpec {
  /** function (symbol) name; for symbol-less RedBPF sections the name after the slash */
  name: string;
  /** ELF section */
  section: string;
  /** what the section name means; undefined when no convention recognises it */
  sectionInfo: ProgramSection | undefined;
  /** the program followed by every subprogram it reaches, calls already fixed up */
  insns: Insn[];
  /** map references the loader patches (lddw of a map fd or a map value address) */
  relocations: Relocation[];
  /** `__ksym` references the loader patches: lddw of a kernel variable, or a kfunc call */
  ksymRefs?: { insn: number; name: string }[];
  funcInfo: FuncInfo[];
  lineInfo: ProgramLineInfo[];
  /**
   * CO-RE relocations of the program and of every subprogram copy linked into it, `insn`
   * re-based to `insns`; `relo` is the record of `BpfObject.btfExt` (shared by every copy).
   */
  coreRelos: ProgramCoreRelo[];
  license: string;
  /**
   * The functions linked into `insns`, in order: the program's own first, then each
   * subprogram it reaches. Absent in specs not made by parseObject.
   */
  functions?: readonly LinkedFunction[];
}

/** Where one function of an object sits in a program's linked instructions. */
export interface LinkedFunction {
  name: string;
  /** its ELF section and first instruction there: the same function in every program */
  section: string;
  sectionInsn: number;
  /** first instruction in ProgramSpec.insns, and how many */
  at: number;
  length: number;
}

/** The parts of a ProgramSpec that linking produces. */
export type LinkedParts = Pick<
  ProgramSpec,
  "insns" | "relocations" | "funcInfo" | "lineInfo" | "coreRelos" | "ksymRefs"
>;

const LINKED_KEYS = [
  "insns",
  "relocations",
  "funcInfo",
  "lineInfo",
  "coreRelos",
  "ksymRefs",
] as const;
const linkers = new WeakMap<ProgramSpec, () => LinkedParts>();

/**
 * A spec whose linked parts are made on first use (and kept): parsing stays proportional to
 * the file even when many programs reach one large subprogram.
 */
function lazySpec(
  base: Omit<ProgramSpec, keyof LinkedParts>,
  make: () => LinkedParts,
): ProgramSpec {
  let cache: LinkedParts | undefined;
  const spec = { ...base } as ProgramSpec;
  for (const k of LINKED_KEYS)
    Object.defineProperty(spec, k, {
      enumerable: true,
      configurable: true,
      get: () => (cache ??= make())[k],
      set: (v: unknown) =>
        Object.defineProperty(spec, k, {
          value: v,
          writable: true,
          enumerable: true,
          configurable: true,
        }),
    });
  linkers.set(spec, () => cache ?? make());
  return spec;
}

/**
 * The linked parts of `spec` without keeping them in the spec when they were not made yet:
 * for walking every program of a large object one at a time (`tsbpf disasm`).
 */
export function linkedParts(spec: ProgramSpec): LinkedParts {
  const make = linkers.get(spec);
  if (make && LINKED_KEYS.every((k) => Object.getOwnPropertyDescriptor(spec, k)?.get))
    return make();
  return {
    insns: spec.insns,
    relocations: spec.relocations,
    funcInfo: spec.funcInfo,
    lineInfo: spec.lineInfo,
    coreRelos: spec.coreRelos,
    ...(spec.ksymRefs && { ksymRefs: spec.ksymRefs }),
  };
}

export interface ProgramCoreRelo {
  /** instruction index in `ProgramSpec.insns` */
  insn: number;
  relo: CoreRelo;
}

export interface BpfObject {
  license: string;
  /** the `version` section (RedBPF writes 0xfffffffe, "any"); 0 when absent */
  kernelVersion: number;
  programs: ProgramSpec[];
  maps: MapSpec[];
  /** the object's BTF with DATASEC sizes and VAR offsets filled in, ready for BPF_BTF_LOAD */
  btf?: Btf;
  btfExt?: BtfExt;
  /** `.kconfig` externs and the layout of the `.kconfig` map the loader fills with their values */
  kconfig?: KconfigLayout;
  /** `__ksym` externs: kernel variables and kfuncs the loader resolves */
  ksyms?: KsymExtern[];
  /** `.struct_ops` / `.struct_ops.link` sections: struct_ops maps, which tsbpf cannot create */
  structOps?: string[];
}

/** The kernel's per-program limit; bounds what linking may produce. */
const MAX_PROGRAM_INSNS = 1_000_000;
const MAX_LINKED_INSNS = 4_000_000;

/** A function in a code section: a program entry point or a subprogram. */
interface Func {
  name: string;
  sec: ElfSection;
  /** first and one-past-last instruction index within the section */
  start: number;
  end: number;
  refs: Ref[];
  /** this function's .BTF.ext records (section-relative instruction indices) */
  funcInfo: FuncInfo[];
  lineInfo: LineInfo[];
  coreRelos: CoreRelo[];
}

type Ref =
  | { idx: number; kind: "call" | "funcptr"; target: Func; targetIdx: number }
  | { idx: number; kind: "map"; map: string }
  | { idx: number; kind: "ksym"; name: string }
  | { idx: number; kind: "mapValue"; map: string; offset: number };

interface CodeSection {
  sec: ElfSection;
  insns: Insn[];
  /** sorted by start, non-overlapping */
  funcs: Func[];
  /** start instruction → function */
  byStart: Map<number, Func>;
  /** instruction index → owning function (undefined between functions) */
  owner: (Func | undefined)[];
}

/** Parse an eBPF ELF object. Throws ObjectError on malformed input. */
export function parseObject(bytes: Uint8Array): BpfObject {
  const elf = parseElf(bytes);
  const license = readLicense(elf);
  const kernelVersion = readVersion(elf);

  let btf: Btf | undefined;
  let btfExt: BtfExt | undefined;
  let kconfig: KconfigLayout | undefined;
  let ksyms: KsymExtern[] | undefined;
  const btfSec = elf.section(".BTF");
  if (btfSec) {
    btf = fixupDatasecs(parseBtf(btfSec.data), ...datasecLayout(elf));
    const bindOf = (n: string) =>
      elf.symbols.find((s) => s.shndx === SHN_UNDEF && s.index !== 0 && s.name === n)?.bind;
    const k = kconfigLayout(btf, bindOf);
    if (k) {
      btf = k.btf;
      kconfig = k.layout;
    }
    btf = hiddenFuncsStatic(btf, elf);
    const ks = ksymsLayout(btf, bindOf);
    if (ks) {
      btf = ks.btf;
      ksyms = ks.ksyms;
    }
    const extSec = elf.section(".BTF.ext");
    if (extSec) btfExt = parseBtfExt(extSec.data, btf);
  }

  const code = codeSections(elf);
  const programAt = (shndx: number, value: number): string | undefined => {
    const cs = code.get(shndx);
    if (!cs || cs.sec.name === ".text") return undefined;
    return value % INSN_SIZE === 0 ? cs.byStart.get(value / INSN_SIZE)?.name : undefined;
  };
  const { maps, index } = parseMaps(elf, btf, programAt);
  if (kconfig && kconfig.size > 0) {
    // libbpf's internal .kconfig map: one read-only value the loader fills before load.
    const spec: MapSpec = {
      name: ".kconfig",
      type: MapType.ARRAY,
      keySize: 4,
      valueSize: kconfig.size,
      maxEntries: 1,
      flags: BpfFlags.RDONLY_PROG,
      pinning: "none",
      section: ".kconfig",
      global: {
        kind: "kconfig",
        variables: kconfig.externs.map((e) => ({ name: e.name, offset: e.offset, size: e.size })),
        readonly: true,
      },
    };
    const ds = btf?.findByName("datasec", ".kconfig");
    if (ds) spec.btfValueTypeId = ds.id;
    maps.push(spec);
  }

  for (const cs of code.values()) {
    resolveRefs(elf, cs, code, index, kconfig, ksyms);
    for (const fi of btfExt?.funcInfo.get(cs.sec.name) ?? []) cs.owner[fi.insn]?.funcInfo.push(fi);
    for (const li of btfExt?.lineInfo.get(cs.sec.name) ?? []) cs.owner[li.insn]?.lineInfo.push(li);
    // Like libbpf, a record outside every function (an eliminated weak one) is ignored.
    for (const cr of btfExt?.coreRelos.get(cs.sec.name) ?? [])
      cs.owner[cr.insn]?.coreRelos.push(cr);
  }

  const programs: ProgramSpec[] = [];
  let linkedTotal = 0;
  for (const cs of code.values()) {
    if (cs.sec.name === ".text") continue;
    const sectionInfo = parseSectionName(cs.sec.name);
    for (const f of cs.funcs) {
      const plan = planLink(f);
      const p = lazySpec(
        {
          name: f.name,
          section: f.sec.name,
          sectionInfo,
          license,
          functions: plan.order.map((g) => ({
            name: g.name,
            section: g.sec.name,
            sectionInsn: g.start,
            at: plan.base.get(g)!,
            length: g.end - g.start,
          })),
        },
        () => link(plan, code),
      );
      linkedTotal += plan.total;
      if (linkedTotal > MAX_LINKED_INSNS) {
        throw new ObjectError(
          `programs link to more than ${MAX_LINKED_INSNS} instructions in total`,
          { section: cs.sec.name },
        );
      }
      programs.push(p);
    }
  }
  const obj: BpfObject = { license, kernelVersion, programs, maps };
  if (btf) obj.btf = btf;
  if (btfExt) obj.btfExt = btfExt;
  if (kconfig) obj.kconfig = kconfig;
  if (ksyms) obj.ksyms = ksyms;
  const structOps = elf.sections.filter((s) => s.name.startsWith(".struct_ops")).map((s) => s.name);
  if (structOps.length > 0) obj.structOps = structOps;
  return obj;
}

/**
 * Like libbpf, a global function with hidden visibility (`__hidden`, e.g. usdt.bpf.h's
 * bpf_usdt_arg) gets BTF linkage static, so the verifier checks it in its callers' context
 * instead of on its own with unknown (possibly NULL) pointer arguments.
 */
function hiddenFuncsStatic(btf: Btf, elf: ElfFile): Btf {
  const STV_HIDDEN = 2;
  const hidden = new Set(
    elf.symbols
      .filter((s) => s.type === STT_FUNC && s.shndx !== SHN_UNDEF && s.visibility === STV_HIDDEN)
      .map((s) => s.name),
  );
  if (hidden.size === 0) return btf;
  let changed = false;
  const types = btf.types.map((t) => {
    if (t.kind !== "func" || t.linkage !== BtfFuncLinkage.GLOBAL || !hidden.has(t.name)) return t;
    changed = true;
    return { ...t, linkage: BtfFuncLinkage.STATIC };
  });
  return changed ? new Btf(types, btf.strings) : btf;
}

function readLicense(elf: ElfFile): string {
  const sec = elf.section("license");
  if (!sec) return "";
  const end = sec.data.indexOf(0);
  return new TextDecoder().decode(sec.data.subarray(0, end < 0 ? sec.data.byteLength : end));
}

function readVersion(elf: ElfFile): number {
  const sec = elf.section("version");
  if (!sec) return 0;
  if (sec.data.byteLength !== 4) {
    throw new ObjectError(`version section must hold one u32, found ${sec.data.byteLength} bytes`, {
      section: "version",
    });
  }
  return new DataView(sec.data.buffer, sec.data.byteOffset, 4).getUint32(0, true);
}

/** Section sizes and per-section symbol offsets, for fixupDatasecs. */
function datasecLayout(elf: ElfFile): [Map<string, number>, Map<string, Map<string, number>>] {
  const sizes = new Map<string, number>();
  const offsets = new Map<string, Map<string, number>>();
  for (const s of elf.sections) if (s.index !== 0 && !sizes.has(s.name)) sizes.set(s.name, s.size);
  for (const sym of elf.symbols) {
    const sec = elf.sections[sym.shndx];
    if (sym.index === 0 || sym.type === STT_SECTION || sym.name === "" || !sec || sym.shndx === 0)
      continue;
    let m = offsets.get(sec.name);
    if (!m) offsets.set(sec.name, (m = new Map()));
    if (!m.has(sym.name)) m.set(sym.name, sym.value);
  }
  return [sizes, offsets];
}

/** Executable sections, their instructions and the functions in them. */
function codeSections(elf: ElfFile): Map<number, CodeSection> {
  const out = new Map<number, CodeSection>();
  // One pass over the symbol table (not one per section: both can be large in bad input).
  const syms = new Map<number, ElfSymbol[]>();
  for (const sym of elf.symbols) {
    if (sym.index === 0 || sym.type !== STT_FUNC) continue;
    const list = syms.get(sym.shndx);
    if (list) list.push(sym);
    else syms.set(sym.shndx, [sym]);
  }
  for (const sec of elf.sections) {
    if (sec.type !== SHT_PROGBITS || (sec.flags & SHF_EXECINSTR) === 0 || sec.size === 0) continue;
    if (sec.size % INSN_SIZE !== 0) {
      throw new ObjectError(`code size ${sec.size} is not a multiple of 8`, { section: sec.name });
    }
    const insns = decodeInsns(sec.data);
    const funcs = functionsIn(sec, syms.get(sec.index) ?? [], insns.length);
    const owner: (Func | undefined)[] = new Array(insns.length);
    for (const f of funcs) owner.fill(f, f.start, f.end);
    out.set(sec.index, {
      sec,
      insns,
      funcs,
      byStart: new Map(funcs.map((f) => [f.start, f])),
      owner,
    });
  }
  return out;
}

function functionsIn(sec: ElfSection, funcSyms: ElfSymbol[], count: number): Func[] {
  const syms = [...funcSyms].sort((a, b) => a.value - b.value);
  const names = new Set<string>();
  if (syms.length === 0) {
    // Hand-written or RedBPF-style objects: the whole section is one function.
    const slash = sec.name.indexOf("/");
    const name = sec.name === ".text" ? ".text" : sec.name.slice(slash + 1);
    return [
      { name, sec, start: 0, end: count, refs: [], funcInfo: [], lineInfo: [], coreRelos: [] },
    ];
  }
  const funcs: Func[] = [];
  syms.forEach((s, k) => {
    const at = { section: sec.name, offset: s.value };
    if (s.value % INSN_SIZE !== 0 || s.size % INSN_SIZE !== 0) {
      throw new ObjectError(`function '${s.name}' is not instruction-aligned`, at);
    }
    const start = s.value / INSN_SIZE;
    // Size 0 (hand-written assembly) runs to the next function or the section end.
    const next = syms[k + 1];
    const end = s.size > 0 ? start + s.size / INSN_SIZE : next ? next.value / INSN_SIZE : count;
    if (end > count || end <= start) {
      throw new ObjectError(`function '${s.name}' extends past the end of its section`, at);
    }
    const prev = funcs[funcs.length - 1];
    if (prev && start < prev.end) {
      throw new ObjectError(`functions '${prev.name}' and '${s.name}' overlap`, at);
    }
    if (names.has(s.name)) {
      throw new ObjectError(`function '${s.name}' is defined twice`, at);
    }
    names.add(s.name);
    funcs.push({
      name: s.name,
      sec,
      start,
      end,
      refs: [],
      funcInfo: [],
      lineInfo: [],
      coreRelos: [],
    });
  });
  return funcs;
}

/** Turn each code relocation (and each unrelocated local call) into a reference. */
function resolveRefs(
  elf: ElfFile,
  cs: CodeSection,
  code: Map<number, CodeSection>,
  index: ReturnType<typeof parseMaps>["index"],
  kconfig: KconfigLayout | undefined,
  ksyms: KsymExtern[] | undefined,
): void {
  const name = cs.sec.name;
  const relocs = new Map<number, ElfRelocation>();
  for (const r of elf.relocationsFor(cs.sec.index)) {
    if (r.type === R_BPF_NONE) continue;
    if (r.offset % INSN_SIZE !== 0) {
      throw new ObjectError(`relocation is not on an instruction boundary`, {
        section: name,
        offset: r.offset,
      });
    }
    relocs.set(r.offset / INSN_SIZE, r);
  }
  /** A function-start target in `.text` or this section. */
  const target = (tcs: CodeSection | undefined, idx: number, at: number): Func => {
    const f = tcs?.byStart.get(idx);
    if (!tcs || !f) {
      throw new ObjectError(
        `call target (instruction ${idx} of ${tcs?.sec.name ?? "an unknown section"}) is not the start of a function`,
        { section: name, offset: at * INSN_SIZE },
      );
    }
    if (tcs !== cs && tcs.sec.name !== ".text") {
      throw ObjectError.unsupported(
        `call into another program section (${tcs.sec.name}); only .text functions and functions of the same section can be called (libbpf refuses such calls too): move the callee into .text (a plain static function)`,
        { section: name, offset: at * INSN_SIZE },
      );
    }
    return f;
  };

  for (let idx = 0; idx < cs.insns.length; idx++) {
    const insn = cs.insns[idx]!;
    const at = { section: name, offset: idx * INSN_SIZE };
    const owner = cs.owner[idx];
    const r = relocs.get(idx);
    const wide = insn.code === LDDW;
    if (wide && idx + 1 >= cs.insns.length) {
      throw new ObjectError("lddw is missing its second half at the end of the section", at);
    }
    if (!r) {
      // clang resolves calls between functions of one section itself (pc-relative).
      if (isCall(insn) && insn.src === BPF_PSEUDO_CALL) {
        const t = idx + insn.imm + 1;
        if (owner && !(t >= owner.start && t < owner.end)) {
          owner.refs.push({ idx, kind: "call", target: target(cs, t, idx), targetIdx: t });
        }
      }
      if (wide) idx++;
      continue;
    }
    if (!owner) throw new ObjectError("relocation outside of any function", at);
    const sym = elf.symbols[r.symbol]!;
    if (r.type === R_BPF_64_32 && sym.shndx === SHN_UNDEF) {
      const ext = ksyms?.find((e) => e.name === sym.name);
      if (!ext || ext.kind !== "func" || !isCall(insn))
        throw ObjectError.unsupported(
          `call to extern function '${sym.name}', which this object does not define and does not declare __ksym (a kernel function): link the objects that define it into one first (bpftool gen object out.o a.o b.o), or declare it \`extern … __ksym\` if it is a kfunc`,
          at,
        );
      owner.refs.push({ idx, kind: "ksym", name: sym.name });
      continue;
    }
    if (r.type === R_BPF_64_32) {
      if (!isCall(insn) || insn.src !== BPF_PSEUDO_CALL) {
        throw new ObjectError(
          `R_BPF_64_32 relocation (against '${sym.name}') on an instruction that is not a bpf-to-bpf call`,
          at,
        );
      }
      // libbpf: target = symbol value (in instructions) + imm + 1.
      const t = sym.value / INSN_SIZE + insn.imm + 1;
      owner.refs.push({
        idx,
        kind: "call",
        target: target(code.get(sym.shndx), t, idx),
        targetIdx: t,
      });
      continue;
    }
    if (r.type !== R_BPF_64_64) {
      throw new ObjectError(`unsupported relocation type ${r.type} against '${sym.name}'`, at);
    }
    if (!wide) {
      throw new ObjectError(
        `R_BPF_64_64 relocation against '${sym.name}' is not on an lddw instruction`,
        at,
      );
    }
    idx++;
    if (sym.shndx === SHN_UNDEF) {
      const ext = kconfig?.externs.find((e) => e.name === sym.name);
      if (ext) {
        // Like libbpf: the address of the extern's slot in the .kconfig map (imm ignored).
        owner.refs.push({ idx: idx - 1, kind: "mapValue", map: ".kconfig", offset: ext.offset });
        continue;
      }
      const ks = ksyms?.find((e) => e.name === sym.name);
      // A kfunc in an lddw is `bpf_ksym_exists(kfunc)`: libbpf loads its BTF id.
      if (ks) {
        owner.refs.push({ idx: idx - 1, kind: "ksym", name: sym.name });
        continue;
      }
      throw new ObjectError(
        `reference to extern '${sym.name}', which is not a __kconfig or __ksym extern`,
        at,
      );
    }
    const refIdx = idx - 1;
    const mapName = index.isMapSection(sym.shndx)
      ? index.mapAt(sym.shndx, sym.value + (sym.type === STT_SECTION ? insn.imm : 0))
      : undefined;
    if (index.isMapSection(sym.shndx)) {
      if (mapName === undefined) {
        throw new ObjectError(`reference to '${sym.name}', which is not a map definition`, at);
      }
      owner.refs.push({ idx: refIdx, kind: "map", map: mapName });
      continue;
    }
    const global = index.globalOf(sym.shndx);
    if (global !== undefined) {
      const offset = sym.value + insn.imm;
      owner.refs.push({ idx: refIdx, kind: "mapValue", map: global, offset });
      continue;
    }
    const tcs = code.get(sym.shndx);
    if (tcs) {
      // Address of a function (bpf_loop/for_each callbacks): imm is a byte offset.
      const byte = sym.value + insn.imm;
      if (byte % INSN_SIZE !== 0) {
        throw new ObjectError(`function reference to '${sym.name}' is not instruction-aligned`, at);
      }
      const t = byte / INSN_SIZE;
      owner.refs.push({
        idx: refIdx,
        kind: "funcptr",
        target: target(tcs, t, refIdx),
        targetIdx: t,
      });
      continue;
    }
    const secName = elf.sections[sym.shndx]?.name ?? `#${sym.shndx}`;
    throw new ObjectError(
      `reference to '${sym.name || secName}' in section ${secName}, which holds neither maps, global data nor code`,
      at,
    );
  }
}

interface LinkPlan {
  /** the program's function, then each function it reaches */
  order: Func[];
  /** where each function starts in the linked instructions */
  base: Map<Func, number>;
  total: number;
}

/** Which functions a program reaches and where each goes; checks the kernel's size limit. */
function planLink(main: Func): LinkPlan {
  const base = new Map<Func, number>([[main, 0]]);
  const order = [main];
  let total = main.end - main.start;
  for (let k = 0; k < order.length; k++) {
    for (const ref of order[k]!.refs) {
      if ((ref.kind === "call" || ref.kind === "funcptr") && !base.has(ref.target)) {
        base.set(ref.target, total);
        total += ref.target.end - ref.target.start;
        order.push(ref.target);
        if (total > MAX_PROGRAM_INSNS) {
          throw new ObjectError(
            `program '${main.name}' links to more than ${MAX_PROGRAM_INSNS} instructions`,
            { section: main.sec.name },
          );
        }
      }
    }
  }
  return { order, base, total };
}

/** One program: its function followed by every function it reaches, imm fields fixed. */
function link({ order, base }: LinkPlan, code: Map<number, CodeSection>): LinkedParts {
  const insns: Insn[] = [];
  const relocations: Relocation[] = [];
  const ksymRefs: { insn: number; name: string }[] = [];
  const funcInfo: FuncInfo[] = [];
  const lineInfo: ProgramLineInfo[] = [];
  const coreRelos: ProgramCoreRelo[] = [];
  for (const f of order) {
    const fb = base.get(f)!;
    const src = code.get(f.sec.index)!.insns;
    for (let i = f.start; i < f.end; i++) insns.push({ ...src[i]! });
    for (const ref of f.refs) {
      const pos = fb + ref.idx - f.start;
      switch (ref.kind) {
        case "call":
        case "funcptr": {
          const dest = base.get(ref.target)! + ref.targetIdx - ref.target.start;
          insns[pos]!.imm = dest - (pos + 1);
          if (ref.kind === "funcptr") insns[pos]!.src = BPF_PSEUDO_FUNC;
          break;
        }
        case "map":
          relocations.push({ insn: pos, kind: "map", map: ref.map });
          break;
        case "ksym":
          ksymRefs.push({ insn: pos, name: ref.name });
          break;
        case "mapValue":
          relocations.push({ insn: pos, kind: "mapValue", map: ref.map, offset: ref.offset });
          break;
      }
    }
    for (const fi of f.funcInfo) funcInfo.push({ ...fi, insn: fb + fi.insn - f.start });
    for (const li of f.lineInfo) lineInfo.push({ ...li, insn: fb + li.insn - f.start });
    for (const relo of f.coreRelos) coreRelos.push({ insn: fb + relo.insn - f.start, relo });
  }
  return {
    insns,
    relocations,
    ...(ksymRefs.length > 0 && { ksymRefs }),
    funcInfo,
    lineInfo,
    coreRelos,
  };
}
