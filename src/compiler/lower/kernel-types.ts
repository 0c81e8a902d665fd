// Kernel structs in probes: `task.real_parent.tgid`, `file.f_path.dentry`, typed by the
// declarations `tsbpf btf gen` writes (src/obj/btf-to-ts.ts). Each interface and property
// there carries a `@btf` tag (kind, name, size; byte offset and shape) that this module reads
// through the type checker. Every read is a CO-RE relocation (FIELD_BYTE_OFFSET on the load or
// on the offset added to the pointer), so the loader moves it to the running kernel's offset;
// src/compiler/backend/core-btf.ts writes the local BTF and the .BTF.ext records.
//
// How a field is read depends on where the pointer came from (the value's `mode`):
// - "btf": a pointer the verifier types as PTR_TO_BTF_ID (tp_btf arguments, currentTask() in
//   tp_btf, pointer fields read from such a struct): a direct load;
// - "ctx": the tracepoint record (the context itself): a direct load from the context;
// - "probe": any other address (kprobe arguments, bpf_get_current_task, pointers read from
//   records): bpf_probe_read_kernel into the stack, then a load. A NULL pointer reads as 0.
import ts from "typescript";
import { Code, CompileError } from "../errors.js";
import { imm, reg, type CoreRef, type Operand, type Size, type VReg } from "../ir/ir.js";
import type { KconfigUse, KField, KSpec, KStep, KStruct } from "../ir/kernel-structs.js";
import type { LowerHost } from "./host.js";
import type { Value } from "./values.js";

/** enum bpf_core_relo_kind values used here */
export const CoreKind = {
  FIELD_BYTE_OFFSET: 0,
  FIELD_BYTE_SIZE: 1,
  FIELD_EXISTS: 2,
  FIELD_LSHIFT_U64: 4,
  FIELD_RSHIFT_U64: 5,
} as const;

const HELPER_PROBE_READ_KERNEL = 113;
const HELPER_GET_CURRENT_TASK = 35;
const HELPER_GET_CURRENT_TASK_BTF = 158;

/** A pointer to a kernel struct, or a struct embedded at `off` within what it points to. */
export interface KernelValue {
  k: "kernel";
  /** the pointer (a vreg) */
  base: VReg;
  mode: "btf" | "probe" | "ctx";
  root: KStruct;
  /** embedded-struct steps from `root` to `type` */
  steps: KStep[];
  type: KStruct;
  /** local byte offset of `type` within `root` */
  off: number;
}

const structs = new WeakMap<ts.Declaration, KStruct | null>();

/** The `@btf …` comment (block or JSDoc) right before a declaration. */
function btfTag(node: ts.Node): string | undefined {
  const text = node.getSourceFile().text;
  for (const r of ts.getLeadingCommentRanges(text, node.pos) ?? []) {
    const m = /^\/\*\*?\s*@btf\s+([^*]*?)\s*\*\/$/.exec(text.slice(r.pos, r.end));
    if (m) return m[1];
  }
  return undefined;
}

/** The kernel struct a TypeScript type declares, if it is one of the generated interfaces. */
export function kernelStructOf(type: ts.Type): KStruct | undefined {
  const decl = type.getSymbol()?.declarations?.find(ts.isInterfaceDeclaration);
  if (!decl) return undefined;
  const hit = structs.get(decl);
  if (hit !== undefined) return hit ?? undefined;
  const m = /^(struct|union) (\S+) (\d+)$/.exec(btfTag(decl) ?? "");
  const st: KStruct | null = m
    ? {
        kind: m[1] as "struct" | "union",
        name: m[2] === "-" ? "" : m[2]!,
        size: Number(m[3]),
        tsName: decl.name.text,
        key: `${decl.getSourceFile().fileName}#${decl.name.text}`,
        type,
      }
    : null;
  structs.set(decl, st);
  return st ?? undefined;
}

const fields = new WeakMap<ts.Declaration, KField>();

