// CO-RE ("compile once, run everywhere") relocations: `.BTF.ext` core_relo records say "this
// instruction's offset/immediate is <field offset|size|existence|…> of <local type + access
// string>"; here they are resolved against a target BTF (the running kernel's, its modules',
// or a BTF file the user gives) and the instruction is patched.
//
// The semantics are libbpf's (src/relo_core.c, src/libbpf.c: bpf_core_parse_spec,
// bpf_core_spec_match, bpf_core_calc_relo, bpf_core_patch_insn, bpf_core_find_cands;
// kernel Documentation/bpf/llvm_reloc.rst), re-implemented here:
// - candidates are target types of a compatible kind whose name equals the local one up to a
//   `___flavour` suffix; vmlinux first, modules only when vmlinux has none;
// - every matching candidate must give the same value, else the load fails (ambiguity);
// - a field/enum-value relocation with no match POISONS its instruction: it becomes
//   `call 0xbad2310`, which the verifier rejects only if the instruction is reachable (code
//   guarded by bpf_core_field_exists() is dead and removed). The loader turns that rejection
//   into a CoreRelocationError naming the program, the source line and the field.
// - anything else that cannot be relocated correctly throws CoreRelocationError. There is no
//   "load anyway".
//
// Pure: no syscalls. Target BTFs arrive as `BtfTypes` (src/obj/btf.ts).
import { essentialNameLength, type BtfStruct, type BtfType, type BtfTypes } from "./btf.js";

export { essentialNameLength };
import type { CoreRelo } from "./btf-ext.js";
import { ObjectError } from "./errors.js";
import {
  BPF_ALU,
  BPF_ALU64,
  BPF_B,
  BPF_CALL,
  BPF_DW,
  BPF_H,
  BPF_JMP,
  BPF_K,
  BPF_LD,
  BPF_LDX,
  BPF_ST,
  BPF_STX,
  BPF_W,
  LDDW,
  type Insn,
} from "./insn.js";
import { TsbpfError } from "../errors.js";

/** `enum bpf_core_relo_kind` */
export const CoreReloKind = {
  FIELD_BYTE_OFFSET: 0,
  FIELD_BYTE_SIZE: 1,
  FIELD_EXISTS: 2,
  FIELD_SIGNED: 3,
  FIELD_LSHIFT_U64: 4,
  FIELD_RSHIFT_U64: 5,
  TYPE_ID_LOCAL: 6,
  TYPE_ID_TARGET: 7,
  TYPE_EXISTS: 8,
  TYPE_SIZE: 9,
  ENUMVAL_EXISTS: 10,
  ENUMVAL_VALUE: 11,
  TYPE_MATCHES: 12,
} as const;

const KIND_NAMES = [
  "byte_off",
  "byte_sz",
  "field_exists",
  "signed",
  "lshift_u64",
  "rshift_u64",
  "local_type_id",
  "target_type_id",
  "type_exists",
  "type_size",
  "enumval_exists",
  "enumval_value",
  "type_matches",
];

/** libbpf's name of a relocation kind (`byte_off`, `field_exists`, …). */
export const coreKindName = (kind: number): string => KIND_NAMES[kind] ?? `unknown kind ${kind}`;

const isFieldKind = (k: number): boolean => k >= 0 && k <= 5;
const isTypeKind = (k: number): boolean => (k >= 6 && k <= 9) || k === 12;
const isEnumvalKind = (k: number): boolean => k === 10 || k === 11;

/** The immediate libbpf writes into a poisoned instruction: `call 0xbad2310` ("bad relo"). */
export const CORE_POISON_IMM = 0xbad2310;

/** Access strings longer than this are refused (libbpf's BPF_CORE_SPEC_MAX_LEN). */
const SPEC_MAX_LEN = 64;
const MAX_DEPTH = 32;

/** A CO-RE relocation that cannot be applied correctly. */
export class CoreRelocationError extends TsbpfError {
  override readonly name = "CoreRelocationError";
  /** the program whose instruction it is (set by the loader), else undefined */
  program: string | undefined;
  /** instruction index (in the linked program when `program` is set, else in its section) */
  insn: number | undefined;

  constructor(message: string, where: { program?: string; insn?: number } = {}) {
    super(message);
    this.program = where.program;
    this.insn = where.insn;
  }
}

// ---------------------------------------------------------------- names

export const essentialName = (name: string): string => name.slice(0, essentialNameLength(name));

// ---------------------------------------------------------------- type helpers

const isMod = (t: BtfType): boolean =>
  t.kind === "const" || t.kind === "volatile" || t.kind === "restrict" || t.kind === "type_tag";
const isComposite = (t: BtfType): t is BtfStruct => t.kind === "struct" || t.kind === "union";
const isAnyEnum = (t: BtfType): boolean => t.kind === "enum" || t.kind === "enum64";
/** libbpf's btf_kind_core_compat: same kind, or enum vs enum64. */
const kindCompat = (a: BtfType, b: BtfType): boolean =>
  a.kind === b.kind || (isAnyEnum(a) && isAnyEnum(b));

