// A model of how verifiers before Linux 6.8 bound the size argument of a helper call, for
// checking the code the compiler emits without booting an old kernel.
//
// Helpers that take a memory size (ARG_CONST_SIZE / ARG_CONST_SIZE_OR_ZERO) want the size
// register's unsigned range proven: at least 1 for ARG_CONST_SIZE and below BPF_MAX_VAR_SIZ.
// Old verifiers learn a range from `<`, `<=`, `>`, `>=` against a constant on both edges and
// from `==` / `!=` only on the edge where the register IS the constant: `if n != 0` tells
// them nothing about n on the taken edge (Linux 6.1 then rejects the call with "R4 min value
// is outside of the allowed memory range"). Newer verifiers also learn n >= 1 there, so a
// compiler tested only on a new kernel never notices.
//
// The model is a forward data flow over the CFG, joining ranges where paths meet — weaker
// than the path-sensitive verifier, never stronger, so a size it proves is proven there too.
import {
  BPF_ALU,
  BPF_ALU64,
  BPF_AND,
  BPF_DW,
  BPF_H,
  BPF_B,
  BPF_JMP,
  BPF_LD,
  BPF_LDX,
  BPF_MEM,
  BPF_ST,
  BPF_STX,
  BPF_X,
  type Insn,
} from "../../../src/obj/insn.js";

/** An unsigned 64-bit range [lo, hi]. */
export interface Range {
  lo: bigint;
  hi: bigint;
}

const U64_MAX = (1n << 64n) - 1n;
const U32_MAX = (1n << 32n) - 1n;
const FULL: Range = { lo: 0n, hi: U64_MAX };
const BPF_MAX_VAR_SIZ = 1n << 29n;

/** helper id → [size argument register, whether 0 is allowed] (include/uapi/linux/bpf.h). */
export const SIZED_HELPERS: ReadonlyMap<number, readonly [number, boolean]> = new Map([
  [4, [2, true]], // probe_read
  [25, [5, true]], // perf_event_output
  [26, [4, false]], // skb_load_bytes
  [45, [2, true]], // probe_read_str
  [112, [2, true]], // probe_read_user
  [113, [2, true]], // probe_read_kernel
  [114, [2, true]], // probe_read_user_str
  [115, [2, true]], // probe_read_kernel_str
  [130, [3, true]], // ringbuf_output
  [189, [4, false]], // xdp_load_bytes
]);

interface State {
  regs: Range[];
  /** 8-byte stack slots by offset from r10 */
  stack: Map<number, Range>;
}

const k = (v: bigint): Range => ({ lo: v, hi: v });
const u64 = (v: number | bigint) => BigInt.asUintN(64, BigInt(v));

function join(a: State, b: State): State {
  const regs = a.regs.map((r, i) => ({
    lo: r.lo < b.regs[i]!.lo ? r.lo : b.regs[i]!.lo,
    hi: r.hi > b.regs[i]!.hi ? r.hi : b.regs[i]!.hi,
  }));
  const stack = new Map<number, Range>();
  for (const [off, r] of a.stack) {
    const o = b.stack.get(off);
    if (o) stack.set(off, { lo: r.lo < o.lo ? r.lo : o.lo, hi: r.hi > o.hi ? r.hi : o.hi });
  }
  return { regs, stack };
}

const same = (a: State, b: State) =>
  a.regs.every((r, i) => r.lo === b.regs[i]!.lo && r.hi === b.regs[i]!.hi) &&
  a.stack.size === b.stack.size &&
  [...a.stack].every(([o, r]) => b.stack.get(o)?.lo === r.lo && b.stack.get(o)?.hi === r.hi);

/** The two edges of `if dst OP imm`: [taken, fall-through] ranges, null where impossible. */
function refine(op: number, r: Range, imm: bigint): [Range | null, Range | null] {
  const clip = (lo: bigint, hi: bigint) => (lo <= hi ? { lo, hi } : null);
  const max = (a: bigint, b: bigint) => (a > b ? a : b);
  const min = (a: bigint, b: bigint) => (a < b ? a : b);
  switch (op) {
    case 0x10: // JEQ: taken knows the value; fall-through learns nothing (old kernels)
      return [clip(max(r.lo, imm), min(r.hi, imm)), r];
    case 0x50: // JNE: the mirror image
      return [r, clip(max(r.lo, imm), min(r.hi, imm))];
    case 0x20: // JGT
      return [imm === U64_MAX ? null : clip(max(r.lo, imm + 1n), r.hi), clip(r.lo, min(r.hi, imm))];
    case 0x30: // JGE
      return [clip(max(r.lo, imm), r.hi), imm === 0n ? null : clip(r.lo, min(r.hi, imm - 1n))];
    case 0xa0: // JLT
      return [imm === 0n ? null : clip(r.lo, min(r.hi, imm - 1n)), clip(max(r.lo, imm), r.hi)];
    case 0xb0: // JLE
      return [clip(r.lo, min(r.hi, imm)), imm === U64_MAX ? null : clip(max(r.lo, imm + 1n), r.hi)];
    default: // signed compares, JSET: nothing learned in this model
      return [r, r];
  }
}