/** The field `name` of `st`, from its property's `@btf` tag. */
export function kernelField(lw: LowerHost, st: KStruct, name: string, node: ts.Node): KField {
  const prop = st.type.getProperty(name);
  const decl = prop?.declarations?.find(ts.isPropertySignature);
  if (!prop || !decl)
    throw CompileError.at(
      node,
      Code.BadApi,
      `${describe(st)} has no field ${name} in its declaration (regenerate it with tsbpf btf gen if the kernel has one)`,
    );
  const hit = fields.get(decl);
  if (hit) return hit;
  const tag = btfTag(decl);
  const parts = tag?.split(/\s+/) ?? [];
  const off = Number(parts[0]);
  if (!tag || !Number.isInteger(off))
    throw CompileError.at(
      node,
      Code.BadApi,
      `${st.tsName}.${name} has no @btf tag: kernel struct declarations come from tsbpf btf gen`,
    );
  const propType = (): KStruct => {
    const t = lw.fe.checker.getTypeOfSymbolAtLocation(prop, decl);
    const s = kernelStructOf(t);
    if (!s)
      throw CompileError.at(
        node,
        Code.BadApi,
        `${st.tsName}.${name}: its type is not a generated kernel struct`,
      );
    return s;
  };
  const int = (s: string): { size: Size; signed: boolean } | undefined => {
    const m = /^([us])(8|16|32|64)$/.exec(s);
    return m ? { size: (Number(m[2]) / 8) as Size, signed: m[1] === "s" } : undefined;
  };
  const kind = parts[1] ?? "";
  let f: KField;
  const asInt = int(kind);
  if (asInt) f = { name, off, k: "int", ...asInt };
  else if (kind === "ptr") f = { name, off, k: "ptr", target: propType() };
  else if (kind === "emb") f = { name, off, k: "emb", target: propType() };
  else if (kind === "addr") f = { name, off, k: "addr" };
  else if (kind === "arr" && int(parts[2] ?? ""))
    f = {
      name,
      off,
      k: "arr",
      elemSize: int(parts[2]!)!.size,
      signed: int(parts[2]!)!.signed,
      n: Number(parts[3]),
    };
  else if (kind === "bits" && int(parts[4] ?? ""))
    f = {
      name,
      off,
      k: "bits",
      bitOff: Number(parts[2]),
      bits: Number(parts[3]),
      unit: int(parts[4]!)!.size,
      signed: int(parts[4]!)!.signed,
    };
  else f = { name, off, k: "other", what: parts.slice(1).join(" ") };
  fields.set(decl, f);
  return f;
}

const describe = (st: KStruct): string =>
  `${st.kind} ${st.name === "" ? `(anonymous: ${st.tsName})` : st.name}`;

function coreRef(kind: number, v: KernelValue, field: KField, index?: number): CoreRef {
  const steps = [...v.steps, { owner: v.type, field }];
  const spec: KSpec = { root: v.root, steps, ...(index !== undefined && { index }) };
  return {
    kind,
    key: `${v.root.key}:${steps.map((s) => s.field.name).join(".")}${index !== undefined ? `[${index}]` : ""}`,
    spec,
  };
}

/**
 * `v.name[i]`, an element of an array field (`task.comm[0]`, `x.arr[i]`). A constant index
 * is its own CO-RE relocation, as clang writes `&x->arr[2]` (access "…:N:2", the element's
 * offset relocated; the loader checks the index against the kernel's array). A run-time index
 * is tested unsigned against the declared length on its own register, then added, scaled, to
 * the relocated offset of the field: an index outside the array reads 0, as a typed array.
 */