/** Skip modifiers and typedefs: [the type, its id]. */
function skipMods(btf: BtfTypes, id: number): [BtfType, number] {
  let t = btf.typeById(id);
  for (let n = 0; isMod(t) || t.kind === "typedef"; n++) {
    if (n > MAX_DEPTH * 8) throw new CoreRelocationError(`BTF type ${id}: modifier chain loops`);
    id = (t as { type: number }).type;
    t = btf.typeById(id);
  }
  return [t, id];
}

/** btf__resolve_size: undefined when the type has no size (void, func, fwd, too deep). */
function resolveSize(btf: BtfTypes, id: number): number | undefined {
  let nelems = 1;
  let t = btf.typeById(id);
  for (let i = 0; i < MAX_DEPTH && t.kind !== "void"; i++) {
    switch (t.kind) {
      case "int":
      case "struct":
      case "union":
      case "enum":
      case "enum64":
      case "datasec":
      case "float": {
        const size = t.size;
        if (nelems && size > 0xffffffff / nelems) return undefined;
        return nelems * size;
      }
      case "ptr":
        return nelems * 8;
      case "typedef":
      case "volatile":
      case "const":
      case "restrict":
      case "var":
      case "decl_tag":
      case "type_tag":
        t = btf.typeById(t.type);
        break;
      case "array":
        if (nelems && t.nelems > 0xffffffff / nelems) return undefined;
        nelems *= t.nelems;
        t = btf.typeById(t.type);
        break;
      default:
        return undefined;
    }
  }
  return undefined;
}

function mustSize(btf: BtfTypes, id: number): number {
  const sz = resolveSize(btf, id);
  if (sz === undefined)
    throw new CoreRelocationError(`type [${id}] ${describe(btf, id)} has no size`);
  return sz;
}

function describe(btf: BtfTypes, id: number): string {
  const t = btf.typeById(id);
  if (t.kind === "void") return "void";
  return `${t.kind} ${t.name === "" ? "<anon>" : t.name}`;
}

const memberBitOffset = (t: BtfStruct, i: number): number => t.members[i]!.bitOffset;
const memberBitfieldSize = (t: BtfStruct, i: number): number =>
  t.kindFlag ? t.members[i]!.bitfieldSize : 0;

function enumValue(t: BtfType, idx: number): { name: string; value: bigint } {
  if (t.kind === "enum") {
    const v = t.values[idx]!;
    // libbpf reads btf_enum.val as __s32 and widens it to u64, signed enum or not.
    return { name: v.name, value: BigInt.asUintN(64, BigInt(v.value | 0)) };
  }
  if (t.kind === "enum64") {
    const v = t.values[idx]!;
    return { name: v.name, value: BigInt.asUintN(64, v.value) };
  }
  throw new CoreRelocationError(`type is not an enum`);
}

const enumLength = (t: BtfType): number =>
  t.kind === "enum" || t.kind === "enum64" ? t.values.length : 0;

// ---------------------------------------------------------------- specs

interface Accessor {
  typeId: number;
  idx: number;
  /** field or enumerator name; undefined for array indexing */
  name: string | undefined;
}

/** An access string resolved in one BTF: low-level indices, named accessors, bit offset. */
export interface CoreSpec {
  btf: BtfTypes;
  rootId: number;
  kind: number;
  raw: number[];
  acc: Accessor[];
  bitOffset: number;
}

const newSpec = (btf: BtfTypes, rootId: number, kind: number): CoreSpec => ({
  btf,
  rootId,
  kind,
  raw: [],
  acc: [],
  bitOffset: 0,
});

function isFlexArray(btf: BtfTypes, acc: Accessor | undefined, nelems: number): boolean {
  if (!acc || acc.name === undefined || nelems > 0) return false;
  const t = btf.typeById(acc.typeId);
  return isComposite(t) && acc.idx === t.members.length - 1;
}

