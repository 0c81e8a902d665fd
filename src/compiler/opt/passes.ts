// IR clean-up passes: unreachable-block removal (the verifier rejects unreachable code),
// constant folding with branch folding, copy propagation, dead code elimination.
//
// Vregs with several definitions (joins) are never folded or propagated: only a vreg defined
// exactly once has one value. Memory bases stay registers (eBPF addresses through registers).
import {
  defOf,
  hasSideEffect,
  imm,
  successors,
  swapBytes,
  retarget,
  termUses,
  usesOf,
  type Base,
  type Block,
  type CmpOp,
  type Func,
  type Instr,
  type Operand,
  type Terminator,
  type VReg,
} from "../ir/ir.js";
import {
  cloneDecidedPaths,
  compareRawFields,
  irSize,
  eliminateDeadDefs,
  layoutBlocks,
  mergeIdenticalBlocks,
  propagateFacts,
  threadKnownBranches,
} from "./thread.js";
import { eliminateCommonSubexpressions, eliminateRedundantStores } from "./redundancy.js";
import { dropUnreadTruncations } from "./demanded.js";

export function optimize(f: Func): Func {
  simplify(f);
  const limit = irSize(f) + 4; // path copies may grow the function this much in total
  for (let k = 0; k < 16 && cloneDecidedPaths(f, simplify, limit); k++);
  removeUnreachable(f);
  layoutBlocks(f);
  return f;
}

/** The clean-up passes of `simplify`, in the order each round runs them. */
const CLEANUPS: readonly ((f: Func) => boolean)[] = [
  removeUnreachable,
  foldConstants,
  propagateCopies,
  propagateLocally,
  duplicateReturns,
  propagateFacts,
  mergeIdenticalBlocks,
  eliminateCommonSubexpressions,
  eliminateRedundantStores,
  eliminateDeadCode,
  threadJumps,
  threadKnownBranches,
  compareRawFields,
  dropUnreadTruncations,
  eliminateDeadDefs,
];

/**
 * The clean-up passes, repeated until nothing changes (at most 8 rounds). A pass is a
 * deterministic function of the IR that leaves it as it was when it reports no change, so once
 * every pass has run on the current IR without a change the rounds are over: the final round
 * stops at the last pass that changed something instead of running all of them again.
 */
export function simplify(f: Func): void {
  const n = CLEANUPS.length;
  let quiet = 0; // passes run in a row without a change
  for (let round = 0; round < 8 && quiet < n; round++) {
    let changed = false;
    for (let k = 0; k < n && quiet < n; k++) {
      if (CLEANUPS[k]!(f)) {
        changed = true;
        quiet = 0;
      } else quiet++;
    }
    if (!changed) break;
  }
  removeUnreachable(f);
}
/** Drop blocks not reachable from the entry and renumber the rest in order. */
export function removeUnreachable(f: Func): boolean {
  const seen = new Set<number>([0]);
  const work = [0];
  while (work.length) {
    const b = f.blocks[work.pop()!]!;
    for (const s of successors(b.term))
      if (!seen.has(s)) {
        seen.add(s);
        work.push(s);
      }
  }
  if (seen.size === f.blocks.length) return false;
  const kept = f.blocks.filter((b) => seen.has(b.id));
  const map = new Map<number, number>();
  kept.forEach((b, i) => map.set(b.id, i));
  for (const b of kept) {
    b.id = map.get(b.id)!;
    retarget(b.term, (id) => map.get(id)!);
  }
  f.blocks = kept;
  return true;
}

function defCounts(f: Func): Map<VReg, number> {
  const n = new Map<VReg, number>([[f.ctx, 1]]);
  for (const b of f.blocks)
    for (const i of b.instrs) {
      const d = defOf(i);
      if (d !== undefined) n.set(d, (n.get(d) ?? 0) + 1);
    }
  return n;
}

const s64 = (v: bigint) => BigInt.asIntN(64, v);
const u64 = (v: bigint) => BigInt.asUintN(64, v);

export function evalAlu(op: string, a: bigint, b: bigint): bigint {
  switch (op) {
    case "add":
      return s64(a + b);
    case "sub":
      return s64(a - b);
    case "mul":
      return s64(a * b);
    case "div":
      return b === 0n ? 0n : s64(u64(a) / u64(b));
    case "mod":
      return b === 0n ? a : s64(u64(a) % u64(b));
    case "and":
      return s64(a & b);
    case "or":
      return s64(a | b);
    case "xor":
      return s64(a ^ b);
    case "lsh":
      return s64(a << (b & 63n));
    case "rsh":
      return s64(u64(a) >> (b & 63n));
    case "arsh":
      return s64(a) >> (b & 63n);
  }
  throw new Error(`internal: unknown alu op ${op}`);
}

