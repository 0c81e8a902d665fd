// Demanded bits: truncations whose cleared bits nobody reads.
//
// `x >>> 0` (and u32 arithmetic generally) zero-extends after every step: two instructions
// (`<<= 32; >>= 32`) on a 64-bit register. The low n bits of add, sub, mul, neg and a left
// shift depend only on the low n bits of their inputs (and, or, xor bit by bit), so when every
// reader of a truncated value only looks at its low half — a 4-byte store (the key of a u32 map,
// a struct field), or more such arithmetic ending there — the truncation changes nothing that
// is read, and the value is used as it is. clang does the same with `__u32 h = (h ^ b) * P`
// ending in a 4-byte store.
import { defOf, termUses, type Func, type Instr, type Operand, type VReg } from "../ir/ir.js";

const ALL = (1n << 64n) - 1n;
/** Bits 0..k-1. */
const low = (k: number): bigint => (k >= 64 ? ALL : (1n << BigInt(k)) - 1n);
/** Bits 0..msb(d): what carries into the demanded bits of a sum or product come from. */
const upTo = (d: bigint): bigint => (d === 0n ? 0n : low(d.toString(2).length));
const shiftCount = (o: Operand): number | undefined =>
  o.kind === "imm" && o.value >= 0n && o.value < 64n ? Number(o.value) : undefined;

/** The bits of each operand vreg `i` reads, given the bits of its result that are read. */
function operandDemand(i: Instr, d: bigint): [VReg, bigint][] {
  const r = (o: Operand, m: bigint): [VReg, bigint][] => (o.kind === "reg" ? [[o.id, m]] : []);
  const base = (b: { kind: string; id?: number }): [VReg, bigint][] =>
    b.kind === "reg" ? [[b.id!, ALL]] : [];
  switch (i.op) {
    case "mov":
      return r(i.src, d);
    case "neg":
      return r(i.a, upTo(d));
    case "bswap":
      return r(i.a, i.bits === 64 ? ALL : low(i.bits));
    case "zext":
      return r(i.a, low(32));
    case "alu32":
      return [...r(i.a, low(32)), ...r(i.b, low(32))];
    case "load":
      return base(i.base);
    case "store":
    case "atomicAdd":
      return [...base(i.base), ...r(i.value, low(i.size * 8))];
    case "atomic":
      return [
        ...base(i.base),
        ...r(i.value, low(i.size * 8)),
        ...(i.expected ? r(i.expected, low(i.size * 8)) : []),
      ];
    case "call":
      return i.args.flatMap((a) => r(a, ALL));
    case "addr":
    case "mapfd":
    case "global":
    case "core":
    case "extern":
    case "funcaddr":
      return [];
    case "alu": {
      switch (i.alu) {
        case "add":
        case "sub":
        case "mul":
          return [...r(i.a, upTo(d)), ...r(i.b, upTo(d))];
        case "and":
          return [
            ...r(i.a, i.b.kind === "imm" ? d & BigInt.asUintN(64, i.b.value) : d),
            ...r(i.b, i.a.kind === "imm" ? d & BigInt.asUintN(64, i.a.value) : d),
          ];
        case "or":
        case "xor":
          return [...r(i.a, d), ...r(i.b, d)];
        case "lsh": {
          const c = shiftCount(i.b);
          return [...r(i.a, c === undefined ? upTo(d) : d >> BigInt(c)), ...r(i.b, ALL)];
        }
        case "rsh": {
          const c = shiftCount(i.b);
          return [...r(i.a, c === undefined ? ALL : (d << BigInt(c)) & ALL), ...r(i.b, ALL)];
        }
        default:
          return [...r(i.a, ALL), ...r(i.b, ALL)];
      }
    }
  }
}

/**
 * The bits of every vreg that some reader needs (least fixed point: branches, returns, call
 * arguments and addresses read everything; stores their width; arithmetic what its result's
 * readers pass back).
 */
export function demandedBits(f: Func): Map<VReg, bigint> {
  const demand = new Map<VReg, bigint>();
  // A worklist over definitions: when a vreg's demand grows, only the instructions defining it
  // pass more demand on (a round-robin sweep needed one pass per link of a def-use chain).
  const defs = new Map<VReg, Instr[]>();
  const work: VReg[] = [];
  const add = (v: VReg, m: bigint): void => {
    const old = demand.get(v) ?? 0n;
    if ((old | m) === old) return;
    demand.set(v, old | m);
    work.push(v);
  };
  const visit = (i: Instr): void => {
    const d = defOf(i);
    for (const [v, m] of operandDemand(i, d === undefined ? 0n : (demand.get(d) ?? 0n))) add(v, m);
  };
  for (const b of f.blocks) {
    for (const i of b.instrs) {
      const d = defOf(i);
      if (d !== undefined) {
        const list = defs.get(d);
        if (list) list.push(i);
        else defs.set(d, [i]);
      }
      visit(i);
    }
    for (const v of termUses(b.term)) add(v, ALL);
  }
  for (let v = work.pop(); v !== undefined; v = work.pop())
    for (const i of defs.get(v) ?? []) visit(i);
  return demand;
}

const isImm = (o: Operand, v: bigint): boolean => o.kind === "imm" && o.value === v;

/**
 * `d = (x << 32) >> 32` and `d = x & K` become `d = x` when no reader of d needs a bit the
 * truncation clears. The shift pair must be in one block with x unchanged between (x may be a
 * join value redefined later); copy propagation and dead-code elimination remove the rest.
 */
export function dropUnreadTruncations(f: Func): boolean {
  const demand = demandedBits(f);
  const read = (v: VReg): bigint => demand.get(v) ?? 0n;
  let changed = false;
  for (const b of f.blocks) {
    const shifted = new Map<VReg, VReg>(); // t → x for `t = x << 32` still valid here
    b.instrs = b.instrs.map((i) => {
      let out = i;
      if (i.op === "alu") {
        const loc = i.loc && { loc: i.loc };
        const x = i.a.kind === "reg" ? shifted.get(i.a.id) : undefined;
        if (
          i.alu === "rsh" &&
          isImm(i.b, 32n) &&
          x !== undefined &&
          (read(i.dst) & ~low(32)) === 0n
        )
          out = { op: "mov", dst: i.dst, src: { kind: "reg", id: x }, ...loc };
        else if (
          i.alu === "and" &&
          i.a.kind === "reg" &&
          i.b.kind === "imm" &&
          (read(i.dst) & ~BigInt.asUintN(64, i.b.value)) === 0n
        )
          out = { op: "mov", dst: i.dst, src: i.a, ...loc };
      }
      const d = defOf(i);
      if (d !== undefined) for (const [t, x] of shifted) if (t === d || x === d) shifted.delete(t);
      if (
        i.op === "alu" &&
        i.alu === "lsh" &&
        isImm(i.b, 32n) &&
        i.a.kind === "reg" &&
        i.a.id !== i.dst
      )
        shifted.set(i.dst, i.a.id);
      if (out !== i) changed = true;
      return out;
    });
  }
  return changed;
}