/** bpf_core_parse_spec: the local side of a relocation. Throws on a malformed relocation. */
export function parseSpec(btf: BtfTypes, relo: CoreRelo): CoreSpec {
  const bad = (why: string): CoreRelocationError =>
    new CoreRelocationError(
      `malformed CO-RE relocation ${coreKindName(relo.kind)} [${relo.typeId}] "${relo.accessStr}": ${why}`,
    );
  const str = relo.accessStr;
  if (str === "" || str[0] === ":") throw bad("empty access string");
  const spec = newSpec(btf, relo.typeId, relo.kind);
  if (isTypeKind(relo.kind)) {
    if (str !== "0") throw bad('a type relocation\'s access string must be "0"');
    btf.typeById(relo.typeId);
    return spec;
  }
  if (!isFieldKind(relo.kind) && !isEnumvalKind(relo.kind))
    throw bad(`unknown relocation kind ${relo.kind}`);
  for (const part of str.split(":")) {
    if (!/^\d+$/.test(part) || part.length > 10) throw bad(`"${part}" is not an index`);
    if (spec.raw.length === SPEC_MAX_LEN) throw bad(`deeper than ${SPEC_MAX_LEN} accesses`);
    spec.raw.push(Number(part));
  }
  if (spec.raw[0]! > 0x7fffffff) throw bad("index out of range");
  let [t, id] = skipMods(btf, relo.typeId);
  let idx = spec.raw[0]!;
  spec.acc.push({ typeId: id, idx, name: undefined });

  if (isEnumvalKind(relo.kind)) {
    if (!isAnyEnum(t) || spec.raw.length > 1 || idx >= enumLength(t))
      throw bad(`not an enumerator of ${describe(btf, id)}`);
    spec.acc[0]!.name = enumValue(t, idx).name;
    return spec;
  }

  spec.bitOffset = idx * mustSize(btf, id) * 8;
  for (let i = 1; i < spec.raw.length; i++) {
    [t, id] = skipMods(btf, id);
    idx = spec.raw[i]!;
    if (isComposite(t)) {
      if (idx >= t.members.length) throw bad(`${describe(btf, id)} has no member #${idx}`);
      spec.bitOffset += memberBitOffset(t, idx);
      const m = t.members[idx]!;
      if (m.name !== "") spec.acc.push({ typeId: id, idx, name: m.name });
      id = m.type;
    } else if (t.kind === "array") {
      const nelems = t.nelems;
      [, id] = skipMods(btf, t.type);
      const flex = isFlexArray(btf, spec.acc[spec.acc.length - 1], nelems);
      if (!flex && idx >= nelems) throw bad(`index ${idx} is past the array's ${nelems} elements`);
      spec.acc.push({ typeId: id, idx, name: undefined });
      spec.bitOffset += idx * mustSize(btf, id) * 8;
    } else {
      throw bad(`access #${i} reaches ${describe(btf, id)}, which has no members or elements`);
    }
  }
  return spec;
}

/** libbpf's bpf_core_format_spec without the kind: `[12] struct task_struct.comm[0] (0:75:0 @ offset 1872)`. */
export function formatSpec(spec: CoreSpec): string {
  const t = spec.btf.typeById(spec.rootId);
  let s = `[${spec.rootId}] ${t.kind === "void" ? "void" : `${t.kind} ${t.name || "<anon>"}`}`;
  if (isTypeKind(spec.kind)) return s;
  if (isEnumvalKind(spec.kind)) {
    const [et] = skipMods(spec.btf, spec.rootId);
    const idx = spec.raw[0] ?? spec.acc[0]?.idx ?? 0;
    const e = enumValue(et, idx);
    const signed = (et.kind === "enum" || et.kind === "enum64") && et.signed;
    const bits = et.kind === "enum" ? 32 : 64;
    const v = signed ? BigInt.asIntN(bits, e.value) : BigInt.asUintN(bits, e.value);
    return `${s}::${e.name} = ${v}`;
  }
  spec.acc.forEach((a, i) => {
    if (a.name !== undefined) s += `.${a.name}`;
    else if (i > 0 || a.idx > 0) s += `[${a.idx}]`;
  });
  const off =
    spec.bitOffset % 8
      ? `${Math.floor(spec.bitOffset / 8)}.${spec.bitOffset % 8}`
      : `${spec.bitOffset / 8}`;
  return `${s} (${spec.raw.join(":")} @ offset ${off})`;
}

// ---------------------------------------------------------------- compatibility

/** bpf_core_fields_are_compat */
function fieldsCompat(lb: BtfTypes, lid: number, tb: BtfTypes, tid: number): boolean {
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const [lt] = skipMods(lb, lid);
    const [tt] = skipMods(tb, tid);
    if (isComposite(lt) && isComposite(tt)) return true;
    if (!kindCompat(lt, tt)) return false;
    switch (lt.kind) {
      case "ptr":
      case "float":
        return true;
      case "fwd":
      case "enum":
      case "enum64": {
        const ll = essentialNameLength(lt.name);
        const tl = essentialNameLength(tt.name);
        return ll === 0 || tl === 0 || (ll === tl && lt.name.slice(0, ll) === tt.name.slice(0, tl));
      }
      case "int":
        return lt.bitOffset === 0 && (tt as { bitOffset: number }).bitOffset === 0;
      case "array":
        lid = lt.type;
        tid = (tt as { type: number }).type;
        continue;
      default:
        return false;
    }
  }
  throw new CoreRelocationError("type nesting too deep comparing fields");
}

/** __bpf_core_types_are_compat (type-based relocations other than TYPE_MATCHES). */
function typesCompat(lb: BtfTypes, lid: number, tb: BtfTypes, tid: number, level: number): boolean {
  if (!kindCompat(lb.typeById(lid), tb.typeById(tid))) return false;
  for (let depth = MAX_DEPTH; ;) {
    if (--depth < 0) throw new CoreRelocationError("type nesting too deep comparing types");
    const [lt] = skipMods(lb, lid);
    const [tt] = skipMods(tb, tid);
    if (!kindCompat(lt, tt)) return false;
    switch (lt.kind) {
      case "void":
      case "struct":
      case "union":
      case "enum":
      case "fwd":
      case "enum64":
        return true;
      case "int":
        return lt.bitOffset === 0 && (tt as { bitOffset: number }).bitOffset === 0;
      case "ptr":
        lid = lt.type;
        tid = (tt as { type: number }).type;
        continue;
      case "array":
        lid = lt.type;
        tid = (tt as { type: number }).type;
        continue;
      case "func_proto": {
        if (tt.kind !== "func_proto" || lt.params.length !== tt.params.length) return false;
        for (let i = 0; i < lt.params.length; i++) {
          if (level <= 0) throw new CoreRelocationError("type nesting too deep comparing types");
          const [, lp] = skipMods(lb, lt.params[i]!.type);
          const [, tp] = skipMods(tb, tt.params[i]!.type);
          if (!typesCompat(lb, lp, tb, tp, level - 1)) return false;
        }
        [, lid] = skipMods(lb, lt.returnType);
        [, tid] = skipMods(tb, tt.returnType);
        continue;
      }
      default:
        return false;
    }
  }
}

