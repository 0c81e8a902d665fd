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
  printInstr,
  printTerm,
  successors,
  swapBytes,
  retarget,
  termUses,
  usesOf,
  type Func,
  type Instr,
  type Operand,
  type Terminator,
  type VReg,
} from "../ir/ir.js";
import { evalAlu, evalCmp } from "./passes.js";
import { liveOutSets, vregBound, type VRegSet } from "../ir/liveness.js";

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

const eqOf = (facts: Facts, v: VReg): bigint | undefined => {
  const x = facts.get(v);
  return x?.k === "eq" ? x.v : undefined;
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
    ((i.a.kind === "imm" ? i.a.value : eqOf(facts, i.a.id)) ?? null) !== null &&
    ((i.b.kind === "imm" ? i.b.value : eqOf(facts, i.b.id)) ?? null) !== null
  ) {
    const val = (o: Operand) => (o.kind === "imm" ? o.value : eqOf(facts, o.id)!);
    facts.set(d, { k: "eq", v: evalAlu(i.alu, val(i.a), val(i.b)) });
  } else if (
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

/** Ids of the blocks reachable from the entry, in reverse postorder (predecessors first). */
function reversePostorder(f: Func, byId: Map<number, Func["blocks"][number]>): number[] {
  const post: number[] = [];
  const seen = new Set<number>([f.blocks[0]!.id]);
  const stack: { id: number; succ: number[]; k: number }[] = [
    { id: f.blocks[0]!.id, succ: successors(f.blocks[0]!.term), k: 0 },
  ];
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const next = top.succ[top.k++];
    if (next === undefined) {
      post.push(top.id);
      stack.pop();
    } else if (!seen.has(next)) {
      seen.add(next);
      stack.push({ id: next, succ: successors(byId.get(next)!.term), k: 0 });
    }
  }
  return post.reverse();
}

/**
 * Must-facts at each block's entry (forward dataflow, meet = intersection). Transfer and meet
 * are monotone, so the fixpoint does not depend on the visiting order; sweeping in reverse
 * postorder visits each block of an acyclic function once (a worklist took 2–3 visits).
 */
function entryFacts(f: Func): Map<number, Facts> {
  const byId = new Map(f.blocks.map((b) => [b.id, b]));
  const entry = new Map<number, Facts>([[f.blocks[0]!.id, new Map([[f.ctx, { k: "ptr" }]])]]);
  const order = reversePostorder(f, byId);
  const dirty = new Set<number>([f.blocks[0]!.id]);
  // Facts are kept only for vregs live at the block's entry: a dead vreg is redefined before
  // any use on every path, so its fact decides nothing, and carrying every constant ever
  // defined made each block's copy grow with the program (quadratic).
  const live = liveInSets(f);
  const prune = (id: number, fs: Facts): Facts => {
    const l = live.get(id);
    if (!l) return fs;
    let keep = true;
    for (const v of fs.keys())
      if (!l.has(v)) {
        keep = false;
        break;
      }
    if (keep) return fs;
    const out: Facts = new Map();
    for (const [v, x] of fs) if (l.has(v)) out.set(v, x);
    return out;
  };
  for (let sweep = 0; dirty.size > 0 && sweep < 1000; sweep++)
    for (const id of order) {
      if (!dirty.delete(id)) continue;
      const b = byId.get(id)!;
      const out = new Map(entry.get(id)!);
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
        const nu = old ? meet(old, fs) : prune(s, fs);
        if (!old || !sameFacts(old, nu)) {
          entry.set(s, nu);
          dirty.add(s);
        }
      }
    }
  return entry;
}

/** The vregs live at the entry of each block, by block id. */
function liveInSets(f: Func): Map<number, VRegSet> {
  const cap = vregBound(f);
  const out = liveOutSets(f, cap);
  const r = new Map<number, VRegSet>();
  f.blocks.forEach((b, k) => {
    const l = out[k]!.copy();
    for (const u of termUses(b.term)) l.add(u);
    for (let j = b.instrs.length - 1; j >= 0; j--) {
      const i = b.instrs[j]!;
      const d = defOf(i);
      if (d !== undefined) l.delete(d);
      for (const u of usesOf(i)) l.add(u);
    }
    r.set(b.id, l);
  });
  return r;
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
    // A branch its own block's facts decide (the tag was set in this block).
    const own = t.op === "br" ? decide(out, t) : undefined;
    if (own !== undefined) {
      b.term = { op: "jmp", target: own, ...(t.loc ? { loc: t.loc } : {}) };
      changed = true;
      continue;
    }
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
  const liveOut = liveOutSets(f);
  let removed = false;
  f.blocks.forEach((b, pos) => {
    const live = liveOut[pos]!;
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
  });
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
    retarget(b.term, (id) => map.get(id)!);
  }
  f.blocks = order;
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

