// Branch threading on path facts. The lowering merges a parse result into one vreg that is 0 on
// every failure path and tests it again at the join (`if (!ip) return`); the verifier then walks
// each failure path through the join separately. Here, an edge whose path already decides the
// join's branch goes straight to the decided target, carrying along the moves (constants and
// copies) of the blocks it skips, so failure paths reach their continuation directly and the
// merged test only runs on paths that could go either way.
//
// Facts are must-facts per program point: a vreg equals a constant, is non-zero, or is a pointer.
// A vreg used as a memory base is a non-null pointer afterwards (the verifier accepts loads and stores only through
// non-null pointers), which is what decides the join's test on the success paths.
import {
  defOf,
  hasSideEffect,
  successors,
  termUses,
  usesOf,
  type Func,
  type Instr,
  type Operand,
  type Terminator,
  type VReg,
} from "./ir.js";
import { evalCmp } from "./passes.js";

/** eq: equals v; nz: non-zero; ptr: a pointer the verifier accepted (so non-zero, and adding a
 * scalar, which the verifier bounds, keeps it a pointer). */
type Fact = { readonly k: "eq"; readonly v: bigint } | { readonly k: "nz" } | { readonly k: "ptr" };
type Facts = Map<VReg, Fact>;

/** Longest run of skipped blocks one edge may thread through, and moves it may copy. */
const MAX_STEPS = 16;
const MAX_COPIED = 8;

function meet(a: Facts, b: Facts): Facts {
  const out: Facts = new Map();
  for (const [v, fa] of a) {
    const fb = b.get(v);
    if (!fb) continue;
    if (fa.k === "eq" && fb.k === "eq") {
      if (fa.v === fb.v) out.set(v, fa);
      else if (fa.v !== 0n && fb.v !== 0n) out.set(v, { k: "nz" });
    } else if (fa.k === "ptr" && fb.k === "ptr") out.set(v, fa);
    else if (fa.k !== "eq" && fb.k !== "eq") out.set(v, { k: "nz" });
    else {
      const e = fa.k === "eq" ? fa : (fb as { v: bigint });
      if (e.v !== 0n) out.set(v, { k: "nz" });
    }
  }
  return out;
}

const sameFacts = (a: Facts, b: Facts): boolean => {
  if (a.size !== b.size) return false;
  for (const [v, fa] of a) {
    const fb = b.get(v);
    if (!fb || fb.k !== fa.k || (fa.k === "eq" && fb.k === "eq" && fa.v !== fb.v)) return false;
  }
  return true;
};

/** Apply one instruction to the facts (in place). */
function transfer(facts: Facts, i: Instr): void {
  if ((i.op === "load" || i.op === "store" || i.op === "atomicAdd") && i.base.kind === "reg")
    facts.set(i.base.id, { k: "ptr" });
  const d = defOf(i);
  if (d === undefined) return;
  if (i.op === "mov") {
    if (i.src.kind === "imm") facts.set(d, { k: "eq", v: i.src.value });
    else {
      const s = facts.get(i.src.id);
      if (s && i.src.id !== d) facts.set(d, s);
      else facts.delete(d);
    }
  } else if (i.op === "addr" || i.op === "mapfd" || i.op === "global") facts.set(d, { k: "ptr" });
  else if (
    i.op === "alu" &&
    i.alu === "add" &&
    ((i.a.kind === "reg" && facts.get(i.a.id)?.k === "ptr") ||
      (i.b.kind === "reg" && facts.get(i.b.id)?.k === "ptr"))
  )
    facts.set(d, { k: "ptr" });
  else facts.delete(d);
}

/** Facts that hold on the edge of a branch going to its true (taken) or false side. */
function edgeFacts(facts: Facts, t: Terminator, taken: boolean): Facts {
  if (t.op !== "br") return facts;
  let a = t.a;
  let b = t.b;
  if (a.kind === "imm" && b.kind === "reg" && (t.cond === "eq" || t.cond === "ne")) [a, b] = [b, a];
  if (a.kind !== "reg" || b.kind !== "imm") return facts;
  const out = new Map(facts);
  const isEq = (t.cond === "eq") === taken;
  if (t.cond === "eq" || t.cond === "ne") {
    if (isEq) out.set(a.id, { k: "eq", v: b.value });
    else if (b.value === 0n && out.get(a.id)?.k !== "ptr") out.set(a.id, { k: "nz" });
  } else if (t.cond === "gt" && taken && b.value >= 0n && out.get(a.id)?.k !== "ptr")
    out.set(a.id, { k: "nz" });
  return out;
}