export function kernelElement(
  lw: LowerHost,
  v: KernelValue,
  name: string,
  index: ts.Expression,
  e: ts.ElementAccessExpression,
): Value {
  const f = kernelField(lw, v.type, name, e);
  if (f.k !== "arr")
    throw CompileError.at(
      e,
      Code.Unsupported,
      `${v.type.tsName}.${name} is not an array field of the kernel struct; only arrays of integers are indexed`,
    );
  const extend = (r: VReg): Value => {
    let out = r;
    if (f.signed && f.elemSize < 8) {
      const sh = 64 - f.elemSize * 8;
      out = lw.alu("arsh", reg(lw.alu("lsh", reg(r), imm(sh))), imm(sh));
    }
    return { k: "int", op: reg(out), ...(f.elemSize === 8 && !f.signed ? { u64: true } : {}) };
  };
  const c = lw.mod.consts.eval(index);
  if (typeof c === "number") {
    if (!Number.isInteger(c) || c < 0 || c >= f.n)
      throw CompileError.at(
        index,
        Code.BadApi,
        `index ${c} is outside ${v.type.tsName}.${name} (${f.n} elements as declared)`,
      );
    lw.setLoc(e);
    const core = coreRef(CoreKind.FIELD_BYTE_OFFSET, v, f, c);
    return extend(readAt(lw, v, v.off + f.off + c * f.elemSize, f.elemSize, core, e));
  }
  // A run-time index.
  if (v.mode === "ctx")
    throw CompileError.at(
      index,
      Code.Unsupported,
      "a run-time index into context memory (a tracepoint record field) is rejected by the kernel: copy the field into a struct local first and index that",
    );
  lw.setLoc(e);
  const i = lw.mov(lw.int(lw.expr(index), index));
  const dst = lw.vreg();
  const inside = lw.newBlock();
  const outside = lw.newBlock();
  const join = lw.newBlock();
  lw.branch("lt", reg(i), imm(f.n), inside, outside);
  lw.switchTo(inside);
  const scaled = f.elemSize === 1 ? i : lw.alu("lsh", reg(i), imm(Math.log2(f.elemSize)));
  const core = coreRef(CoreKind.FIELD_BYTE_OFFSET, v, f);
  const fieldAt = fieldAddress(lw, v, f, core);
  const at = lw.alu("add", reg(fieldAt), reg(scaled));
  let got: VReg;
  if (v.mode !== "probe") {
    got = lw.vreg();
    lw.emit({ op: "load", dst: got, base: { kind: "reg", id: at }, off: 0, size: f.elemSize });
  } else got = probeRead(lw, at, f.elemSize, e);
  lw.emit({ op: "mov", dst, src: reg(got) });
  lw.jump(join);
  lw.switchTo(outside);
  lw.emit({ op: "mov", dst, src: imm(0) });
  lw.jump(join);
  lw.switchTo(join);
  return extend(dst);
}

/** bpf_probe_read_kernel of `size` bytes at `src` into a zeroed stack slot, then a load. */
function probeRead(lw: LowerHost, src: VReg, size: Size, e: ts.Node): VReg {
  const slot = lw.slot(8, "a kernel field read", e, true);
  lw.emit({ op: "store", base: { kind: "slot", slot }, off: 0, size: 8, value: imm(0) });
  const buf = lw.vreg();
  lw.emit({ op: "addr", dst: buf, slot, off: 0 });
  lw.emit({
    op: "call",
    dst: lw.vreg(),
    helper: HELPER_PROBE_READ_KERNEL,
    args: [reg(buf), imm(size), reg(src)],
  });
  const dst = lw.vreg();
  lw.emit({ op: "load", dst, base: { kind: "slot", slot }, off: 0, size });
  return dst;
}

/** Read `size` bytes at local offset `off` of `v`'s pointer, `core` relocating the offset. */
function readAt(
  lw: LowerHost,
  v: KernelValue,
  off: number,
  size: Size,
  core: CoreRef,
  e: ts.Node,
): VReg {
  const dst = lw.vreg();
  if (v.mode !== "probe") {
    lw.emit({ op: "load", dst, base: { kind: "reg", id: v.base }, off, size, core });
    return dst;
  }
  const o = lw.vreg();
  lw.emit({ op: "core", dst: o, value: BigInt(off), core });
  return probeRead(lw, lw.alu("add", reg(v.base), reg(o)), size, e);
}