/** Largest region (blocks, instructions) one edge may get a private copy of. */
const MAX_REGION_BLOCKS = 12;
const MAX_REGION_INSTRS = 32;
/** Candidate copies tried (and simplified) per call. */
const MAX_TRIALS = 12;

/** IR size (instructions and terminators), the measure a copy must not grow much. */
export const irSize = (f: Func): number => f.blocks.reduce((n, b) => n + b.instrs.length + 1, 0);
/** Growth of the IR one copy may cause: register allocation and isel often recover it (a
 * copied block's moves coalesce, its jumps fall through), and the copy saves the verifier a walk. */
const COPY_SLACK = 8;

/**
 * Tail duplication for branches decided by a path fact further on. A parse result's tag (IP
 * version 4/6, protocol 6/17) is a constant on each path out of the parse, but the program
 * tests it only after more parsing (`ctx.transport()` between `ctx.ip()` and
 * `ip.version !== 4`), so the IPv6 path walks the whole transport parse before it is sent back.
 * For an edge whose facts decide a branch D further on (through a region of blocks that does
 * not redefine the deciding vreg), the region is copied for that edge alone, with D's copy
 * jumping straight to the decided target; `simplify` then folds the copy (its exits often all
 * lead to the same place, so its loads and checks die). A copy is kept only when the simplified
 * program grows by at most COPY_SLACK and stays within `limit` (the caller's bound on the
 * function's total growth).
 */
export function cloneDecidedPaths(f: Func, simplify: (f: Func) => void, limit = Infinity): boolean {
  const byId = new Map(f.blocks.map((b) => [b.id, b]));
  const preds = new Map<number, number[]>();
  for (const b of f.blocks)
    for (const s of successors(b.term)) preds.set(s, [...(preds.get(s) ?? []), b.id]);
  const entry = entryFacts(f);
  const decidedMemo = new Map<number, boolean>();
  const decidedAtEntry = (d: number): boolean => {
    let r = decidedMemo.get(d);
    if (r === undefined) {
      const fs = new Map(entry.get(d) ?? []);
      const blk = byId.get(d)!;
      for (const i of blk.instrs) transfer(fs, i);
      decidedMemo.set(d, (r = decide(fs, blk.term) !== undefined));
    }
    return r;
  };
  const before = irSize(f);
  let trials = 0;
  for (const p of f.blocks) {
    const pIn = entry.get(p.id);
    if (!pIn) continue;
    const out = new Map(pIn);
    for (const i of p.instrs) transfer(out, i);
    const t = p.term;
    const edges: ["t" | "f" | "target", number, Facts][] =
      t.op === "br"
        ? [
            ["t", t.t, edgeFacts(out, t, true)],
            ["f", t.f, edgeFacts(out, t, false)],
          ]
        : t.op === "jmp"
          ? [["target", t.target, out]]
          : [];
    for (const [side, s, facts] of edges) {
      if (facts.size === 0) continue;
      // Branch blocks reachable from s within the budget, nearest first.
      const seen = new Set([s]);
      const order = [s];
      for (let k = 0; k < order.length && order.length <= MAX_REGION_BLOCKS * 2; k++)
        for (const x of successors(byId.get(order[k]!)!.term))
          if (!seen.has(x)) {
            seen.add(x);
            order.push(x);
          }
      for (const d of order) {
        const dBlk = byId.get(d)!;
        if (dBlk.term.op !== "br") continue;
        if (!termUses(dBlk.term).some((v) => facts.has(v)) || decidedAtEntry(d)) continue;
        const region = d === s ? new Set<number>() : regionBetween(byId, preds, s, d);
        if (!region || region.has(p.id) || region.has(0)) continue;
        const blocks = [...region].map((id) => byId.get(id)!);
        if (blocks.length > MAX_REGION_BLOCKS) continue;
        if (blocks.reduce((n, b) => n + b.instrs.length, 0) > MAX_REGION_INSTRS) continue;
        // Only facts about vregs the region leaves alone still hold at d.
        const defined = new Set<VReg>();
        for (const b of [...blocks, dBlk])
          for (const i of b.instrs) {
            const x = defOf(i);
            if (x !== undefined) defined.add(x);
          }
        const fs: Facts = new Map([...facts].filter(([v]) => !defined.has(v)));
        for (const i of dBlk.instrs) transfer(fs, i);
        const to = decide(fs, dBlk.term);
        if (to === undefined) continue;
        if (trials++ >= MAX_TRIALS) return false;
        const trial: Func = { ...f, blocks: structuredClone(f.blocks) };
        copyRegion(trial, p.id, side, region, d, to);
        simplify(trial);
        if (irSize(trial) > Math.min(limit, before + COPY_SLACK)) continue;
        f.blocks = trial.blocks;
        f.nextVreg = trial.nextVreg;
        return true;
      }
    }
  }
  return false;
}

