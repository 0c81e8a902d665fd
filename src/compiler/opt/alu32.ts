// 32-bit ALU where its meaning is exactly the 64-bit code's: the last step of `optimize`.
//
// The IR computes in 64 bits; JavaScript's `>>>` (and `>>> 0`, a u32 truncation) is lowered as
// `t = x << 32; d = t >> (32 + n)`: the low 32 bits of x moved to the top and back down. That
// is what a 32-bit shift does in one instruction, zero-extending its result:
//   d = (x << 32) >> 32          →  w_d = w_x            (zext)
//   d = (x << 32) >> (32 + n)    →  w_d = w_x >> n       n a constant 0–31
//   d = (x << 32) >> (c + 32)    →  w_d = w_x >> w_c     c known to be 0–31 (`n & 31`)
// when t (and c + 32) have no other reader. The verifier tracks the 32-bit bounds of such
// results as well as the 64-bit ones (upper half known zero), as it does for clang's `w` code.
//
// It runs after every pass that reads `alu` (none of them knows alu32/zext) and before
// register allocation.
import {
  defOf,
  termUses,
  usesOf,
  type Func,
  type Instr,
  type Operand,
  type VReg,
} from "../ir/ir.js";
import { mayBeSet } from "./known-bits.js";

const isImm = (o: Operand, v: bigint): boolean => o.kind === "imm" && o.value === v;

export function narrowTo32(f: Func): boolean {
  const uses = new Map<VReg, number>();
  const defs = new Map<VReg, number>();
  for (const b of f.blocks) {
    for (const i of b.instrs) {
      for (const u of usesOf(i)) uses.set(u, (uses.get(u) ?? 0) + 1);
      const d = defOf(i);
      if (d !== undefined) defs.set(d, (defs.get(d) ?? 0) + 1);
    }
    for (const u of termUses(b.term)) uses.set(u, (uses.get(u) ?? 0) + 1);
  }
  const once = (v: VReg) => uses.get(v) === 1 && defs.get(v) === 1;
  let may: Map<VReg, bigint> | undefined;
  const below32 = (o: Operand): boolean => {
    if (o.kind === "imm") return o.value >= 0n && o.value < 32n;
    may ??= mayBeSet(f);
    const m = may.get(o.id);
    return m !== undefined && (m & ~31n) === 0n;
  };
  let changed = false;
  for (const b of f.blocks) {
    // in this block, still valid: t → x of `t = x << 32`; c2 → c of `c2 = c + 32`
    const shifted = new Map<VReg, Operand>();
    const plus32 = new Map<VReg, Operand>();
    const masked = new Map<VReg, Operand>(); // c → n of `c = n & 31`
    const dead = new Set<Instr>();
    const defAt = new Map<VReg, Instr>();
    b.instrs = b.instrs.map((i): Instr => {
      let out: Instr = i;
      if (i.op === "alu" && i.alu === "rsh" && i.a.kind === "reg" && once(i.a.id)) {
        const x = shifted.get(i.a.id);
        const loc = i.loc ? { loc: i.loc } : {};
        if (x !== undefined && i.b.kind === "imm" && i.b.value >= 32n && i.b.value < 64n) {
          out =
            i.b.value === 32n
              ? { op: "zext", dst: i.dst, a: x, ...loc }
              : {
                  op: "alu32",
                  alu: "rsh",
                  dst: i.dst,
                  a: x,
                  b: { kind: "imm", value: i.b.value - 32n },
                  ...loc,
                };
          dead.add(defAt.get(i.a.id)!);
        } else if (x !== undefined && i.b.kind === "reg" && once(i.b.id)) {
          const c = plus32.get(i.b.id);
          // c = n & 31 clears nothing when n is known to be 0–31 (`Number(v > K) << 4`)
          const n = c?.kind === "reg" && once(c.id) ? masked.get(c.id) : undefined;
          if (c !== undefined && n !== undefined && below32(n)) {
            out = { op: "alu32", alu: "rsh", dst: i.dst, a: x, b: n, ...loc };
            dead.add(defAt.get(i.a.id)!);
            dead.add(defAt.get(i.b.id)!);
            dead.add(defAt.get((c as { id: VReg }).id)!);
          } else if (c !== undefined && below32(c)) {
            out = { op: "alu32", alu: "rsh", dst: i.dst, a: x, b: c, ...loc };
            dead.add(defAt.get(i.a.id)!);
            dead.add(defAt.get(i.b.id)!);
          }
        }
      }
      const d = defOf(i);
      if (d !== undefined) {
        for (const [t, x] of shifted)
          if (t === d || (x.kind === "reg" && x.id === d)) shifted.delete(t);
        for (const m of [plus32, masked])
          for (const [t, c] of m) if (t === d || (c.kind === "reg" && c.id === d)) m.delete(t);
        defAt.set(d, i);
      }
      if (i.op === "alu" && i.dst !== (i.a.kind === "reg" ? i.a.id : -1)) {
        if (i.alu === "lsh" && isImm(i.b, 32n)) shifted.set(i.dst, i.a);
        if (i.alu === "add" && isImm(i.b, 32n)) plus32.set(i.dst, i.a);
        if (i.alu === "and" && isImm(i.b, 31n)) masked.set(i.dst, i.a);
      }
      if (out !== i) changed = true;
      return out;
    });
    if (dead.size > 0) b.instrs = b.instrs.filter((i) => !dead.has(i));
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