/** bpf_core_names_match */
function namesMatch(ln: string, tn: string): boolean {
  if (tn === "") return ln === "";
  const tl = essentialNameLength(tn);
  const ll = essentialNameLength(ln);
  return tl === ll && ln.slice(0, ll) === tn.slice(0, tl);
}

/** __bpf_core_types_match (TYPE_MATCHES). */
function typesMatch(
  lb: BtfTypes,
  lid: number,
  tb: BtfTypes,
  tid: number,
  behindPtr: boolean,
  level: number,
): boolean {
  if (level <= 0) throw new CoreRelocationError("type nesting too deep matching types");
  for (let depth = MAX_DEPTH; ;) {
    if (--depth < 0) throw new CoreRelocationError("type nesting too deep matching types");
    const [lt] = skipMods(lb, lid);
    const [tt] = skipMods(tb, tid);
    if (!namesMatch(lt.name, tt.name)) return false;
    switch (lt.kind) {
      case "void":
        return tt.kind === "void";
      case "fwd":
        if (behindPtr) {
          if (tt.kind === "fwd") return lt.union === tt.union;
          return (tt.kind === "struct" && !lt.union) || (tt.kind === "union" && lt.union);
        }
        return tt.kind === "fwd" && lt.union === tt.union;
      case "enum":
      case "enum64": {
        if (!isAnyEnum(tt)) return false;
        const tvals = (tt as { values: { name: string }[] }).values;
        if (lt.size !== (tt as { size: number }).size || lt.values.length > tvals.length)
          return false;
        return lt.values.every((lv) => tvals.some((tv) => namesMatch(lv.name, tv.name)));
      }
      case "struct":
      case "union":
        if (behindPtr) {
          if (lt.kind === tt.kind) return true;
          if (tt.kind !== "fwd") return false;
          return (lt.kind === "union") === tt.union;
        }
        if (lt.kind !== tt.kind) return false;
        return compositesMatch(lb, lt, tb, tt as BtfStruct, behindPtr, level);
      case "int":
        return tt.kind === "int" && lt.size === tt.size && (lt.encoding & 1) === (tt.encoding & 1);
      case "ptr":
        if (tt.kind !== "ptr") return false;
        behindPtr = true;
        lid = lt.type;
        tid = tt.type;
        continue;
      case "array":
        if (tt.kind !== "array" || lt.nelems !== tt.nelems) return false;
        lid = lt.type;
        tid = tt.type;
        continue;
      case "func_proto": {
        if (tt.kind !== "func_proto" || lt.params.length !== tt.params.length) return false;
        for (let i = 0; i < lt.params.length; i++)
          if (!typesMatch(lb, lt.params[i]!.type, tb, tt.params[i]!.type, behindPtr, level - 1))
            return false;
        lid = lt.returnType;
        tid = tt.returnType;
        continue;
      }
      default:
        return false;
    }
  }
}

function compositesMatch(
  lb: BtfTypes,
  lt: BtfStruct,
  tb: BtfTypes,
  tt: BtfStruct,
  behindPtr: boolean,
  level: number,
): boolean {
  if (lt.members.length > tt.members.length) return false;
  return lt.members.every((lm) =>
    tt.members.some(
      (tm) =>
        namesMatch(lm.name, tm.name) && typesMatch(lb, lm.type, tb, tm.type, behindPtr, level - 1),
    ),
  );
}

// ---------------------------------------------------------------- matching

/** bpf_core_match_member: find the local named field in target type `tid` (through anonymous members). */
function matchMember(
  local: CoreSpec,
  lacc: Accessor,
  tb: BtfTypes,
  tid: number,
  spec: CoreSpec,
): number | undefined {
  const [tt, id] = skipMods(tb, tid);
  if (!isComposite(tt)) return undefined;
  const lt = local.btf.typeById(lacc.typeId) as BtfStruct;
  const lm = lt.members[lacc.idx]!;
  for (let i = 0; i < tt.members.length; i++) {
    const m = tt.members[i]!;
    const bitOff = memberBitOffset(tt, i);
    if (spec.raw.length === SPEC_MAX_LEN)
      throw new CoreRelocationError(`target type nesting deeper than ${SPEC_MAX_LEN}`);
    spec.bitOffset += bitOff;
    spec.raw.push(i);
    if (m.name === "") {
      const found = matchMember(local, lacc, tb, m.type, spec);
      if (found !== undefined) return found;
    } else if (m.name === lm.name) {
      spec.acc.push({ typeId: id, idx: i, name: m.name });
      if (fieldsCompat(local.btf, lm.type, tb, m.type)) return m.type;
      spec.acc.pop();
      spec.bitOffset -= bitOff;
      spec.raw.pop();
      return undefined;
    }
    spec.bitOffset -= bitOff;
    spec.raw.pop();
  }
  return undefined;
}