export function evalCmp(c: CmpOp, a: bigint, b: bigint): boolean {
  switch (c) {
    case "eq":
      return s64(a) === s64(b);
    case "ne":
      return s64(a) !== s64(b);
    case "gt":
      return u64(a) > u64(b);
    case "ge":
      return u64(a) >= u64(b);
    case "lt":
      return u64(a) < u64(b);
    case "le":
      return u64(a) <= u64(b);
    case "sgt":
      return s64(a) > s64(b);
    case "sge":
      return s64(a) >= s64(b);
    case "slt":
      return s64(a) < s64(b);
    case "sle":
      return s64(a) <= s64(b);
    case "set":
      return (a & b) !== 0n;
  }
}

/** Replace single-def constant vregs by their value; fold ALU ops and branches on constants. */
export function foldConstants(f: Func): boolean {
  let changed = false;
  const defs = defCounts(f);
  const consts = new Map<VReg, bigint>();
  for (const b of f.blocks)
    for (const i of b.instrs)
      if (i.op === "mov" && i.src.kind === "imm" && defs.get(i.dst) === 1)
        consts.set(i.dst, i.src.value);
  // Bits a single-def vreg can have set: loads and byte swaps zero-extend.
  const only = new Map<VReg, Instr>();
  for (const b of f.blocks)
    for (const i of b.instrs) {
      const d = defOf(i);
      if (d !== undefined && defs.get(d) === 1) only.set(d, i);
    }
  const widthOf = (v: VReg): number => {
    const i = only.get(v);
    if (i?.op === "load") return i.size * 8;
    if (i?.op === "bswap") return i.bits;
    return 64;
  };
  const sub = (o: Operand): Operand => {
    if (o.kind === "reg" && consts.has(o.id)) {
      changed = true;
      return imm(consts.get(o.id)!);
    }
    return o;
  };
  for (const b of f.blocks) {
    b.instrs = b.instrs.map((i): Instr => {
      switch (i.op) {
        case "mov":
          return { ...i, src: sub(i.src) };
        case "alu": {
          const a = sub(i.a);
          const bb = sub(i.b);
          if (a.kind === "imm" && bb.kind === "imm") {
            changed = true;
            return {
              op: "mov",
              dst: i.dst,
              src: imm(evalAlu(i.alu, a.value, bb.value)),
              ...(i.loc ? { loc: i.loc } : {}),
            };
          }
          // The verifier rejects a division by the constant 0; its defined result is folded:
          // x / 0 is 0 and x % 0 is x.
          if (bb.kind === "imm" && bb.value === 0n && (i.alu === "div" || i.alu === "mod")) {
            changed = true;
            return {
              op: "mov",
              dst: i.dst,
              src: i.alu === "div" ? imm(0) : a,
              ...(i.loc ? { loc: i.loc } : {}),
            };
          }
          // x & K is x when x's set bits are all within K (a zero-extending load or swap)
          if (i.alu === "and" && bb.kind === "imm" && a.kind === "reg") {
            const w = widthOf(a.id);
            if (w < 64 && (u64(bb.value) & ((1n << BigInt(w)) - 1n)) === (1n << BigInt(w)) - 1n) {
              changed = true;
              return { op: "mov", dst: i.dst, src: a, ...(i.loc ? { loc: i.loc } : {}) };
            }
          }
          // x + 0, x | 0, x - 0 … are copies
          if (
            bb.kind === "imm" &&
            bb.value === 0n &&
            ["add", "sub", "or", "xor", "lsh", "rsh", "arsh"].includes(i.alu)
          ) {
            changed = true;
            return { op: "mov", dst: i.dst, src: a, ...(i.loc ? { loc: i.loc } : {}) };
          }
          return { ...i, a, b: bb };
        }
        case "neg": {
          const a = sub(i.a);
          if (a.kind === "imm")
            return { op: "mov", dst: i.dst, src: imm(-a.value), ...(i.loc ? { loc: i.loc } : {}) };
          return { ...i, a };
        }
        case "bswap": {
          const a = sub(i.a);
          if (a.kind === "imm")
            return {
              op: "mov",
              dst: i.dst,
              src: imm(swapBytes(a.value, i.bits)),
              ...(i.loc ? { loc: i.loc } : {}),
            };
          return { ...i, a };
        }
        case "store":
        case "atomicAdd":
          return { ...i, value: sub(i.value) };
        case "call":
          return { ...i, args: i.args.map(sub) };
        default:
          return i;
      }
    });
    const t = b.term;
    if (t.op === "br") {
      const a = sub(t.a);
      const bb = sub(t.b);
      if (a.kind === "imm" && bb.kind === "imm") {
        b.term = {
          op: "jmp",
          target: evalCmp(t.cond, a.value, bb.value) ? t.t : t.f,
          ...(t.loc ? { loc: t.loc } : {}),
        };
        changed = true;
      } else if (t.t === t.f) {
        b.term = { op: "jmp", target: t.t, ...(t.loc ? { loc: t.loc } : {}) };
        changed = true;
      } else b.term = { ...t, a, b: bb };
    } else if (t.op === "ret") b.term = { ...t, value: sub(t.value) };
  }
  return changed;
}