/** `v.name`: a nested kernel value (embedded struct, pointer) or the integer read. */
export function kernelMember(lw: LowerHost, v: KernelValue, name: string, e: ts.Node): Value {
  const f = kernelField(lw, v.type, name, e);
  switch (f.k) {
    case "emb":
      return {
        ...v,
        steps: [...v.steps, { owner: v.type, field: f }],
        type: f.target,
        off: v.off + f.off,
      };
    case "int": {
      if (v.mode === "probe")
        return {
          k: "int",
          op: reg(readSized(lw, v, f, e)),
          ...(f.size === 8 && !f.signed ? { u64: true } : {}),
        };
      let r = read(lw, v, f, f.size, e);
      if (f.signed && f.size < 8) {
        const sh = 64 - f.size * 8;
        r = lw.alu("arsh", reg(lw.alu("lsh", reg(r), imm(sh))), imm(sh));
      }
      return { k: "int", op: reg(r), ...(f.size === 8 && !f.signed ? { u64: true } : {}) };
    }
    case "addr":
      return { k: "int", op: reg(read(lw, v, f, 8, e)) };
    case "ptr": {
      const p = read(lw, v, f, 8, e);
      return {
        k: "kernel",
        base: p,
        mode: v.mode === "btf" ? "btf" : "probe",
        root: f.target,
        steps: [],
        type: f.target,
        off: 0,
      };
    }
    case "arr":
      throw CompileError.at(
        e,
        Code.Unsupported,
        `${v.type.tsName}.${name} is an array: index it (x.${name}[i]) or copy it with probeReadKernel(into, addressOf(x.${name})) (probeReadKernelStr for strings)`,
      );
    case "bits":
      return { k: "int", op: reg(readBits(lw, v, f, e)) };
    case "other":
      throw CompileError.at(
        e,
        Code.Unsupported,
        `${v.type.tsName}.${name} (${f.what}) cannot be read in probe code; read its bytes with probeReadKernel(into, addressOf(x.${name}))`,
      );
  }
}

/** Read `size` bytes of field `f` of `v` with its CO-RE relocation. */
function read(lw: LowerHost, v: KernelValue, f: KField, size: Size, e: ts.Node): VReg {
  lw.setLoc(e);
  const core = coreRef(CoreKind.FIELD_BYTE_OFFSET, v, f);
  const dst = lw.vreg();
  if (v.mode !== "probe") {
    lw.emit({ op: "load", dst, base: { kind: "reg", id: v.base }, off: v.off + f.off, size, core });
    return dst;
  }
  const slot = lw.slot(8, "a kernel field read", e, true);
  lw.emit({ op: "store", base: { kind: "slot", slot }, off: 0, size: 8, value: imm(0) });
  const src = fieldAddress(lw, v, f, core);
  const buf = lw.vreg();
  lw.emit({ op: "addr", dst: buf, slot, off: 0 });
  lw.emit({
    op: "call",
    dst: lw.vreg(),
    helper: HELPER_PROBE_READ_KERNEL,
    args: [reg(buf), imm(size), reg(src)],
  });
  lw.emit({ op: "load", dst, base: { kind: "slot", slot }, off: 0, size });
  return dst;
}

/**
 * An integer field through a probe read, sized as the running kernel has it (a field whose
 * size differs between kernels, as BPF_CORE_READ does with bpf_core_field_size): the relocated
 * byte size (FIELD_BYTE_SIZE) read at the relocated offset into a zeroed u64, which holds any
 * size's unsigned value; a signed field is then shifted left and arithmetic-right by relocated
 * counts (FIELD_LSHIFT_U64 / FIELD_RSHIFT_U64, 64 − 8 × size), sign-extending from the
 * kernel's width rather than the declaration's.
 */