/** The branch's outcome under the facts, or undefined when they do not decide it. */
function decide(facts: Facts, t: Terminator): number | undefined {
  if (t.op === "jmp") return t.target;
  if (t.op !== "br") return undefined;
  const val = (o: Operand): Fact | undefined =>
    o.kind === "imm" ? { k: "eq", v: o.value } : facts.get(o.id);
  const a = val(t.a);
  const b = val(t.b);
  if (!a || !b) return undefined;
  if (a.k === "eq" && b.k === "eq") return evalCmp(t.cond, a.v, b.v) ? t.t : t.f;
  const [n, e] = a.k !== "eq" ? [a, b] : [b, a];
  if (n.k === "eq" || e.k !== "eq" || e.v !== 0n) return undefined;
  if (t.cond === "eq") return t.f;
  if (t.cond === "ne") return t.t;
  if (t.cond === "gt" && a.k !== "eq") return t.t;
  return undefined;
}

/** Must-facts at each block's entry (forward dataflow, meet = intersection). */
function entryFacts(f: Func): Map<number, Facts> {
  const byId = new Map(f.blocks.map((b) => [b.id, b]));
  const entry = new Map<number, Facts>([[f.blocks[0]!.id, new Map([[f.ctx, { k: "ptr" }]])]]);
  const work = [f.blocks[0]!.id];
  for (let guard = 0; work.length && guard < 100_000; guard++) {
    const b = byId.get(work.pop()!)!;
    const out = new Map(entry.get(b.id)!);
    for (const i of b.instrs) transfer(out, i);
    const t = b.term;
    const edges: [number, Facts][] =
      t.op === "br"
        ? [
            [t.t, edgeFacts(out, t, true)],
            [t.f, edgeFacts(out, t, false)],
          ]
        : t.op === "jmp"
          ? [[t.target, out]]
          : [];
    for (const [s, fs] of edges) {
      const old = entry.get(s);
      const nu = old ? meet(old, fs) : fs;
      if (!old || !sameFacts(old, nu)) {
        entry.set(s, nu);
        work.push(s);
      }
    }
  }
  return entry;
}

/** Thread every edge whose path facts decide a branch further on. */
export function threadKnownBranches(f: Func): boolean {
  const byId = new Map(f.blocks.map((b) => [b.id, b]));
  const entry = entryFacts(f);
  let changed = false;
  let nextId = Math.max(...f.blocks.map((b) => b.id)) + 1;
  const isMove = (i: Instr) => i.op === "mov";
  // Where an edge with these facts really ends up, and the moves executed on the way.
  const follow = (start: number, facts: Facts): { to: number; moves: Instr[] } | undefined => {
    let cur = start;
    const fs = new Map(facts);
    const moves: Instr[] = [];
    let decided = false;
    const result: { to: number; moves: Instr[] } = { to: start, moves: [] };
    for (let step = 0; step < MAX_STEPS; step++) {
      const blk = byId.get(cur)!;
      if (!blk.instrs.every(isMove)) break;
      if (moves.length + blk.instrs.length > MAX_COPIED) break;
      const after = new Map(fs);
      for (const i of blk.instrs) transfer(after, i);
      const t = blk.term;
      const next = decide(after, t);
      if (next === undefined || next === cur) break;
      moves.push(...blk.instrs.map((i) => ({ ...i })));
      for (const [k, v] of edgeFacts(after, t, t.op === "br" && next === t.t)) after.set(k, v);
      fs.clear();
      for (const [k, v] of after) fs.set(k, v);
      if (t.op === "br") decided = true;
      cur = next;
      if (decided) {
        result.to = cur;
        result.moves = [...moves];
      }
    }
    return decided ? result : undefined;
  };
  for (const b of [...f.blocks]) {
    const inFacts = entry.get(b.id);
    if (!inFacts) continue;
    const out = new Map(inFacts);
    for (const i of b.instrs) transfer(out, i);
    const t = b.term;
    if (t.op === "jmp") {
      const r = follow(t.target, out);
      if (!r) continue;
      b.instrs.push(...r.moves);
      b.term = { op: "jmp", target: r.to, ...(t.loc ? { loc: t.loc } : {}) };
      changed = true;
    } else if (t.op === "br") {
      for (const side of ["t", "f"] as const) {
        const r = follow(t[side], edgeFacts(out, t, side === "t"));
        if (!r) continue;
        if (r.moves.length === 0) t[side] = r.to;
        else {
          const id = nextId++;
          const nb = { id, instrs: r.moves, term: { op: "jmp" as const, target: r.to } };
          f.blocks.push(nb);
          byId.set(id, nb);
          t[side] = id;
        }
        changed = true;
      }
    }
  }
  return changed;
}