/** `d = mov s` with both single-def: uses of d read s instead. */
export function propagateCopies(f: Func): boolean {
  const defs = defCounts(f);
  const alias = new Map<VReg, VReg>();
  for (const b of f.blocks)
    for (const i of b.instrs)
      if (
        i.op === "mov" &&
        i.src.kind === "reg" &&
        defs.get(i.dst) === 1 &&
        defs.get(i.src.id) === 1 &&
        i.dst !== i.src.id
      )
        alias.set(i.dst, i.src.id);
  if (alias.size === 0) return false;
  const root = (v: VReg): VReg => {
    let r = v;
    for (let n = 0; alias.has(r) && n < 1000; n++) r = alias.get(r)!;
    return r;
  };
  let changed = false;
  const op = (o: Operand): Operand => {
    if (o.kind === "reg" && alias.has(o.id)) {
      changed = true;
      return { kind: "reg", id: root(o.id) };
    }
    return o;
  };
  const base = <B extends { kind: string }>(b: B): B =>
    b.kind === "reg" ? (op(b as unknown as Operand) as unknown as B) : b;
  for (const b of f.blocks) {
    b.instrs = b.instrs.map((i): Instr => {
      switch (i.op) {
        case "mov":
          return { ...i, src: op(i.src) };
        case "alu":
          return { ...i, a: op(i.a), b: op(i.b) };
        case "neg":
        case "bswap":
          return { ...i, a: op(i.a) };
        case "load":
          return { ...i, base: base(i.base) };
        case "store":
        case "atomicAdd":
          return { ...i, base: base(i.base), value: op(i.value) };
        case "call":
          return { ...i, args: i.args.map(op) };
        default:
          return i;
      }
    });
    const t: Terminator = b.term;
    if (t.op === "br") b.term = { ...t, a: op(t.a), b: op(t.b) };
    else if (t.op === "ret") b.term = { ...t, value: op(t.value) };
  }
  return changed;
}

/** Remove definitions nobody reads (calls stay, without their result). */
export function eliminateDeadCode(f: Func): boolean {
  let changed = false;
  for (;;) {
    const used = new Set<VReg>();
    for (const b of f.blocks) {
      for (const i of b.instrs) for (const u of usesOf(i)) used.add(u);
      for (const u of termUses(b.term)) used.add(u);
    }
    let removed = false;
    for (const b of f.blocks) {
      b.instrs = b.instrs.filter((i) => {
        const d = defOf(i);
        if (d === undefined || used.has(d)) return true;
        if (i.op === "call") {
          if (i.dst !== undefined) {
            i.dst = undefined;
            removed = true;
          }
          return true;
        }
        if (hasSideEffect(i)) return true;
        removed = true;
        return false;
      });
    }
    if (!removed) break;
    changed = true;
  }
  return changed;
}

/**
 * Jumps to empty blocks that only jump on go straight to the final target, and a branch going
 * to the same block either way is a jump: its compare decides nothing (an IPv6 bounds check
 * whose outcomes both return the same verdict).
 */
export function threadJumps(f: Func): boolean {
  let changed = sameTargetBranches(f);
  const forward = new Map<number, number>();
  for (const b of f.blocks)
    if (b.instrs.length === 0 && b.term.op === "jmp" && b.term.target !== b.id)
      forward.set(b.id, b.term.target);
  if (forward.size === 0) return changed;
  const final = (id: number): number => {
    let x = id;
    for (let n = 0; forward.has(x) && n < 64; n++) x = forward.get(x)!;
    return x;
  };
  const follow = (id: number): number => {
    const r = final(id);
    if (r !== id) changed = true;
    return r;
  };
  for (const b of f.blocks) retarget(b.term, follow);
  return sameTargetBranches(f) || changed;
}

function sameTargetBranches(f: Func): boolean {
  let changed = false;
  for (const b of f.blocks) {
    const t = b.term;
    if (t.op === "br" && t.t === t.f) {
      b.term = { op: "jmp", target: t.t, ...(t.loc && { loc: t.loc }) };
      changed = true;
    }
  }
  return changed;
}