function readSized(lw: LowerHost, v: KernelValue, f: KField & { k: "int" }, e: ts.Node): VReg {
  lw.setLoc(e);
  const x = readIntoU64(
    lw,
    "a kernel field read",
    e,
    BigInt(f.size),
    coreRef(CoreKind.FIELD_BYTE_SIZE, v, f),
    () => fieldAddress(lw, v, f, coreRef(CoreKind.FIELD_BYTE_OFFSET, v, f)),
  );
  if (!f.signed) return x;
  const l = lw.vreg();
  const sh = BigInt(64 - f.size * 8);
  lw.emit({ op: "core", dst: l, value: sh, core: coreRef(CoreKind.FIELD_LSHIFT_U64, v, f) });
  const r = lw.vreg();
  lw.emit({ op: "core", dst: r, value: sh, core: coreRef(CoreKind.FIELD_RSHIFT_U64, v, f) });
  return lw.alu("arsh", reg(lw.alu("lsh", reg(x), reg(l))), reg(r));
}

/**
 * A bit-field, as libbpf's BPF_CORE_READ_BITFIELD_PROBED: the relocated byte size at the
 * relocated byte offset read into a zeroed u64, shifted left then right by relocated counts
 * (arithmetic for a signed field). A probe read in every mode: its size is a relocated
 * constant, where a direct load's width is fixed in the instruction.
 */
function readBits(lw: LowerHost, v: KernelValue, f: KField & { k: "bits" }, e: ts.Node): VReg {
  lw.setLoc(e);
  const rel = (kind: number): CoreRef => coreRef(kind, v, f);
  // The local values, computed as libbpf computes them (it checks them before patching): the
  // smallest load of at least the field's type size, aligned to its size, holding every bit.
  const bit = (v.off + f.off) * 8 + f.bitOff;
  let byteSize: number = f.unit;
  let byteOff = Math.floor(bit / 8 / byteSize) * byteSize;
  while (bit + f.bits - byteOff * 8 > byteSize * 8 && byteSize < 8) {
    byteSize *= 2;
    byteOff = Math.floor(bit / 8 / byteSize) * byteSize;
  }
  if (bit + f.bits - byteOff * 8 > byteSize * 8)
    throw CompileError.at(
      e,
      Code.Unsupported,
      `${v.type.tsName}.${f.name}: a bit-field spanning more than 8 bytes`,
    );
  const x = readIntoU64(
    lw,
    "a kernel bit-field read",
    e,
    BigInt(byteSize),
    rel(CoreKind.FIELD_BYTE_SIZE),
    () => {
      const off = lw.vreg();
      lw.emit({
        op: "core",
        dst: off,
        value: BigInt(byteOff),
        core: rel(CoreKind.FIELD_BYTE_OFFSET),
      });
      return lw.alu("add", reg(v.base), reg(off));
    },
  );
  const l = lw.vreg();
  lw.emit({
    op: "core",
    dst: l,
    value: BigInt(64 - (bit + f.bits - byteOff * 8)),
    core: rel(CoreKind.FIELD_LSHIFT_U64),
  });
  const r = lw.vreg();
  lw.emit({ op: "core", dst: r, value: BigInt(64 - f.bits), core: rel(CoreKind.FIELD_RSHIFT_U64) });
  return lw.alu(f.signed ? "arsh" : "rsh", reg(lw.alu("lsh", reg(x), reg(l))), reg(r));
}

/**
 * `bpf_probe_read_kernel` of a relocated byte size (`size`, relocated by `sizeCore`) from
 * `address()` into a zeroed 8-byte slot, then the slot as a u64: any size up to 8 reads as its
 * unsigned value. The one sequence behind sized field reads and bit-field reads.
 */