/** bpf_core_spec_match: the target spec for candidate `tid`, or undefined when it does not match. */
function specMatch(local: CoreSpec, tb: BtfTypes, tid: number): CoreSpec | undefined {
  const spec = newSpec(tb, tid, local.kind);
  if (isTypeKind(local.kind)) {
    const ok =
      local.kind === CoreReloKind.TYPE_MATCHES
        ? typesMatch(local.btf, local.rootId, tb, tid, false, MAX_DEPTH)
        : typesCompat(local.btf, local.rootId, tb, tid, MAX_DEPTH);
    return ok ? spec : undefined;
  }
  if (isEnumvalKind(local.kind)) {
    const [tt, id] = skipMods(tb, tid);
    if (!isAnyEnum(tt)) return undefined;
    const want = local.acc[0]!.name!;
    const wl = essentialNameLength(want);
    for (let i = 0; i < enumLength(tt); i++) {
      const n = enumValue(tt, i).name;
      if (essentialNameLength(n) === wl && n.slice(0, wl) === want.slice(0, wl)) {
        spec.acc.push({ typeId: id, idx: i, name: n });
        spec.raw.push(i);
        return spec;
      }
    }
    return undefined;
  }
  let id = tid;
  for (let i = 0; i < local.acc.length; i++) {
    const lacc = local.acc[i]!;
    const [tt, rid] = skipMods(tb, id);
    id = rid;
    if (lacc.name !== undefined) {
      const next = matchMember(local, lacc, tb, id, spec);
      if (next === undefined) return undefined;
      id = next;
    } else {
      if (i > 0) {
        if (tt.kind !== "array") return undefined;
        const flex = isFlexArray(tb, spec.acc[spec.acc.length - 1], tt.nelems);
        if (!flex && lacc.idx >= tt.nelems) return undefined;
        [, id] = skipMods(tb, tt.type);
      }
      if (spec.raw.length === SPEC_MAX_LEN)
        throw new CoreRelocationError(`target type nesting deeper than ${SPEC_MAX_LEN}`);
      spec.acc.push({ typeId: id, idx: lacc.idx, name: undefined });
      spec.raw.push(lacc.idx);
      spec.bitOffset += lacc.idx * mustSize(tb, id) * 8;
    }
  }
  return spec;
}

// ---------------------------------------------------------------- values

/** What a relocation resolves to (libbpf's bpf_core_relo_res). */
export interface CoreResult {
  /** the value the compiler wrote (checked against the instruction when `validate`) */
  origVal: bigint;
  newVal: bigint;
  /** no target: the instruction becomes `call 0xbad2310` */
  poison: boolean;
  validate: boolean;
  /** a load/store whose size would change in a way that changes the value read */
  failMemszAdjust: boolean;
  origSize: number;
  newSize: number;
  origTypeId: number;
  newTypeId: number;
  /** the local spec, formatted (for messages) */
  local: string;
  /** the target spec chosen, formatted; undefined when nothing matched */
  target: string | undefined;
  /** why the instruction is poisoned */
  poisonReason?: string;
}

const POISON = Symbol("poison");

interface FieldValue {
  val: bigint;
  size: number;
  typeId: number;
  validate: boolean;
}

