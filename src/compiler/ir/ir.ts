// The compiler's IR: three-address code over unlimited 64-bit virtual registers, grouped in
// basic blocks. A vreg may have several definitions (one per predecessor path) — that is how
// joins are expressed, without phi nodes; passes that need a unique definition check for it.
//
// Pointer kinds matter to the verifier, not to this IR: the front end decides which vregs hold
// packet, context, stack or map-value pointers and keeps each check on the same lineage.

export type VReg = number;

export type Operand =
  { readonly kind: "reg"; readonly id: VReg } | { readonly kind: "imm"; readonly value: bigint };

export const reg = (id: VReg): Operand => ({ kind: "reg", id });
export const imm = (value: bigint | number): Operand => ({
  kind: "imm",
  value: BigInt.asIntN(64, BigInt(value)),
});

export type AluOp =
  "add" | "sub" | "mul" | "div" | "mod" | "and" | "or" | "xor" | "lsh" | "rsh" | "arsh";
export type CmpOp = "eq" | "ne" | "gt" | "ge" | "lt" | "le" | "sgt" | "sge" | "slt" | "sle" | "set";
export type Size = 1 | 2 | 4 | 8;
export type AtomicOp = "add" | "and" | "or" | "xor" | "xchg" | "cmpxchg";

/** Source position for `.BTF.ext` line info. */
export interface Loc {
  /** the source file: an inlined function of another module keeps its own */
  file: string;
  line: number; // 1-based
  col: number; // 1-based
}

/** Memory base: a vreg pointer, or a slot of the stack frame (addressed from r10). */
export type Base =
  { readonly kind: "reg"; readonly id: VReg } | { readonly kind: "slot"; readonly slot: number };

/**
 * A CO-RE relocation on an instruction (src/compiler/lower/kernel-types.ts): the loader moves
 * the instruction's offset or immediate to the running kernel's value. Opaque to the passes:
 * an instruction carrying one is never folded, merged with another or re-offset.
 */
export interface CoreRef {
  /** enum bpf_core_relo_kind */
  kind: number;
  /** the struct path it reads, e.g. `task_struct.real_parent` (equal keys, equal relocation) */
  key: string;
  /** what the emitter needs to build the local BTF and access string (kernel-types.ts) */
  spec: unknown;
}

export type Instr = (
  | { op: "mov"; dst: VReg; src: Operand }
  | { op: "alu"; alu: AluOp; dst: VReg; a: Operand; b: Operand }
  /**
   * 32-bit ALU (`w` registers): dst = zero-extended low 32 bits of `a op b` computed on the low
   * 32 bits (shift counts taken as they are: only counts 0–31 are made). Made only by the last
   * optimisation step (opt/alu32.ts), after every pass that reads `alu`.
   */
  | { op: "alu32"; alu: AluOp; dst: VReg; a: Operand; b: Operand }
  /** dst = the low 32 bits of a, zero-extended (`w1 = w2`); like alu32, only made last */
  | { op: "zext"; dst: VReg; a: Operand }
  | { op: "neg"; dst: VReg; a: Operand }
  | { op: "bswap"; dst: VReg; a: Operand; bits: 16 | 32 | 64 }
  | { op: "load"; dst: VReg; base: Base; off: number; size: Size; core?: CoreRef }
  /** a constant the loader relocates (CO-RE field offset, size, existence) */
  | { op: "core"; dst: VReg; value: bigint; core: CoreRef }
  /** address of an extern (`.kconfig`): lddw relocated against its symbol */
  | { op: "extern"; dst: VReg; symbol: string }
  /** address of a callback subprogram (`bpf_loop`): lddw relocated against `.text` */
  | { op: "funcaddr"; dst: VReg; fn: string }
  | { op: "store"; base: Base; off: number; size: Size; value: Operand }
  | { op: "atomicAdd"; base: Base; off: number; size: 4 | 8; value: Operand }
  /**
   * Atomic read-modify-write of memory (BPF_ATOMIC): `dst` gets the old value (BPF_FETCH; a
   * 4-byte one zero-extended), or with no dst the plain `lock` form (add/and/or/xor only).
   * `cmpxchg` stores `value` when memory equals `expected` (R0 in the instruction).
   */
  | {
      op: "atomic";
      rmw: AtomicOp;
      dst: VReg | undefined;
      base: Base;
      off: number;
      size: 4 | 8;
      value: Operand;
      expected?: Operand;
    }
  | { op: "addr"; dst: VReg; slot: number; off: number }
  | { op: "mapfd"; dst: VReg; map: string }
  /** address of a global variable (lddw relocated against its symbol) */
  | { op: "global"; dst: VReg; symbol: string }
  /** a helper call, or with `fn` a bpf-to-bpf call of the subprogram of that symbol */
  | { op: "call"; dst: VReg | undefined; helper: number; args: Operand[]; fn?: string }
) & { loc?: Loc };