/** Dead code elimination by liveness: also removes dead definitions of multi-def vregs. */
export function eliminateDeadDefs(f: Func): boolean {
  const byId = new Map(f.blocks.map((b) => [b.id, b]));
  const liveIn = new Map<number, Set<VReg>>();
  const liveOut = (id: number): Set<VReg> => {
    const s = new Set<VReg>();
    for (const succ of successors(byId.get(id)!.term))
      for (const v of liveIn.get(succ) ?? []) s.add(v);
    return s;
  };
  const scan = (id: number): Set<VReg> => {
    const b = byId.get(id)!;
    const live = liveOut(id);
    for (const u of termUses(b.term)) live.add(u);
    for (let k = b.instrs.length - 1; k >= 0; k--) {
      const i = b.instrs[k]!;
      const d = defOf(i);
      if (d !== undefined) live.delete(d);
      for (const u of usesOf(i)) live.add(u);
    }
    return live;
  };
  for (let changed = true, guard = 0; changed && guard < 1000; guard++) {
    changed = false;
    for (let k = f.blocks.length - 1; k >= 0; k--) {
      const id = f.blocks[k]!.id;
      const nu = scan(id);
      const old = liveIn.get(id);
      if (!old || old.size !== nu.size) {
        liveIn.set(id, nu);
        changed = true;
      }
    }
  }
  let removed = false;
  for (const b of f.blocks) {
    const live = liveOut(b.id);
    for (const u of termUses(b.term)) live.add(u);
    const kept: Instr[] = [];
    for (let k = b.instrs.length - 1; k >= 0; k--) {
      const i = b.instrs[k]!;
      const d = defOf(i);
      if (d !== undefined && !live.has(d)) {
        if (i.op === "call") {
          i.dst = undefined;
          removed = true;
        } else if (!hasSideEffect(i)) {
          removed = true;
          continue;
        }
      }
      if (d !== undefined) live.delete(d);
      for (const u of usesOf(i)) live.add(u);
      kept.push(i);
    }
    b.instrs = kept.reverse();
  }
  return removed;
}

/**
 * Order blocks in chains so each block's jump target (or a branch's false side) follows it and
 * the jump becomes a fall-through; blocks are renumbered to their new positions (the entry stays
 * first), as the register allocator expects.
 */
export function layoutBlocks(f: Func): void {
  const byId = new Map(f.blocks.map((b) => [b.id, b]));
  const placed = new Set<number>();
  const order: typeof f.blocks = [];
  const preferred = (t: Terminator): number[] =>
    t.op === "jmp" ? [t.target] : t.op === "br" ? [t.f, t.t] : [];
  for (const start of f.blocks) {
    let cur: number | undefined = start.id;
    while (cur !== undefined && !placed.has(cur)) {
      placed.add(cur);
      const b: Func["blocks"][number] = byId.get(cur)!;
      order.push(b);
      cur = preferred(b.term).find((s) => !placed.has(s));
    }
  }
  const map = new Map<number, number>();
  order.forEach((b, k) => map.set(b.id, k));
  for (const b of order) {
    b.id = map.get(b.id)!;
    const t = b.term;
    if (t.op === "jmp") t.target = map.get(t.target)!;
    else if (t.op === "br") {
      t.t = map.get(t.t)!;
      t.f = map.get(t.f)!;
    }
  }
  f.blocks = order;
}

function swapBytes(v: bigint, bits: number): bigint {
  let x = BigInt.asUintN(bits, v);
  let y = 0n;
  for (let k = 0; k < bits / 8; k++) {
    y = (y << 8n) | (x & 0xffn);
    x >>= 8n;
  }
  return y;
}

/**
 * `bswap(load) == K` becomes `load == bswap(K)` (as clang does with network-order fields), so
 * the swap disappears when nothing else reads it. Only for a load of exactly the swapped width
 * (its value already fits) and a constant that fits that width.
 */
export function compareRawFields(f: Func): boolean {
  const defs = new Map<VReg, Instr[]>();
  for (const b of f.blocks)
    for (const i of b.instrs) {
      const d = defOf(i);
      if (d !== undefined) defs.set(d, [...(defs.get(d) ?? []), i]);
    }
  const only = (v: VReg): Instr | undefined => {
    const ds = defs.get(v);
    return ds?.length === 1 && v !== f.ctx ? ds[0] : undefined;
  };
  let changed = false;
  for (const b of f.blocks) {
    const t = b.term;
    if (t.op !== "br" || (t.cond !== "eq" && t.cond !== "ne")) continue;
    let [a, k] = [t.a, t.b];
    if (a.kind === "imm") [a, k] = [k, a];
    if (a.kind !== "reg" || k.kind !== "imm") continue;
    const sw = only(a.id);
    if (!sw || sw.op !== "bswap" || sw.a.kind !== "reg") continue;
    const ld = only(sw.a.id);
    if (!ld || ld.op !== "load" || ld.size * 8 !== sw.bits) continue;
    if (BigInt.asUintN(sw.bits, k.value) !== k.value) continue;
    b.term = { ...t, a: sw.a, b: { kind: "imm", value: swapBytes(k.value, sw.bits) } };
    changed = true;
  }
  return changed;
}