function fieldValue(relo: CoreRelo, spec: CoreSpec | undefined): FieldValue | typeof POISON {
  const out: FieldValue = { val: 0n, size: 0, typeId: 0, validate: true };
  if (relo.kind === CoreReloKind.FIELD_EXISTS) {
    out.val = spec ? 1n : 0n;
    return out;
  }
  if (!spec) return POISON;
  const btf = spec.btf;
  const acc = spec.acc[spec.acc.length - 1]!;
  const elemSize = (id: number): [number, number] => {
    let [t, eid] = skipMods(btf, id);
    for (let n = 0; t.kind === "array"; n++) {
      if (n > MAX_DEPTH) throw new CoreRelocationError("array nesting too deep");
      [t, eid] = skipMods(btf, t.type);
    }
    return [mustSize(btf, eid), eid];
  };
  if (acc.name === undefined) {
    // an array element (or the root itself)
    if (relo.kind === CoreReloKind.FIELD_BYTE_OFFSET) {
      out.val = BigInt(Math.floor(spec.bitOffset / 8));
      [out.size] = elemSize(acc.typeId);
      out.typeId = acc.typeId;
    } else if (relo.kind === CoreReloKind.FIELD_BYTE_SIZE) {
      out.val = BigInt(mustSize(btf, acc.typeId));
    } else {
      throw new CoreRelocationError(
        `${coreKindName(relo.kind)} cannot be applied to an array element access`,
      );
    }
    return out;
  }
  const t = btf.typeById(acc.typeId) as BtfStruct;
  const m = t.members[acc.idx]!;
  const [mt, fieldTypeId] = skipMods(btf, m.type);
  const bitOff = spec.bitOffset;
  let bitSize = memberBitfieldSize(t, acc.idx);
  const bitfield = bitSize > 0;
  let byteSize: number;
  let byteOff: number;
  if (bitfield) {
    byteSize = "size" in mt && typeof mt.size === "number" ? mt.size : 0;
    if (byteSize <= 0) throw new CoreRelocationError(`bitfield ${m.name} has a sizeless type`);
    byteOff = Math.floor(bitOff / 8 / byteSize) * byteSize;
    while (bitOff + bitSize - byteOff * 8 > byteSize * 8) {
      if (byteSize >= 8)
        throw new CoreRelocationError(`bitfield ${m.name} cannot be read with one 64-bit load`);
      byteSize *= 2;
      byteOff = Math.floor(bitOff / 8 / byteSize) * byteSize;
    }
  } else {
    byteSize = mustSize(btf, fieldTypeId);
    byteOff = Math.floor(bitOff / 8);
    bitSize = byteSize * 8;
  }
  out.validate = !bitfield;
  switch (relo.kind) {
    case CoreReloKind.FIELD_BYTE_OFFSET:
      out.val = BigInt(byteOff);
      if (!bitfield) {
        [out.size] = elemSize(fieldTypeId);
        out.typeId = fieldTypeId;
      }
      break;
    case CoreReloKind.FIELD_BYTE_SIZE:
      out.val = BigInt(byteSize);
      break;
    case CoreReloKind.FIELD_SIGNED:
      out.val =
        (isAnyEnum(mt) && (mt as { signed: boolean }).signed) ||
        (mt.kind === "int" && (mt.encoding & 1) !== 0)
          ? 1n
          : 0n;
      out.validate = true;
      break;
    case CoreReloKind.FIELD_LSHIFT_U64:
      out.val = BigInt.asUintN(64, BigInt(64 - (bitOff + bitSize - byteOff * 8)));
      break;
    case CoreReloKind.FIELD_RSHIFT_U64:
      out.val = BigInt(64 - bitSize);
      out.validate = true;
      break;
    default:
      throw new CoreRelocationError(`unsupported relocation kind ${relo.kind}`);
  }
  return out;
}

function typeValue(relo: CoreRelo, spec: CoreSpec | undefined): bigint {
  if (!spec) return 0n;
  switch (relo.kind) {
    case CoreReloKind.TYPE_ID_TARGET:
      return BigInt(spec.rootId);
    case CoreReloKind.TYPE_EXISTS:
    case CoreReloKind.TYPE_MATCHES:
      return 1n;
    case CoreReloKind.TYPE_SIZE:
      return BigInt(mustSize(spec.btf, spec.rootId));
    default:
      throw new CoreRelocationError(`unsupported relocation kind ${relo.kind}`);
  }
}

function enumvalValue(relo: CoreRelo, spec: CoreSpec | undefined): bigint | typeof POISON {
  if (relo.kind === CoreReloKind.ENUMVAL_EXISTS) return spec ? 1n : 0n;
  if (!spec) return POISON;
  const a = spec.acc[0]!;
  return enumValue(spec.btf.typeById(a.typeId), a.idx).value;
}

/** bpf_core_calc_relo: values for one candidate (or for none, `targ` undefined). */
function calcRelo(
  relo: CoreRelo,
  local: CoreSpec,
  targ: CoreSpec | undefined,
): Omit<CoreResult, "local" | "target"> {
  const res: Omit<CoreResult, "local" | "target"> = {
    origVal: 0n,
    newVal: 0n,
    poison: false,
    validate: true,
    failMemszAdjust: false,
    origSize: 0,
    newSize: 0,
    origTypeId: 0,
    newTypeId: 0,
  };
  if (isFieldKind(relo.kind)) {
    const o = fieldValue(relo, local);
    if (o === POISON) throw new CoreRelocationError("local field spec did not resolve");
    res.origVal = o.val;
    res.origSize = o.size;
    res.origTypeId = o.typeId;
    res.validate = o.validate;
    const n = fieldValue(relo, targ);
    if (n === POISON) {
      res.poison = true;
      res.poisonReason = "the field does not exist in the target";
      return res;
    }
    res.newVal = n.val;
    res.newSize = n.size;
    res.newTypeId = n.typeId;
    if (res.origSize !== res.newSize && targ) {
      const ot = local.btf.typeById(res.origTypeId);
      const nt = targ.btf.typeById(res.newTypeId);
      const ok =
        (ot.kind === "ptr" && nt.kind === "ptr") ||
        (ot.kind === "int" &&
          nt.kind === "int" &&
          ot.encoding !== 1 && // BTF_INT_SIGNED exactly, as libbpf compares
          nt.encoding !== 1);
      if (!ok) res.failMemszAdjust = true;
    }
  } else if (isTypeKind(relo.kind)) {
    if (relo.kind === CoreReloKind.TYPE_ID_LOCAL)
      throw new CoreRelocationError("local_type_id needs no target");
    res.origVal = typeValue(relo, local);
    res.newVal = typeValue(relo, targ);
    // A type id may change when objects are linked: libbpf does not check the compiled one.
    if (relo.kind === CoreReloKind.TYPE_ID_TARGET) res.validate = false;
  } else if (isEnumvalKind(relo.kind)) {
    const o = enumvalValue(relo, local);
    if (o === POISON) throw new CoreRelocationError("local enumerator did not resolve");
    res.origVal = o;
    const n = enumvalValue(relo, targ);
    if (n === POISON) {
      res.poison = true;
      res.poisonReason = "the enumerator does not exist in the target";
      return res;
    }
    res.newVal = n;
  } else {
    throw new CoreRelocationError(`unknown relocation kind ${relo.kind}`);
  }
  return res;
}