export type Terminator = (
  | { op: "jmp"; target: number }
  | { op: "br"; cond: CmpOp; a: Operand; b: Operand; t: number; f: number }
  | { op: "ret"; value: Operand }
) & { loc?: Loc };

export interface Block {
  id: number;
  instrs: Instr[];
  term: Terminator;
}

/** A stack object: a buffer or struct the program builds in its frame. */
export interface Slot {
  size: number;
  /** 8, or a smaller natural alignment: the slot then sits at the top of its 8-byte chunk */
  align: number;
  /** what it holds, for messages */
  what: string;
}

export interface Func {
  name: string;
  blocks: Block[];
  /** vreg holding the context pointer (r1 at entry) */
  ctx: VReg;
  nextVreg: number;
  slots: Slot[];
  /**
   * a subprogram: the vregs its arguments arrive in (r1, r2, …), like `ctx` defined at entry and
   * never redefined (a parameter the body assigns is a copy of one)
   */
  args?: VReg[];
}

/** The vregs a function receives at entry (defined once there, before any instruction). */
export const entryVregs = (f: Func): VReg[] => (f.args ? [f.ctx, ...f.args] : [f.ctx]);

export function defOf(i: Instr): VReg | undefined {
  switch (i.op) {
    case "store":
    case "atomicAdd":
      return undefined;
    case "call":
      return i.dst;
    default:
      return i.dst;
  }
}

// Plain loops and literals: every pass asks these for every instruction, every round (flatMap
// over a fresh operand array was a few percent of a compile).
const regsOf = (ops: readonly Operand[]): VReg[] => {
  const out: VReg[] = [];
  for (const o of ops) if (o.kind === "reg") out.push(o.id);
  return out;
};
const reg1 = (o: Operand): VReg[] => (o.kind === "reg" ? [o.id] : []);
const reg2 = (a: Operand | Base, b: Operand): VReg[] =>
  a.kind === "reg" ? (b.kind === "reg" ? [a.id, b.id] : [a.id]) : reg1(b);

export function usesOf(i: Instr): VReg[] {
  switch (i.op) {
    case "mov":
      return reg1(i.src);
    case "alu":
    case "alu32":
      return reg2(i.a, i.b);
    case "zext":
    case "neg":
    case "bswap":
      return reg1(i.a);
    case "load":
      return i.base.kind === "reg" ? [i.base.id] : [];
    case "store":
    case "atomicAdd":
      return reg2(i.base, i.value);
    case "atomic":
      return i.expected ? [...reg2(i.base, i.value), ...reg1(i.expected)] : reg2(i.base, i.value);
    case "addr":
    case "mapfd":
    case "global":
    case "core":
    case "extern":
    case "funcaddr":
      return [];
    case "call":
      return regsOf(i.args);
  }
}

export function termUses(t: Terminator): VReg[] {
  switch (t.op) {
    case "jmp":
      return [];
    case "br":
      return reg2(t.a, t.b);
    case "ret":
      return reg1(t.value);
  }
}