function readIntoU64(
  lw: LowerHost,
  what: string,
  e: ts.Node,
  size: bigint,
  sizeCore: CoreRef,
  address: () => VReg,
): VReg {
  const slot = lw.slot(8, what, e, true);
  lw.emit({ op: "store", base: { kind: "slot", slot }, off: 0, size: 8, value: imm(0) });
  const n = lw.vreg();
  lw.emit({ op: "core", dst: n, value: size, core: sizeCore });
  const src = address();
  const buf = lw.vreg();
  lw.emit({ op: "addr", dst: buf, slot, off: 0 });
  lw.emit({
    op: "call",
    dst: lw.vreg(),
    helper: HELPER_PROBE_READ_KERNEL,
    args: [reg(buf), reg(n), reg(src)],
  });
  return lw.load({ kind: "slot", slot }, 0, 8);
}

/** `base + offset(field)`, the offset relocated. */
function fieldAddress(lw: LowerHost, v: KernelValue, f: KField, core: CoreRef): VReg {
  const off = lw.vreg();
  lw.emit({ op: "core", dst: off, value: BigInt(v.off + f.off), core });
  return lw.alu("add", reg(v.base), reg(off));
}

/** The kernel value and field named by `x.f` (an argument of exists / addressOf). */
function fieldOperand(
  lw: LowerHost,
  e: ts.CallExpression,
  what: string,
): { v: KernelValue; f: KField } {
  let a = e.arguments[0];
  while (a && (ts.isParenthesizedExpression(a) || ts.isNonNullExpression(a))) a = a.expression;
  if (!a || !ts.isPropertyAccessExpression(a) || ts.isPrivateIdentifier(a.name))
    throw CompileError.at(
      a ?? e,
      Code.BadApi,
      `${what}(x.field): the argument is a field of a kernel struct, e.g. ${what}(task.real_parent)`,
    );
  const v = lw.expr(a.expression);
  if (v.k !== "kernel")
    throw CompileError.at(
      a.expression,
      Code.BadApi,
      `${what}(): ${a.expression.getText()} is not a kernel struct (declared by tsbpf btf gen)`,
    );
  return { v, f: kernelField(lw, v.type, a.name.text, a.name) };
}

/** The kernel struct a call's result is typed as (`kernelPtr<task_struct>(…)`). */
function resultStruct(lw: LowerHost, e: ts.CallExpression, what: string): KStruct {
  const st = kernelStructOf(lw.fe.checker.getNonNullableType(lw.fe.checker.getTypeAtLocation(e)));
  if (!st)
    throw CompileError.at(
      e,
      Code.BadApi,
      `${what}<T>(): T must be a kernel struct declared by tsbpf btf gen, e.g. ${what}<task_struct>(…)`,
    );
  return st;
}

/** Program kinds whose context arguments the verifier types from BTF (direct loads). */
const BTF_KINDS: ReadonlySet<string> = new Set(["tp_btf", "fentry", "fexit", "iter", "lsm"]);

const KCONFIG_NAME = /^CONFIG_[A-Za-z0-9_]+$/;

