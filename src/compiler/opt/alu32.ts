// 32-bit ALU where its meaning is exactly the 64-bit code's: the last step of `optimize`.
//
// The IR computes in 64 bits; JavaScript's `>>>` is lowered as `z = x & 0xffffffff;
// d = z >> (n & 31)` (lower/expressions.ts). A 32-bit shift does that in one instruction,
// zero-extending its result:
//   d = (x & 0xffffffff) >> c      →  w_d = w_x >> c     c a constant 0–31 or known to be
//                                                        (`n & 31`, or `Number(v > K) << 4`)
// when x still holds the value z was made from. A mask left alone is one `w_d = w_x` (isel).
// The verifier tracks the 32-bit bounds of such results as well as the 64-bit ones (upper
// half known zero), as it does for clang's `w` code.
//
// It runs after every pass that reads `alu` (none of them knows alu32/zext) and before
// register allocation.
import {
  defOf,
  entryVregs,
  termUses,
  usesOf,
  type Func,
  type Instr,
  type Operand,
  type VReg,
} from "../ir/ir.js";
import { mayBeSet } from "./known-bits.js";

const U32 = 0xffffffffn;
const isImm = (o: Operand, v: bigint): boolean => o.kind === "imm" && o.value === v;

export function narrowTo32(f: Func): boolean {
  const uses = new Map<VReg, number>();
  const defs = new Map<VReg, number>();
  const single = new Map<VReg, Instr>();
  for (const b of f.blocks) {
    for (const i of b.instrs) {
      for (const u of usesOf(i)) uses.set(u, (uses.get(u) ?? 0) + 1);
      const d = defOf(i);
      if (d !== undefined) {
        defs.set(d, (defs.get(d) ?? 0) + 1);
        single.set(d, i);
      }
    }
    for (const u of termUses(b.term)) uses.set(u, (uses.get(u) ?? 0) + 1);
  }
  for (const [v, n] of defs) if (n !== 1) single.delete(v);
  const entry = new Set(entryVregs(f));
  /** a value that never changes: defined once, or at entry only */
  const stable = (o: Operand): boolean =>
    o.kind === "imm" || (entry.has(o.id) ? !defs.has(o.id) : defs.get(o.id) === 1);
  let may: Map<VReg, bigint> | undefined;
  const below32 = (o: Operand): boolean => {
    if (o.kind === "imm") return o.value >= 0n && o.value < 32n;
    may ??= mayBeSet(f);
    const m = may.get(o.id);
    return m !== undefined && (m & ~31n) === 0n;
  };
  /** `v & mask` defined once (anywhere) with a stable v, or earlier in this block (`local`) */
  const maskOf = (o: Operand, mask: bigint, local: Map<VReg, Operand>): Operand | undefined => {
    if (o.kind !== "reg") return undefined;
    const l = local.get(o.id);
    if (l !== undefined) return l;
    const i = single.get(o.id);
    return i?.op === "alu" && i.alu === "and" && isImm(i.b, mask) && stable(i.a) ? i.a : undefined;
  };
  let changed = false;
  for (const b of f.blocks) {
    // in this block, still valid: z → x of `z = x & 0xffffffff`; c → n of `c = n & 31`
    const low32 = new Map<VReg, Operand>();
    const low5 = new Map<VReg, Operand>();
    b.instrs = b.instrs.map((i): Instr => {
      let out: Instr = i;
      if (i.op === "alu" && i.alu === "rsh") {
        const x = maskOf(i.a, U32, low32);
        // c = n & 31 clears nothing when n is known to be 0–31 (`Number(v > K) << 4`)
        const n = maskOf(i.b, 31n, low5);
        const count = n !== undefined && below32(n) ? n : below32(i.b) ? i.b : undefined;
        if (x !== undefined && count !== undefined)
          out = {
            op: "alu32",
            alu: "rsh",
            dst: i.dst,
            a: x,
            b: count,
            ...(i.loc ? { loc: i.loc } : {}),
          };
      }
      const d = defOf(i);
      if (d !== undefined)
        for (const m of [low32, low5])
          for (const [t, c] of m) if (t === d || (c.kind === "reg" && c.id === d)) m.delete(t);
      if (i.op === "alu" && i.alu === "and" && i.a.kind === "reg" && i.a.id !== i.dst) {
        if (isImm(i.b, U32)) low32.set(i.dst, i.a);
        if (isImm(i.b, 31n)) low5.set(i.dst, i.a);
      }
      if (out !== i) changed = true;
      return out;
    });
  }
  if (!changed) return false;
  // masks no longer read (their shift reads the unmasked value now) go
  for (let again = true; again;) {
    again = false;
    const read = new Set<VReg>();
    for (const b of f.blocks) {
      for (const i of b.instrs) for (const u of usesOf(i)) read.add(u);
      for (const u of termUses(b.term)) read.add(u);
    }
    for (const b of f.blocks)
      b.instrs = b.instrs.filter((i) => {
        const dead =
          i.op === "alu" &&
          i.alu === "and" &&
          (isImm(i.b, U32) || isImm(i.b, 31n)) &&
          !read.has(i.dst);
        if (dead) again = true;
        return !dead;
      });
  }
  uses.clear();
  for (const b of f.blocks) {
    for (const i of b.instrs) for (const u of usesOf(i)) uses.set(u, (uses.get(u) ?? 0) + 1);
    for (const u of termUses(b.term)) uses.set(u, (uses.get(u) ?? 0) + 1);
  }
  for (const b of f.blocks) {
    // `d = w op …; v = d` (a `let` updated by `v >>>= n`), d read only later in this block
    // while v keeps that value: `v = w op …`, and those reads read v.
    for (let k = 0; k + 1 < b.instrs.length; k++) {
      const i = b.instrs[k]!;
      const m = b.instrs[k + 1]!;
      if (
        !(i.op === "alu32" || i.op === "zext") ||
        m.op !== "mov" ||
        m.src.kind !== "reg" ||
        m.src.id !== i.dst ||
        m.dst === i.dst ||
        defs.get(i.dst) !== 1
      )
        continue;
      const d = i.dst;
      const v = m.dst;
      const rest = b.instrs.slice(k + 2);
      let seen = 1;
      for (const x of rest) seen += usesOf(x).filter((u) => u === d).length;
      seen += termUses(b.term).filter((u) => u === d).length;
      if (seen !== uses.get(d) || rest.some((x) => defOf(x) === v)) continue;
      const to = (o: Operand): Operand =>
        o.kind === "reg" && o.id === d ? { kind: "reg", id: v } : o;
      b.instrs.splice(k, 2, { ...i, dst: v }, ...rest.map((x) => renameUses(x, to)));
      b.instrs.length = k + 1 + rest.length;
      if (b.term.op === "br") b.term = { ...b.term, a: to(b.term.a), b: to(b.term.b) };
      else if (b.term.op === "ret") b.term = { ...b.term, value: to(b.term.value) };
      k--;
    }
  }
  return changed;
}

/** `i` with each operand passed through `to` (bases too). */
function renameUses(i: Instr, to: (o: Operand) => Operand): Instr {
  const base = <B extends { kind: string }>(b: B): B =>
    b.kind === "reg" ? ({ ...b, id: (to(b as unknown as Operand) as { id: VReg }).id } as B) : b;
  switch (i.op) {
    case "mov":
      return { ...i, src: to(i.src) };
    case "alu":
    case "alu32":
      return { ...i, a: to(i.a), b: to(i.b) };
    case "neg":
    case "bswap":
    case "zext":
      return { ...i, a: to(i.a) };
    case "load":
      return { ...i, base: base(i.base) };
    case "store":
    case "atomicAdd":
      return { ...i, base: base(i.base), value: to(i.value) };
    case "atomic":
      return {
        ...i,
        base: base(i.base),
        value: to(i.value),
        ...(i.expected ? { expected: to(i.expected) } : {}),
      };
    case "call":
      return { ...i, args: i.args.map(to) };
    default:
      return i;
  }
}
