// Instruction selection: allocated IR → eBPF instruction slots, with map relocations and the
// source position of each emitted instruction (for `.BTF.ext` line info).
import {
  asm,
  BPF_ADD,
  BPF_AND,
  BPF_ARSH,
  BPF_B,
  BPF_DIV,
  BPF_DW,
  BPF_CMPXCHG,
  BPF_FETCH,
  BPF_XCHG,
  BPF_H,
  BPF_JEQ,
  BPF_JGE,
  BPF_JGT,
  BPF_JLE,
  BPF_JLT,
  BPF_JNE,
  BPF_JSET,
  BPF_JSGE,
  BPF_JSGT,
  BPF_JSLE,
  BPF_JSLT,
  BPF_LSH,
  BPF_MOD,
  BPF_MUL,
  BPF_OR,
  BPF_PSEUDO_CALL,
  BPF_RSH,
  BPF_SUB,
  BPF_W,
  BPF_XOR,
  R0,
  R1,
  R5,
  R10,
  type Insn,
} from "../../obj/insn.js";
import type {
  CoreRef,
  AluOp,
  AtomicOp,
  Base,
  CmpOp,
  Func,
  Instr,
  Loc,
  Operand,
  Size,
  Terminator,
  VReg,
} from "../ir/ir.js";
import type { Allocation, Location } from "./regalloc.js";
import { Code, CompileError } from "../errors.js";
import { MAX_STACK } from "../limits.js";

export interface Selected {
  insns: Insn[];
  /** instruction index of each lddw that loads a map, and the map's name */
  mapRelocs: { insn: number; map: string }[];
  /** instruction index of each bpf-to-bpf call and the subprogram symbol it calls */
  callRelocs: { insn: number; fn: string }[];
  /** instruction index of each CO-RE relocated instruction and its relocation */
  coreRelos: { insn: number; core: CoreRef }[];
  /** instruction index of each lddw of an extern's address (`.kconfig`) and its symbol */
  externRelocs: { insn: number; symbol: string }[];
  /** instruction index of each lddw of a callback subprogram's address (`bpf_loop`) */
  funcRelocs: { insn: number; fn: string }[];
  /** instruction index → source position (first instruction of each IR instruction) */
  lines: { insn: number; loc: Loc }[];
  stackSize: number;
}

/** The shift operations, whose immediate count the kernel bounds to 0–63. */
const SHIFTS: ReadonlySet<string> = new Set(["lsh", "rsh", "arsh"]);
const ALU: Record<AluOp, number> = {
  add: BPF_ADD,
  sub: BPF_SUB,
  mul: BPF_MUL,
  div: BPF_DIV,
  mod: BPF_MOD,
  and: BPF_AND,
  or: BPF_OR,
  xor: BPF_XOR,
  lsh: BPF_LSH,
  rsh: BPF_RSH,
  arsh: BPF_ARSH,
};

const ATOMIC: Record<AtomicOp, number> = {
  add: BPF_ADD | BPF_FETCH,
  and: BPF_AND | BPF_FETCH,
  or: BPF_OR | BPF_FETCH,
  xor: BPF_XOR | BPF_FETCH,
  xchg: BPF_XCHG,
  cmpxchg: BPF_CMPXCHG,
};

const JMP: Record<CmpOp, number> = {
  eq: BPF_JEQ,
  ne: BPF_JNE,
  gt: BPF_JGT,
  ge: BPF_JGE,
  lt: BPF_JLT,
  le: BPF_JLE,
  sgt: BPF_JSGT,
  sge: BPF_JSGE,
  slt: BPF_JSLT,
  sle: BPF_JSLE,
  set: BPF_JSET,
};

const INVERSE: Partial<Record<CmpOp, CmpOp>> = {
  eq: "ne",
  ne: "eq",
  gt: "le",
  le: "gt",
  ge: "lt",
  lt: "ge",
  sgt: "sle",
  sle: "sgt",
  sge: "slt",
  slt: "sge",
};

const SIZE: Record<Size, number> = { 1: BPF_B, 2: BPF_H, 4: BPF_W, 8: BPF_DW };

const fitsS32 = (v: bigint) => v >= -(1n << 31n) && v < 1n << 31n;