/** The probe functions of this module; undefined for other names. */
export function kernelProbeFunction(
  lw: LowerHost,
  name: string,
  e: ts.CallExpression,
  externs: Map<string, KconfigUse>,
): Value | undefined {
  switch (name) {
    case "kernelPtr": {
      const st = resultStruct(lw, e, "kernelPtr");
      const a = e.arguments[0];
      if (!a) throw CompileError.at(e, Code.BadApi, "kernelPtr<T>(address): missing address");
      const op: Operand = lw.int(lw.expr(a), a);
      const base = lw.mov(op);
      // A tp_btf argument is a pointer the verifier knows the type of: read it directly.
      const direct = BTF_KINDS.has(lw.prog.kind) && isCtxArg(a);
      return {
        k: "kernel",
        base,
        mode: direct ? "btf" : "probe",
        root: st,
        steps: [],
        type: st,
        off: 0,
      };
    }
    case "currentTask": {
      const st = resultStruct(lw, e, "currentTask");
      if (st.name !== "task_struct")
        throw CompileError.at(e, Code.BadApi, "currentTask<T>(): T is task_struct");
      const btf = BTF_KINDS.has(lw.prog.kind);
      const dst = lw.vreg();
      lw.emit({
        op: "call",
        dst,
        helper: btf ? HELPER_GET_CURRENT_TASK_BTF : HELPER_GET_CURRENT_TASK,
        args: [],
      });
      return {
        k: "kernel",
        base: dst,
        mode: btf ? "btf" : "probe",
        root: st,
        steps: [],
        type: st,
        off: 0,
      };
    }
    case "exists": {
      const { v, f } = fieldOperand(lw, e, "exists");
      const dst = lw.vreg();
      lw.emit({ op: "core", dst, value: 1n, core: coreRef(CoreKind.FIELD_EXISTS, v, f) });
      return { k: "int", op: reg(dst) };
    }
    case "addressOf": {
      const { v, f } = fieldOperand(lw, e, "addressOf");
      return {
        k: "int",
        op: reg(fieldAddress(lw, v, f, coreRef(CoreKind.FIELD_BYTE_OFFSET, v, f))),
      };
    }
    case "dataLoc": {
      if (lw.prog.kind !== "tracepoint")
        throw CompileError.at(
          e,
          Code.BadApi,
          "dataLoc() reads a tracepoint record's __data_loc field",
        );
      const a = e.arguments[0];
      if (!a) throw CompileError.at(e, Code.BadApi, "dataLoc(loc): missing the __data_loc field");
      const loc = lw.int(lw.expr(a), a);
      const off = lw.alu("and", loc, imm(0xffff));
      return { k: "int", op: reg(lw.alu("add", reg(lw.func.ctx), reg(off))) };
    }
    case "kernelVersion":
      return { k: "int", op: reg(externRead(lw, "LINUX_KERNEL_VERSION", "version", externs)) };
    case "kconfig":
    case "kconfigValue": {
      const a = e.arguments[0];
      const opt = a && lw.mod.consts.eval(a);
      if (typeof opt !== "string" || !KCONFIG_NAME.test(opt))
        throw CompileError.at(
          a ?? e,
          Code.NotConstant,
          `${name}(): the option is a constant string "CONFIG_…"`,
        );
      const use = name === "kconfig" ? "tristate" : "int";
      return { k: "int", op: reg(externRead(lw, opt, use, externs)) };
    }
  }
  return undefined;
}

function externRead(
  lw: LowerHost,
  symbol: string,
  use: KconfigUse,
  externs: Map<string, KconfigUse>,
): VReg {
  const had = externs.get(symbol);
  if (had !== undefined && had !== use)
    throw new CompileError(
      Code.BadApi,
      `${symbol} is read both with kconfig() (y/m/n) and kconfigValue() (a number); an option has one kind`,
      lw.fe.entry.fileName,
      1,
      1,
    );
  externs.set(symbol, use);
  const p = lw.vreg();
  lw.emit({ op: "extern", dst: p, symbol });
  return lw.load({ kind: "reg", id: p }, 0, use === "int" ? 8 : 4);
}

/** `ctx.fields` of a tracepoint typed by a `trace_event_raw_*` record: read from the context. */
export function tracepointRecord(
  lw: LowerHost,
  record: ts.Type | undefined,
  e: ts.Node,
): KernelValue {
  const st = record && kernelStructOf(record);
  if (!st)
    throw CompileError.at(
      e,
      Code.BadApi,
      "tracepoint(category, name, fn): type the context as TracepointContext<trace_event_raw_NAME> with the record declared by tsbpf btf gen, or pass a struct() layout as the third argument",
    );
  return { k: "kernel", base: lw.func.ctx, mode: "ctx", root: st, steps: [], type: st, off: 0 };
}

/** `ctx.arg(i)` (or `c.arg(i)` for any name of the context parameter). */
function isCtxArg(a: ts.Expression): boolean {
  while (ts.isParenthesizedExpression(a) || ts.isNonNullExpression(a)) a = a.expression;
  return (
    ts.isCallExpression(a) &&
    ts.isPropertyAccessExpression(a.expression) &&
    a.expression.name.text === "arg"
  );
}