/** One sized helper call the model could not bound, with the range it had. */
export interface SizeProblem {
  pc: number;
  helper: number;
  reg: number;
  range: Range;
}

/**
 * Every sized helper call in `insns` whose size register the model cannot prove in range,
 * and how many sized calls it checked. Bpf-to-bpf calls are treated as clobbering r0–r5.
 */
export function checkHelperSizes(insns: readonly Insn[]): {
  problems: SizeProblem[];
  checked: number;
} {
  const states = new Map<number, State>();
  const work: number[] = [0];
  states.set(0, { regs: Array.from({ length: 11 }, () => FULL), stack: new Map() });
  const flow = (pc: number, s: State) => {
    const old = states.get(pc);
    const next = old ? join(old, s) : s;
    if (old && same(old, next)) return;
    states.set(pc, next);
    work.push(pc);
  };
  const problems = new Map<number, SizeProblem>();
  const sized = new Set<number>();
  for (let steps = 0; work.length > 0; steps++) {
    if (steps > insns.length * 64) throw new Error("helper-sizes: no fixed point (a loop?)");
    const pc = work.pop()!;
    const insn = insns[pc]!;
    const s: State = { regs: [...states.get(pc)!.regs], stack: new Map(states.get(pc)!.stack) };
    const cls = insn.code & 7;
    const op = insn.code & 0xf0;
    const size = insn.code & 0x18;
    if (cls === BPF_ALU64 || cls === BPF_ALU) {
      const wide = cls === BPF_ALU64;
      const src =
        insn.code & BPF_X ? s.regs[insn.src]! : k(wide ? u64(insn.imm) : u64(insn.imm >>> 0));
      let r: Range = wide ? FULL : { lo: 0n, hi: U32_MAX };
      if (op === 0xb0)
        r = wide || src.hi <= U32_MAX ? src : r; // MOV
      else if (op === BPF_AND)
        r = { lo: 0n, hi: s.regs[insn.dst]!.hi < src.hi ? s.regs[insn.dst]!.hi : src.hi };
      if (!wide && r.hi > U32_MAX) r = { lo: 0n, hi: U32_MAX };
      s.regs[insn.dst] = r;
      flow(pc + 1, s);
    } else if (cls === BPF_LDX && (insn.code & 0xe0) === BPF_MEM) {
      const slot = insn.src === 10 && size === BPF_DW ? s.stack.get(insn.off) : undefined;
      const bytes = size === BPF_B ? 1n : size === BPF_H ? 2n : size === BPF_DW ? 8n : 4n;
      s.regs[insn.dst] = slot ?? { lo: 0n, hi: (1n << (8n * bytes)) - 1n };
      flow(pc + 1, s);
    } else if (cls === BPF_ST || cls === BPF_STX) {
      if (insn.dst === 10) {
        const base = insn.off & ~7;
        if (size === BPF_DW && insn.off % 8 === 0)
          s.stack.set(insn.off, cls === BPF_STX ? s.regs[insn.src]! : k(u64(insn.imm)));
        else s.stack.delete(base);
      }
      flow(pc + 1, s);
    } else if (cls === BPF_LD) {
      s.regs[insn.dst] =
        insn.src === 0 ? k(u64(insn.imm >>> 0) | (u64(insns[pc + 1]!.imm >>> 0) << 32n)) : FULL;
      flow(pc + 2, s);
    } else if (cls === BPF_JMP && op === 0x80) {
      const arg = SIZED_HELPERS.get(insn.imm);
      if (insn.src === 0 && arg) {
        sized.add(pc);
        const [reg, zeroOk] = arg;
        const r = s.regs[reg]!;
        if (r.lo < (zeroOk ? 0n : 1n) || r.hi >= BPF_MAX_VAR_SIZ)
          problems.set(pc, { pc, helper: insn.imm, reg, range: r });
        else problems.delete(pc);
      }
      for (let i = 0; i <= 5; i++) s.regs[i] = FULL;
      flow(pc + 1, s);
    } else if (cls === BPF_JMP && op === 0x90) {
      // exit
    } else if (cls === BPF_JMP && op === 0x00) {
      flow(pc + 1 + insn.off, s);
    } else if (cls === BPF_JMP && !(insn.code & BPF_X)) {
      const [t, f] = refine(op, s.regs[insn.dst]!, u64(insn.imm));
      if (t)
        flow(pc + 1 + insn.off, {
          regs: s.regs.map((r, i) => (i === insn.dst ? t : r)),
          stack: s.stack,
        });
      if (f) flow(pc + 1, { regs: s.regs.map((r, i) => (i === insn.dst ? f : r)), stack: s.stack });
    } else {
      // register compares and JMP32: both edges, nothing learned
      if (cls === BPF_JMP || cls === 6) flow(pc + 1 + insn.off, s);
      flow(pc + 1, s);
    }
  }
  return { problems: [...problems.values()], checked: sized.size };
}