/** Blocks on paths from s to d (d excluded), or undefined when d is not reachable. */
function regionBetween(
  byId: Map<number, Func["blocks"][number]>,
  preds: Map<number, number[]>,
  s: number,
  d: number,
): Set<number> | undefined {
  const fwd = new Set<number>([s]);
  const work = [s];
  while (work.length) {
    const x = work.pop()!;
    for (const y of successors(byId.get(x)!.term))
      if (y !== d && !fwd.has(y)) {
        if (fwd.size > MAX_REGION_BLOCKS * 4) return undefined;
        fwd.add(y);
        work.push(y);
      }
  }
  const back = new Set<number>();
  const bw = [d];
  while (bw.length) {
    const x = bw.pop()!;
    for (const y of preds.get(x) ?? [])
      if (fwd.has(y) && !back.has(y)) {
        back.add(y);
        bw.push(y);
      }
  }
  return back.has(s) ? back : undefined;
}

/** Give the edge `p.side` its own copy of `region` and of `d`, whose copy jumps to `to`. */
function copyRegion(
  f: Func,
  p: number,
  side: "t" | "f" | "target",
  region: Set<number>,
  d: number,
  to: number,
): void {
  const byId = new Map(f.blocks.map((b) => [b.id, b]));
  let next = Math.max(...f.blocks.map((b) => b.id)) + 1;
  const copyOf = new Map<number, number>();
  for (const id of [...region, d]) copyOf.set(id, next++);
  const map = (id: number) => copyOf.get(id) ?? id;
  for (const id of region) {
    const b = byId.get(id)!;
    const term = structuredClone(b.term);
    if (term.op === "jmp") term.target = map(term.target);
    else if (term.op === "br") {
      term.t = map(term.t);
      term.f = map(term.f);
    }
    f.blocks.push({ id: copyOf.get(id)!, instrs: structuredClone(b.instrs), term });
  }
  const dBlk = byId.get(d)!;
  f.blocks.push({
    id: copyOf.get(d)!,
    instrs: structuredClone(dBlk.instrs),
    term: { op: "jmp", target: to, ...(dBlk.term.loc ? { loc: dBlk.term.loc } : {}) },
  });
  const pt = byId.get(p)!.term as Record<string, unknown>;
  pt[side] = map(pt[side] as number);
}

/**
 * Constants known on every path (a `let` counter or mask in an unrolled loop, a join vreg all of
 * whose definitions reaching a use agree) replace the uses; folding then computes with them.
 */
export function propagateFacts(f: Func): boolean {
  const entry = entryFacts(f);
  let changed = false;
  for (const b of f.blocks) {
    const inFacts = entry.get(b.id);
    if (!inFacts) continue;
    const fs = new Map(inFacts);
    const op = (o: Operand): Operand => {
      const v = o.kind === "reg" ? eqOf(fs, o.id) : undefined;
      if (v === undefined) return o;
      changed = true;
      return { kind: "imm", value: v };
    };
    b.instrs = b.instrs.map((i): Instr => {
      let out: Instr = i;
      if (i.op === "mov") out = { ...i, src: op(i.src) };
      else if (i.op === "alu") out = { ...i, a: op(i.a), b: op(i.b) };
      else if (i.op === "neg" || i.op === "bswap") out = { ...i, a: op(i.a) };
      else if (i.op === "store" || i.op === "atomicAdd") out = { ...i, value: op(i.value) };
      else if (i.op === "call") out = { ...i, args: i.args.map(op) };
      transfer(fs, out);
      return out;
    });
    const t = b.term;
    if (t.op === "br") b.term = { ...t, a: op(t.a), b: op(t.b) };
    else if (t.op === "ret") b.term = { ...t, value: op(t.value) };
  }
  return changed;
}

/**
 * Blocks with the same instructions and the same terminator are one block: jumps to the later
 * copies go to the first (blocks returning the same constant; `slot = 0; jmp join` made on two
 * failure paths). Besides the code, this lets the verifier prune: a copy is a second place
 * where a path arrives with a state the first one has already proven safe, but states are only
 * compared at the same instruction.
 */
export function mergeIdenticalBlocks(f: Func): boolean {
  const first = new Map<string, number>();
  const alias = new Map<number, number>();
  for (const b of f.blocks) {
    if (b.id === f.blocks[0]!.id) continue; // the entry has no predecessors to redirect
    const key = [...b.instrs.map(printInstr), printTerm(b.term)].join("\n");
    const x = first.get(key);
    if (x === undefined) first.set(key, b.id);
    else alias.set(b.id, x);
  }
  if (alias.size === 0) return false;
  let changed = false;
  const to = (id: number) => {
    const x = alias.get(id);
    if (x === undefined) return id;
    changed = true;
    return x;
  };
  for (const b of f.blocks) retarget(b.term, to);
  return changed;
}