// ---------------------------------------------------------------- targets

/** Where relocations look for target types: vmlinux first, modules only when it has none. */
export interface CoreTargets {
  /** the kernel's BTF (or the BTF file the user gave) */
  vmlinux: BtfTypes;
  /** module BTFs (split on vmlinux), asked for only when vmlinux has no candidate */
  modules?: () => readonly { name: string; btf: BtfTypes }[];
}

interface Candidate {
  btf: BtfTypes;
  id: number;
}

/** Type-compatible target types whose essential name equals the local type's. */
function findCandidates(local: BtfTypes, localId: number, targets: CoreTargets): Candidate[] {
  const lt = local.typeById(localId);
  const essential = essentialName(lt.name);
  const scan = (btf: BtfTypes): Candidate[] =>
    btf
      .idsWithEssentialName(essential)
      .filter((id) => kindCompat(btf.typeById(id), lt))
      .map((id) => ({ btf, id }));
  const main = scan(targets.vmlinux);
  if (main.length > 0 || !targets.modules) return main;
  return targets.modules().flatMap((m) => scan(m.btf));
}

/**
 * Resolves the CO-RE relocations of one object against its targets, keeping libbpf's
 * per-local-type candidate cache (candidates pruned by earlier relocations of the same type).
 */
export class CoreResolver {
  private readonly cands = new Map<number, Candidate[]>();

  constructor(
    readonly local: BtfTypes,
    readonly targets: CoreTargets,
  ) {}

  /** bpf_core_calc_relo_insn. Throws CoreRelocationError when no correct value exists. */
  resolve(relo: CoreRelo): CoreResult {
    try {
      return this.resolveInner(relo);
    } catch (e) {
      if (e instanceof ObjectError)
        throw new CoreRelocationError(
          `CO-RE relocation ${coreKindName(relo.kind)} [${relo.typeId}] "${relo.accessStr}": ${e.detail}`,
        );
      throw e;
    }
  }

  private resolveInner(relo: CoreRelo): CoreResult {
    const local = parseSpec(this.local, relo);
    const localText = formatSpec(local);
    if (relo.kind === CoreReloKind.TYPE_ID_LOCAL) {
      const id = BigInt(local.rootId);
      return {
        origVal: id,
        newVal: id,
        poison: false,
        validate: false,
        failMemszAdjust: false,
        origSize: 0,
        newSize: 0,
        origTypeId: 0,
        newTypeId: 0,
        local: localText,
        target: undefined,
      };
    }
    const lt = this.local.typeById(relo.typeId);
    if (lt.name === "")
      throw new CoreRelocationError(
        `${coreKindName(relo.kind)} ${localText}: CO-RE cannot relocate anonymous types (name the type)`,
      );
    let cands = this.cands.get(relo.typeId);
    if (!cands) {
      cands = findCandidates(this.local, relo.typeId, this.targets);
      this.cands.set(relo.typeId, cands);
    }
    let chosen: { res: CoreResult; spec: CoreSpec } | undefined;
    const kept: Candidate[] = [];
    for (const c of cands) {
      const spec = specMatch(local, c.btf, c.id);
      if (!spec) continue;
      const res: CoreResult = {
        ...calcRelo(relo, local, spec),
        local: localText,
        target: formatSpec(spec),
      };
      if (!chosen) chosen = { res, spec };
      else if (spec.bitOffset !== chosen.spec.bitOffset)
        throw new CoreRelocationError(
          `${coreKindName(relo.kind)} ${localText}: the target has several matching types that disagree on the field's offset (${chosen.res.target} vs ${res.target})`,
        );
      else if (res.poison !== chosen.res.poison || res.newVal !== chosen.res.newVal)
        throw new CoreRelocationError(
          `${coreKindName(relo.kind)} ${localText}: the target has several matching types that give different values (${chosen.res.newVal} from ${chosen.res.target}, ${res.newVal} from ${res.target})`,
        );
      kept.push(c);
    }
    if (kept.length > 0) {
      this.cands.set(relo.typeId, kept);
      return chosen!.res;
    }
    const none = calcRelo(relo, local, undefined);
    return {
      ...none,
      local: localText,
      target: undefined,
      ...(none.poison && {
        poisonReason:
          cands.length === 0
            ? `the target has no type named ${essentialName(lt.name)}`
            : isEnumvalKind(relo.kind)
              ? `no enum ${essentialName(lt.name)} in the target has this enumerator`
              : `no ${lt.kind} ${essentialName(lt.name)} in the target has this field (with a compatible type)`,
      }),
    };
  }
}

// ---------------------------------------------------------------- patching

const sizeBytes = (code: number): number | undefined =>
  ({ [BPF_DW]: 8, [BPF_W]: 4, [BPF_H]: 2, [BPF_B]: 1 })[code & 0x18];