/** Where frame slot `slot` starts, as a (negative) offset from r10. */
export function frameLayout(
  f: Func,
  spillSlots: number,
): { slotOff: number[]; spillOff: (i: number) => number; size: number } {
  const slotOff: number[] = [];
  let used = 0;
  for (const s of f.slots) {
    used += (s.size + 7) & ~7;
    const rounded = (s.size + s.align - 1) & -s.align;
    slotOff.push(s.align < 8 ? -used + 8 - rounded : -used);
  }
  const base = used;
  const size = base + spillSlots * 8;
  return { slotOff, spillOff: (i) => -(base + (i + 1) * 8), size };
}

/**
 * The parallel move of values arriving in registers (`from`) to their allocated locations:
 * spills first (they read registers only), then register moves in an order that reads every
 * register before it is overwritten, a cycle broken through r0 (free at entry).
 */
export function entryMoves(
  moves: { from: number; to: Location | undefined }[],
  out: Insn[],
  spillOff: (l: Location & { kind: "spill" }) => number,
): void {
  for (const m of moves)
    if (m.to?.kind === "spill") out.push(asm.stx(BPF_DW, R10, m.from, spillOff(m.to)));
  let pending = moves.flatMap((m) =>
    m.to?.kind === "reg" && m.to.reg !== m.from ? [{ from: m.from, to: m.to.reg }] : [],
  );
  while (pending.length > 0) {
    const ready = pending.find((m) => !pending.some((o) => o !== m && o.from === m.to));
    if (ready) {
      out.push(asm.mov64Reg(ready.to, ready.from));
      pending = pending.filter((m) => m !== ready);
      continue;
    }
    // every destination is still to be read: a cycle; park one source in r0
    const m = pending[0]!;
    out.push(asm.mov64Reg(R0, m.from));
    pending = pending.map((o) => (o.from === m.from ? { ...o, from: R0 } : o));
  }
}

