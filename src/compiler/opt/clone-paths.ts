// Path cloning: a small region between a predecessor whose facts decide a later branch and that
// branch is copied for that predecessor, so the copy goes straight to the decided side. Bounded
// by region and growth limits; optimize runs it between rounds of simplify.
import { defOf, successors, termUses, type Func, type Instr, type VReg } from "../ir/ir.js";
import { type Facts, transfer, edgeFacts, decide, entryFacts } from "./facts.js";

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
        const trial: Func = {
          ...f,
          blocks: f.blocks.map((b) => ({
            ...b,
            term: structuredClone(b.term),
            instrs: cloneInstrs(b.instrs),
          })),
        };
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

/**
 * Copies of instructions. A CO-RE reference (`core`, on kernel-struct loads) holds the
 * compiler's type objects, which cannot be cloned; it is never mutated, so copies share it.
 */
function cloneInstrs(instrs: Instr[]): Instr[] {
  return instrs.map((i) => {
    if (!("core" in i) || !i.core) return structuredClone(i);
    const { core, ...rest } = i;
    return { ...structuredClone(rest), core } as Instr;
  });
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
    f.blocks.push({ id: copyOf.get(id)!, instrs: cloneInstrs(b.instrs), term });
  }
  const dBlk = byId.get(d)!;
  f.blocks.push({
    id: copyOf.get(d)!,
    instrs: cloneInstrs(dBlk.instrs),
    term: { op: "jmp", target: to, ...(dBlk.term.loc ? { loc: dBlk.term.loc } : {}) },
  });
  const pt = byId.get(p)!.term as Record<string, unknown>;
  pt[side] = map(pt[side] as number);
}