export function successors(t: Terminator): number[] {
  switch (t.op) {
    case "jmp":
      return [t.target];
    case "br":
      return t.t === t.f ? [t.t] : [t.t, t.f];
    case "ret":
      return [];
  }
}

/** Points a terminator's targets elsewhere: `to` maps each old block id to its new one. */
export function retarget(t: Terminator, to: (id: number) => number): void {
  if (t.op === "jmp") t.target = to(t.target);
  else if (t.op === "br") {
    t.t = to(t.t);
    t.f = to(t.f);
  }
}

export const hasSideEffect = (i: Instr): boolean =>
  i.op === "store" || i.op === "atomicAdd" || i.op === "atomic" || i.op === "call";

// ---- Text dump, for golden tests and --emit-ir ----

const opnd = (o: Operand): string => (o.kind === "reg" ? `v${o.id}` : `${o.value}`);
const base = (b: Base, off: number): string =>
  `[${b.kind === "reg" ? `v${b.id}` : `slot${b.slot}`}${off >= 0 ? "+" : ""}${off}]`;

export function printInstr(i: Instr): string {
  switch (i.op) {
    case "mov":
      return `v${i.dst} = ${opnd(i.src)}`;
    case "alu":
      return `v${i.dst} = ${i.alu} ${opnd(i.a)}, ${opnd(i.b)}`;
    case "alu32":
      return `v${i.dst} = ${i.alu}32 ${opnd(i.a)}, ${opnd(i.b)}`;
    case "zext":
      return `v${i.dst} = zext32 ${opnd(i.a)}`;
    case "neg":
      return `v${i.dst} = neg ${opnd(i.a)}`;
    case "bswap":
      return `v${i.dst} = bswap${i.bits} ${opnd(i.a)}`;
    case "load":
      return `v${i.dst} = load${i.size * 8} ${base(i.base, i.off)}${i.core ? ` core(${i.core.kind} ${i.core.key})` : ""}`;
    case "core":
      return `v${i.dst} = core(${i.core.kind} ${i.core.key}) ${i.value}`;
    case "extern":
      return `v${i.dst} = &extern ${i.symbol}`;
    case "funcaddr":
      return `v${i.dst} = &func ${i.fn}`;
    case "store":
      return `store${i.size * 8} ${base(i.base, i.off)}, ${opnd(i.value)}`;
    case "atomicAdd":
      return `atomic_add${i.size * 8} ${base(i.base, i.off)}, ${opnd(i.value)}`;
    case "atomic":
      return `${i.dst === undefined ? "" : `v${i.dst} = `}atomic_${i.rmw}${i.size * 8} ${base(i.base, i.off)}, ${opnd(i.value)}${i.expected ? `, expect ${opnd(i.expected)}` : ""}`;
    case "addr":
      return `v${i.dst} = &slot${i.slot}+${i.off}`;
    case "mapfd":
      return `v${i.dst} = map ${i.map}`;
    case "global":
      return `v${i.dst} = &${i.symbol}`;
    case "call":
      return `${i.dst === undefined ? "" : `v${i.dst} = `}call ${i.fn ?? i.helper}(${i.args.map(opnd).join(", ")})`;
  }
}

export function printTerm(t: Terminator): string {
  return t.op === "jmp"
    ? `jmp b${t.target}`
    : t.op === "br"
      ? `br ${t.cond} ${opnd(t.a)}, ${opnd(t.b)} ? b${t.t} : b${t.f}`
      : `ret ${opnd(t.value)}`;
}

export function printFunc(f: Func): string {
  const out: string[] = [`func ${f.name}(v${f.ctx}):`];
  for (const b of f.blocks) {
    out.push(`b${b.id}:`);
    for (const i of b.instrs) out.push(`  ${printInstr(i)}`);
    out.push(`  ${printTerm(b.term)}`);
  }
  return out.join("\n");
}