export type { Block };

/** Substitute `env`'s known values into an instruction's operands (bases only by registers). */
function substitute(i: Instr, env: Map<VReg, Operand>): [Instr, boolean] {
  let hit = false;
  const op = (o: Operand): Operand => {
    const r = o.kind === "reg" ? env.get(o.id) : undefined;
    if (!r) return o;
    hit = true;
    return r;
  };
  const base = <B extends Base>(b: B): B => {
    const r = b.kind === "reg" ? env.get(b.id) : undefined;
    if (!r || r.kind !== "reg") return b;
    hit = true;
    return { kind: "reg", id: r.id } as B;
  };
  let out: Instr;
  switch (i.op) {
    case "mov":
      out = { ...i, src: op(i.src) };
      break;
    case "alu":
      out = { ...i, a: op(i.a), b: op(i.b) };
      break;
    case "neg":
    case "bswap":
      out = { ...i, a: op(i.a) };
      break;
    case "load":
      out = { ...i, base: base(i.base) };
      break;
    case "store":
    case "atomicAdd":
      out = { ...i, base: base(i.base), value: op(i.value) };
      break;
    case "call":
      out = { ...i, args: i.args.map(op) };
      break;
    default:
      out = i;
  }
  return [hit ? out : i, hit];
}

/** Record `i`'s effect on the block-local value map: a move makes its target known. */
function localStep(env: CopyEnv, i: Instr): void {
  const d = defOf(i);
  if (d === undefined) return;
  env.delete(d);
  const copies = env.copiesOf.get(d);
  if (copies) for (const v of [...copies]) env.delete(v);
  if (i.op === "mov" && !(i.src.kind === "reg" && i.src.id === d)) env.set(d, i.src);
}

/**
 * The block-local value map, with the vregs holding a copy of each vreg indexed, so that a
 * redefinition forgets its copies without scanning the map (linear in the block, not quadratic).
 */
class CopyEnv extends Map<VReg, Operand> {
  readonly copiesOf = new Map<VReg, Set<VReg>>();
  override set(v: VReg, o: Operand): this {
    this.delete(v);
    super.set(v, o);
    if (o.kind === "reg") {
      const s = this.copiesOf.get(o.id);
      if (s) s.add(v);
      else this.copiesOf.set(o.id, new Set([v]));
    }
    return this;
  }
  override delete(v: VReg): boolean {
    const o = this.get(v);
    if (o === undefined) return false;
    if (o.kind === "reg") this.copiesOf.get(o.id)?.delete(v);
    return super.delete(v);
  }
}

/**
 * Constant and copy propagation inside each block, also for vregs with several definitions
 * (joins), which the global passes leave alone: `v = 0; … ret v` returns 0 directly.
 */
export function propagateLocally(f: Func): boolean {
  let changed = false;
  for (const b of f.blocks) {
    const env = new CopyEnv();
    b.instrs = b.instrs.map((i) => {
      const [out, hit] = substitute(i, env);
      if (hit) changed = true;
      localStep(env, out);
      return out;
    });
    if (env.size === 0) continue;
    const t = b.term;
    const op = (o: Operand): Operand => (o.kind === "reg" ? (env.get(o.id) ?? o) : o);
    if (t.op === "br") {
      const [a, bb] = [op(t.a), op(t.b)];
      if (a !== t.a || bb !== t.b) {
        b.term = { ...t, a, b: bb };
        changed = true;
      }
    } else if (t.op === "ret" && op(t.value) !== t.value) {
      b.term = { ...t, value: op(t.value) };
      changed = true;
    }
  }
  return changed;
}

/**
 * A jump to a short return block (`v = …; ret v`) whose returned value the jumping block knows
 * (it set it to a constant or a copy) becomes a copy of the return: `r1 = 0; goto L … L: r0 = r1;
 * exit` is `r0 = 0; exit`, and the shared block goes once nothing jumps to it.
 */
export function duplicateReturns(f: Func): boolean {
  let changed = false;
  for (const p of f.blocks) {
    const t = p.term;
    if (t.op !== "jmp") continue;
    const r = f.blocks[t.target];
    if (!r || r === p || r.term.op !== "ret" || r.instrs.length > 2) continue;
    if (!r.instrs.every((i) => i.op === "mov")) continue;
    const env = new CopyEnv();
    for (const i of p.instrs) localStep(env, i);
    for (const i of r.instrs) localStep(env, substitute(i, env)[0]);
    const v = r.term.value;
    if (v.kind !== "reg" || !env.has(v.id)) continue;
    p.instrs.push(...r.instrs.map((i) => ({ ...i })));
    p.term = { ...r.term };
    changed = true;
  }
  return changed;
}