const sizeCode = (bytes: number): number | undefined =>
  ({ 8: BPF_DW, 4: BPF_W, 2: BPF_H, 1: BPF_B })[bytes];

function poisonAt(insns: Insn[], idx: number): void {
  insns[idx] = { code: BPF_JMP | BPF_CALL, dst: 0, src: 0, off: 0, imm: CORE_POISON_IMM };
}

/**
 * bpf_core_patch_insn: write a resolved value into `insns[idx]` (in place). Returns "poisoned"
 * when the instruction became `call 0xbad2310`. Throws CoreRelocationError when the
 * instruction is not what the compiler should have emitted for this relocation.
 */
export function patchInsn(insns: Insn[], idx: number, res: CoreResult): "patched" | "poisoned" {
  const insn = insns[idx];
  if (!insn) throw new CoreRelocationError(`instruction ${idx} is outside the program`);
  const wide = insn.code === LDDW;
  const poison = (): "poisoned" => {
    if (wide && insns[idx + 1]) poisonAt(insns, idx + 1);
    poisonAt(insns, idx);
    return "poisoned";
  };
  if (res.poison) return poison();
  const cls = insn.code & 0x07;
  const u64 = (n: number): bigint => BigInt.asUintN(64, BigInt(n));
  const unexpected = (what: string, got: bigint | number): CoreRelocationError =>
    new CoreRelocationError(
      `instruction ${idx} (${what}) holds ${got}, but the object's BTF says the compiler wrote ${res.origVal}: the object's .BTF and .BTF.ext disagree with its code`,
    );
  switch (cls) {
    case BPF_ALU:
    case BPF_ALU64:
      if ((insn.code & 0x08) !== BPF_K)
        throw new CoreRelocationError(`instruction ${idx} is an ALU op without an immediate`);
      if (res.validate && u64(insn.imm) !== res.origVal)
        throw unexpected("ALU immediate", insn.imm);
      insn.imm = Number(BigInt.asIntN(32, res.newVal));
      return "patched";
    case BPF_LDX:
    case BPF_ST:
    case BPF_STX: {
      if (res.validate && u64(insn.off) !== res.origVal)
        throw unexpected("load/store offset", insn.off);
      if (res.newVal > 32767n)
        throw new CoreRelocationError(
          `instruction ${idx}: offset ${res.newVal} does not fit a load/store's 16-bit offset`,
        );
      if (res.failMemszAdjust) {
        res.poisonReason =
          "the field's size differs in the target and it is neither a pointer nor an unsigned integer, so a resized load would read a different value";
        return poison();
      }
      insn.off = Number(res.newVal);
      if (res.newSize !== res.origSize) {
        const have = sizeBytes(insn.code);
        if (have !== res.origSize)
          throw new CoreRelocationError(
            `instruction ${idx} accesses ${have ?? "?"} bytes, the field is ${res.origSize}`,
          );
        const code = sizeCode(res.newSize);
        if (code === undefined)
          throw new CoreRelocationError(
            `instruction ${idx}: the target field is ${res.newSize} bytes, no load/store has that size`,
          );
        insn.code = (insn.code & 0xe0) | code | (insn.code & 0x07);
      }
      return "patched";
    }
    case BPF_LD: {
      const hi = insns[idx + 1];
      if (
        !wide ||
        !hi ||
        insn.src !== 0 ||
        insn.off !== 0 ||
        hi.code !== 0 ||
        hi.dst !== 0 ||
        hi.src !== 0 ||
        hi.off !== 0
      )
        throw new CoreRelocationError(`instruction ${idx} (lddw) has an unexpected form`);
      const imm = (BigInt(insn.imm >>> 0) | (BigInt(hi.imm >>> 0) << 32n)) & 0xffffffffffffffffn;
      if (res.validate && imm !== res.origVal) throw unexpected("lddw immediate", imm);
      insn.imm = Number(BigInt.asIntN(32, res.newVal));
      hi.imm = Number(BigInt.asIntN(32, res.newVal >> 32n));
      return "patched";
    }
    default:
      throw new CoreRelocationError(
        `instruction ${idx} (opcode 0x${insn.code.toString(16)}) cannot carry a CO-RE relocation`,
      );
  }
}

/** A relocation applied to a program: what it was and what became of its instruction. */
export interface AppliedCoreRelo {
  insn: number;
  relo: CoreRelo;
  result: CoreResult;
  outcome: "patched" | "poisoned";
}

const PHRASES = [
  "the offset of",
  "the size of",
  "the existence of",
  "the signedness of",
  "the bit position of",
  "the bit width of",
  "the local type id of",
  "the kernel type id of",
  "the existence of",
  "the size of",
  "the existence of",
  "the value of",
  "a match for",
];

/**
 * A relocation for messages: `the offset of [5] struct task.pid (0:1 @ offset 4) (CO-RE
 * byte_off)`.
 */
export function describeRelo(relo: CoreRelo, res: Pick<CoreResult, "local">): string {
  return `${PHRASES[relo.kind] ?? "a CO-RE value of"} ${res.local} (CO-RE ${coreKindName(relo.kind)})`;
}
