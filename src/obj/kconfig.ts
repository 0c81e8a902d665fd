// `.kconfig` externs (`extern int LINUX_KERNEL_VERSION __kconfig;`, `extern bool CONFIG_X
// __kconfig __weak;`): their types, and the layout of the read-only `.kconfig` map the loader
// fills, following libbpf's rules (bpf_object__collect_externs, find_kcfg_type): the
// supported types, externs ordered by descending alignment, then ascending size, then name.
// Pure: BTF and symbols in, layout out. The values come from src/load/kconfig.ts at load time.
import { Btf, BtfIntEncoding, BtfVarLinkage, type BtfType } from "./btf.js";
import { ObjectError } from "./errors.js";

/** How a Kconfig value is stored: libbpf's kcfg types. */
export type KconfigKind = "bool" | "tristate" | "char" | "int" | "string";

export interface KconfigExtern {
  name: string;
  kind: KconfigKind;
  /** bytes in the map */
  size: number;
  /** int: signed */
  signed: boolean;
  /** declared __weak: a missing value is 0 rather than an error */
  weak: boolean;
  /** byte offset in the `.kconfig` map's value */
  offset: number;
}

export interface KconfigLayout {
  externs: KconfigExtern[];
  /** the map's value size */
  size: number;
}

const STB_WEAK = 2;

/** The kcfg type of a BTF type, or a reason it is not one. */
function kindOf(btf: Btf, id: number): { kind: KconfigKind; signed: boolean } | string {
  const t: BtfType = btf.typeById(btf.resolve(id));
  switch (t.kind) {
    case "int":
      if (t.encoding & BtfIntEncoding.BOOL)
        return t.size === 1 ? { kind: "bool", signed: false } : "a bool wider than 1 byte";
      if (t.size === 1) return { kind: "char", signed: false };
      if (t.size > 8 || (t.size & (t.size - 1)) !== 0) return `a ${t.size}-byte integer`;
      return { kind: "int", signed: (t.encoding & BtfIntEncoding.SIGNED) !== 0 };
    case "enum":
    case "enum64":
      if (t.name !== "libbpf_tristate" || (t.kind === "enum" && t.size !== 4))
        return `enum ${t.name || "(anonymous)"} (only enum libbpf_tristate is)`;
      return { kind: "tristate", signed: false };
    case "array": {
      if (t.nelems === 0) return "an empty array";
      const e = kindOf(btf, t.type);
      if (typeof e === "string" || e.kind !== "char") return "an array of something else than char";
      return { kind: "string", signed: false };
    }
    default:
      return `a ${t.kind}`;
  }
}

/**
 * Lays out the object's `.kconfig` DATASEC, if it has one, and returns the BTF with that
 * DATASEC's size, VAR offsets and linkage set as the kernel accepts them (libbpf does the same).
 * `weak` tells whether an extern symbol is declared __weak.
 */
export function kconfigLayout(
  btf: Btf | undefined,
  bindOf: (name: string) => number | undefined,
): { layout: KconfigLayout; btf: Btf } | undefined {
  if (!btf) return undefined;
  const secIdx = btf.types.findIndex((t) => t.kind === "datasec" && t.name === ".kconfig");
  if (secIdx < 0) return undefined;
  const sec = btf.types[secIdx]!;
  if (sec.kind !== "datasec") return undefined;
  const externs: (KconfigExtern & { align: number; varId: number })[] = [];
  for (const v of sec.vars) {
    const vt = btf.typeById(v.type);
    if (vt.kind !== "var") continue;
    const k = kindOf(btf, vt.type);
    if (typeof k === "string")
      throw new ObjectError(
        `extern ${vt.name} __kconfig has an unsupported type, ${k}: use bool, enum libbpf_tristate, char, an integer or a char array`,
        { section: ".kconfig" },
      );
    const size = btf.sizeOf(vt.type);
    const align = k.kind === "string" || k.kind === "char" || k.kind === "bool" ? 1 : size;
    const bind = bindOf(vt.name);
    externs.push({
      name: vt.name,
      kind: k.kind,
      size,
      signed: k.signed,
      weak: bind === STB_WEAK,
      offset: 0,
      align,
      varId: v.type,
    });
  }
  externs.sort(
    (a, b) =>
      b.align - a.align || a.size - b.size || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
  let off = 0;
  for (const e of externs) {
    e.offset = Math.ceil(off / e.align) * e.align;
    off = e.offset + e.size;
  }
  const byVar = new Map(externs.map((e) => [e.varId, e]));
  const types = btf.types.map((t, id) => {
    if (id === secIdx && t.kind === "datasec")
      return {
        ...t,
        size: off,
        vars: t.vars
          .map((v) => ({ ...v, offset: byVar.get(v.type)?.offset ?? 0 }))
          .sort((a, b) => a.offset - b.offset),
      };
    if (t.kind === "var" && byVar.has(id)) return { ...t, linkage: BtfVarLinkage.GLOBAL };
    return t;
  });
  return {
    layout: {
      externs: externs.map(({ align: _a, varId: _v, ...e }) => e),
      size: off,
    },
    btf: new Btf(types, btf.strings),
  };
}

/** A `__ksym` extern: a kernel variable (typed or typeless) or a kernel function (kfunc). */
export interface KsymExtern {
  name: string;
  /** "var": address (typeless) or BTF id (typed) in an lddw; "func": a kfunc call */
  kind: "var" | "func";
  /** a `const void` variable, resolved through /proc/kallsyms rather than kernel BTF */
  typeless: boolean;
  weak: boolean;
  /** func: number of parameters of the local prototype */
  params?: number;
}

/**
 * The object's `.ksyms` externs, and its BTF with them made acceptable to the kernel: the
 * DATASEC and its extern VARs and FUNCs become `const void` (nothing else refers to them).
 */
export function ksymsLayout(
  btf: Btf | undefined,
  bindOf: (name: string) => number | undefined,
): { ksyms: KsymExtern[]; btf: Btf } | undefined {
  if (!btf) return undefined;
  const secIdx = btf.types.findIndex((t) => t.kind === "datasec" && t.name === ".ksyms");
  if (secIdx < 0) return undefined;
  const sec = btf.types[secIdx]!;
  if (sec.kind !== "datasec") return undefined;
  const ksyms: KsymExtern[] = [];
  const gone = new Set<number>([secIdx]);
  for (const v of sec.vars) {
    const vt = btf.typeById(v.type);
    const weak = bindOf(vt.name) === STB_WEAK;
    if (vt.kind === "var") {
      const target = btf.typeById(btf.resolve(vt.type));
      ksyms.push({ name: vt.name, kind: "var", typeless: target.kind === "void", weak });
    } else if (vt.kind === "func") {
      const proto = btf.typeById(vt.type);
      ksyms.push({
        name: vt.name,
        kind: "func",
        typeless: false,
        weak,
        params: proto.kind === "func_proto" ? proto.params.length : 0,
      });
    } else continue;
    gone.add(v.type);
  }
  const types = btf.types.map((t, id): BtfType =>
    gone.has(id) ? { kind: "const", name: "", type: 0 } : t,
  );
  return { ksyms, btf: new Btf(types, btf.strings) };
}