export function select(
  f: Func,
  alloc: Allocation,
  node?: { file: string; line: number; col: number },
): Selected {
  const frame = frameLayout(f, alloc.spillSlots);
  if (frame.size > MAX_STACK) {
    const where = node ?? { file: f.name, line: 1, col: 1 };
    throw new CompileError(
      Code.StackTooLarge,
      `program ${f.name} needs ${frame.size} bytes of stack (${frame.size - alloc.spillSlots * 8} for values, ${alloc.spillSlots * 8} for spilled registers); eBPF allows ${MAX_STACK}. Move large values into a map or simplify the function`,
      where.file,
      where.line,
      where.col,
    );
  }
  const out: Insn[] = [];
  const mapRelocs: Selected["mapRelocs"] = [];
  const callRelocs: Selected["callRelocs"] = [];
  const coreRelos: Selected["coreRelos"] = [];
  const externRelocs: Selected["externRelocs"] = [];
  const funcRelocs: Selected["funcRelocs"] = [];
  const lines: Selected["lines"] = [];
  const blockAt: number[] = [];
  const fixups: { at: number; block: number }[] = [];

  const where = (v: VReg): Location => {
    const l = alloc.loc.get(v);
    if (!l) throw new Error(`internal: vreg v${v} has no location`);
    return l;
  };
  const spillOff = (l: Location & { kind: "spill" }) => frame.spillOff(l.index);

  /** A register holding `o`, loading into `scratch` when needed. */
  const use = (o: Operand, scratch: number): number => {
    if (o.kind === "imm") {
      if (fitsS32(o.value)) out.push(asm.mov64Imm(scratch, Number(o.value)));
      else out.push(...asm.lddw(scratch, o.value));
      return scratch;
    }
    const l = where(o.id);
    if (l.kind === "reg") return l.reg;
    out.push(asm.ldx(BPF_DW, scratch, R10, spillOff(l)));
    return scratch;
  };
  /** Copy operand `o` into register `r`. */
  const into = (r: number, o: Operand): void => {
    const x = use(o, r);
    if (x !== r) out.push(asm.mov64Reg(r, x));
  };
  /** The register to compute `v` in, and a finisher that stores it when spilled. */
  const defReg = (v: VReg): [number, () => void] => {
    const l = where(v);
    if (l.kind === "reg") return [l.reg, () => {}];
    return [R0, () => out.push(asm.stx(BPF_DW, R10, R0, spillOff(l)))];
  };
  const regOf = (o: Operand): number | undefined => {
    if (o.kind !== "reg") return undefined;
    const l = where(o.id);
    return l.kind === "reg" ? l.reg : undefined;
  };
  /** Base register and offset for memory at `b + off`. */
  const addr = (b: Base, off: number, scratch: number): [number, number] => {
    if (b.kind === "slot") return [R10, frame.slotOff[b.slot]! + off];
    return [use({ kind: "reg", id: b.id }, scratch), off];
  };

  const instr = (i: Instr): void => {
    switch (i.op) {
      case "mov": {
        const [d, fin] = defReg(i.dst);
        into(d, i.src);
        fin();
        return;
      }
      case "alu":
      case "alu32": {
        const w = i.op === "alu32";
        let [d, fin] = defReg(i.dst);
        // `x & 0xffffffff` is a zero-extension: `w_d = w_x`, one instruction (no lddw mask)
        if (!w && i.alu === "and" && i.b.kind === "imm" && i.b.value === 0xffffffffn) {
          if (i.a.kind === "imm") out.push(asm.mov32Imm(d, Number(BigInt.asIntN(32, i.a.value))));
          else out.push(asm.mov32Reg(d, use(i.a, d)));
          fin();
          return;
        }
        // `d = a op d` of a commutative op is `d op= a` (the verifier also accepts
        // `scalar += pointer`, the only pointer form of these).
        if (
          regOf(i.b) === d &&
          regOf(i.a) !== d &&
          (i.alu === "add" ||
            i.alu === "mul" ||
            i.alu === "and" ||
            i.alu === "or" ||
            i.alu === "xor")
        )
          i = { ...i, a: i.b, b: i.a };
        // Computing in d would clobber b before it is read: use r0 instead.
        if (regOf(i.b) === d && !(i.a.kind === "reg" && i.b.kind === "reg" && i.a.id === i.b.id)) {
          const spill = fin;
          const target = d;
          d = R0;
          fin = () => {
            out.push(asm.mov64Reg(target, R0));
            spill();
          };
        }
        into(d, i.a);
        if (i.b.kind === "imm" && SHIFTS.has(i.alu)) {
          // The IR's shift takes its count modulo the width, as the kernel runs a register
          // count (evalAlu); the verifier rejects an immediate count of the width or more,
          // which constant propagation can produce (`x >> (c ? 1 : 255)` with c known).
          const k = Number(i.b.value & (w ? 31n : 63n));
          out.push(w ? asm.alu32Imm(ALU[i.alu], d, k) : asm.alu64Imm(ALU[i.alu], d, k));
        } else if (i.b.kind === "imm" && (w || fitsS32(i.b.value))) {
          const k = Number(BigInt.asIntN(32, i.b.value));
          out.push(w ? asm.alu32Imm(ALU[i.alu], d, k) : asm.alu64Imm(ALU[i.alu], d, k));
        } else {
          const s = use(i.b, R5);
          out.push(w ? asm.alu32Reg(ALU[i.alu], d, s) : asm.alu64Reg(ALU[i.alu], d, s));
        }
        fin();
        return;
      }
      case "zext": {
        // `w_d = w_a`: one instruction, the upper half cleared
        const [d, fin] = defReg(i.dst);
        if (i.a.kind === "imm") out.push(asm.mov32Imm(d, Number(BigInt.asIntN(32, i.a.value))));
        else out.push(asm.mov32Reg(d, use(i.a, d)));
        fin();
        return;
      }
      case "neg": {
        const [d, fin] = defReg(i.dst);
        into(d, i.a);
        out.push(asm.neg64(d));
        fin();
        return;
      }
      case "bswap": {
        const [d, fin] = defReg(i.dst);
        into(d, i.a);
        out.push(asm.endian(d, i.bits, true));
        fin();
        return;
      }
      case "load": {
        const [d, fin] = defReg(i.dst);
        const [b, off] = addr(i.base, i.off, R5);
        if (i.core) coreRelos.push({ insn: out.length, core: i.core });
        out.push(asm.ldx(SIZE[i.size], d, b, off));
        fin();
        return;
      }
      case "core": {
        const [d, fin] = defReg(i.dst);
        coreRelos.push({ insn: out.length, core: i.core });
        out.push(asm.mov64Imm(d, Number(i.value)));
        fin();
        return;
      }
      case "funcaddr": {
        // `r = callback ll` relocated against `.text` (R_BPF_64_64, imm = the callback's byte
        // offset there, filled in by emit), as clang emits a static callback's address
        const [d, fin] = defReg(i.dst);
        funcRelocs.push({ insn: out.length, fn: i.fn });
        out.push(...asm.lddw(d, 0n));
        fin();
        return;
      }
      case "extern": {
        const [d, fin] = defReg(i.dst);
        externRelocs.push({ insn: out.length, symbol: i.symbol });
        out.push(...asm.lddw(d, 0n));
        fin();
        return;
      }
      case "store": {
        const [b, off] = addr(i.base, i.off, R5);
        const v = i.value;
        // a base in r0 (a helper's result) leaves r5 free for the value
        if (v.kind === "imm" && (i.size < 8 || fitsS32(v.value))) {
          out.push(asm.st(SIZE[i.size], b, off, Number(BigInt.asIntN(32, v.value))));
        } else out.push(asm.stx(SIZE[i.size], b, use(v, b === R0 ? R5 : R0), off));
        return;
      }
      case "atomicAdd": {
        const [b, off] = addr(i.base, i.off, R5);
        out.push(asm.atomic(SIZE[i.size], b, use(i.value, b === R0 ? R5 : R0), off, BPF_ADD));
        return;
      }
      case "atomic": {
        // r0 is free here (regalloc: every atomic needs it as scratch)
        const [b, off] = addr(i.base, i.off, R5);
        const size = SIZE[i.size];
        if (i.dst === undefined && i.rmw !== "xchg" && i.rmw !== "cmpxchg") {
          // the plain `lock` form: nothing fetched
          out.push(asm.atomic(size, b, use(i.value, R0), off, ATOMIC[i.rmw] & ~BPF_FETCH));
          return;
        }
        const l = i.dst === undefined ? undefined : where(i.dst);
        const d = l?.kind === "reg" && l.reg !== b ? l.reg : undefined;
        if (i.rmw === "cmpxchg") {
          // R0 holds the expected value in and the old value out
          into(R0, i.expected!);
          let src: number;
          if (i.value.kind === "reg" && where(i.value.id).kind === "reg")
            src = (where(i.value.id) as { reg: number }).reg;
          else if (d !== undefined) src = use(i.value, d);
          else if (b !== R5) src = use(i.value, R5);
          else
            throw new CompileError(
              Code.Limit,
              `program ${f.name}: too many values live at a compare-exchange; simplify the function`,
              f.name,
              1,
              1,
            );
          out.push(asm.atomic(size, b, src, off, ATOMIC.cmpxchg));
          if (l?.kind === "reg" && l.reg !== R0) out.push(asm.mov64Reg(l.reg, R0));
          else if (l?.kind === "spill") out.push(asm.stx(BPF_DW, R10, R0, spillOff(l)));
          return;
        }
        // the fetched old value replaces the operand in its register
        const r = d ?? R0;
        into(r, i.value);
        out.push(asm.atomic(size, b, r, off, ATOMIC[i.rmw]));
        if (r === R0 && l?.kind === "reg" && l.reg !== R0) out.push(asm.mov64Reg(l.reg, R0));
        else if (r === R0 && l?.kind === "spill") out.push(asm.stx(BPF_DW, R10, R0, spillOff(l)));
        return;
      }
      case "addr": {
        const [d, fin] = defReg(i.dst);
        out.push(asm.mov64Reg(d, R10));
        out.push(asm.alu64Imm(BPF_ADD, d, frame.slotOff[i.slot]! + i.off));
        fin();
        return;
      }
      case "mapfd": {
        const [d, fin] = defReg(i.dst);
        mapRelocs.push({ insn: out.length, map: i.map });
        out.push(...asm.ldMapFd(d));
        fin();
        return;
      }
      case "global": {
        // `r = var ll` as clang emits it: the loader turns it into a map value address.
        const [d, fin] = defReg(i.dst);
        mapRelocs.push({ insn: out.length, map: i.symbol });
        out.push(...asm.lddw(d, 0n));
        fin();
        return;
      }
      case "call": {
        i.args.forEach((a, k) => into(R1 + k, a));
        if (i.fn !== undefined) {
          // `call -1` relocated against the subprogram's symbol (R_BPF_64_32), as clang emits
          callRelocs.push({ insn: out.length, fn: i.fn });
          out.push({ ...asm.call(-1), src: BPF_PSEUDO_CALL });
        } else out.push(asm.call(i.helper));
        if (i.dst !== undefined) {
          const l = where(i.dst);
          if (l.kind === "reg") {
            if (l.reg !== R0) out.push(asm.mov64Reg(l.reg, R0));
          } else out.push(asm.stx(BPF_DW, R10, R0, spillOff(l)));
        }
        return;
      }
    }
  };

  const term = (t: Terminator, next: number | undefined): void => {
    switch (t.op) {
      case "ret":
        into(R0, t.value);
        out.push(asm.exit());
        return;
      case "jmp":
        if (t.target !== next) {
          fixups.push({ at: out.length, block: t.target });
          out.push(asm.ja(0));
        }
        return;
      case "br": {
        let { cond, t: yes, f: no } = t;
        const inv = INVERSE[cond];
        if (yes === next && inv) {
          cond = inv;
          [yes, no] = [no, yes];
        }
        const a = use(t.a, R0);
        const immB = t.b.kind === "imm" && fitsS32(t.b.value);
        const b = immB ? 0 : use(t.b, R5);
        fixups.push({ at: out.length, block: yes });
        if (immB) out.push(asm.jmpImm(JMP[cond], a, Number((t.b as { value: bigint }).value), 0));
        else out.push(asm.jmpReg(JMP[cond], a, b, 0));
        if (no !== next) {
          fixups.push({ at: out.length, block: no });
          out.push(asm.ja(0));
        }
        return;
      }
    }
  };

  // The context arrives in r1, a subprogram's arguments in r1…r5: move them where they live.
  entryMoves(
    (f.args ?? [f.ctx]).map((v, k) => ({ from: R1 + k, to: alloc.loc.get(v) })),
    out,
    spillOff,
  );
  f.blocks.forEach((b, k) => {
    blockAt[b.id] = out.length;
    for (const i of b.instrs) {
      if (i.loc) lines.push({ insn: out.length, loc: i.loc });
      instr(i);
    }
    if (b.term.loc) lines.push({ insn: out.length, loc: b.term.loc });
    term(b.term, f.blocks[k + 1]?.id);
  });
  // A move may have been elided for a fixup pointing past the last block; targets are blocks.
  for (const fx of fixups) {
    const target = blockAt[fx.block];
    if (target === undefined) throw new Error(`internal: jump to unknown block ${fx.block}`);
    const rel = target - (fx.at + 1);
    if (rel < -32768 || rel > 32767)
      throw new CompileError(
        Code.Limit,
        `program ${f.name} is too large: a jump spans ${rel} instructions`,
        f.name,
        1,
        1,
      );
    out[fx.at] = { ...out[fx.at]!, off: rel };
  }
  // Line info: one record per change of position, sorted, the first at instruction 0.
  const dedup: Selected["lines"] = [];
  for (const l of lines) {
    const last = dedup[dedup.length - 1];
    if (last && last.insn === l.insn) {
      continue;
    }
    if (
      last &&
      last.loc.line === l.loc.line &&
      last.loc.col === l.loc.col &&
      last.loc.file === l.loc.file
    )
      continue;
    dedup.push(l);
  }
  if (dedup.length > 0 && dedup[0]!.insn !== 0) dedup.unshift({ insn: 0, loc: dedup[0]!.loc });
  const tail = dedup.filter((l) => l.insn < out.length);
  return {
    insns: out,
    mapRelocs,
    callRelocs,
    coreRelos,
    externRelocs,
    funcRelocs,
    lines: tail,
    stackSize: frame.size,
  };
}
