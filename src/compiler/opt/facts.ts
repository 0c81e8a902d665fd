// Path facts: must-facts per program point, computed forward over the blocks and met where
// paths join. A vreg equals a constant, is non-zero, or is a pointer. A vreg used as a memory
// base is a non-null pointer afterwards (the verifier accepts loads and stores only through
// non-null pointers), which is what decides a join's null test on the success paths.
// thread-known-branches.ts, clone-paths.ts and propagate-facts.ts decide code with them.
import {
  defOf,
  successors,
  termUses,
  usesOf,
  type Func,
  type Instr,
  type Operand,
  type Terminator,
  type VReg,
} from "../ir/ir.js";
import { evalAlu, evalCmp } from "../ir/eval.js";
import { liveOutSets, vregBound, type VRegSet } from "../ir/liveness.js";

/** eq: equals v; nz: non-zero; ptr: a pointer the verifier accepted (so non-zero, and adding a
 * scalar, which the verifier bounds, keeps it a pointer). */
type Fact = { readonly k: "eq"; readonly v: bigint } | { readonly k: "nz" } | { readonly k: "ptr" };

export type Facts = Map<VReg, Fact>;

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

export const eqOf = (facts: Facts, v: VReg): bigint | undefined => {
  const x = facts.get(v);
  return x?.k === "eq" ? x.v : undefined;
};

/** Apply one instruction to the facts (in place). */
export function transfer(facts: Facts, i: Instr): void {
  if (
    (i.op === "load" || i.op === "store" || i.op === "atomicAdd" || i.op === "atomic") &&
    i.base.kind === "reg"
  )
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
  } else if (i.op === "addr" || i.op === "mapfd" || i.op === "global" || i.op === "funcaddr")
    facts.set(d, { k: "ptr" });
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
export function edgeFacts(facts: Facts, t: Terminator, taken: boolean): Facts {
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
export function decide(facts: Facts, t: Terminator): number | undefined {
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
export function entryFacts(f: Func): Map<number, Facts> {
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
