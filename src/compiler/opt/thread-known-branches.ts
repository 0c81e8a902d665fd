// Branch threading on path facts. The lowering merges a parse result into one vreg that is 0 on
// every failure path and tests it again at the join (`if (!ip) return`); the verifier then walks
// each failure path through the join separately. Here, an edge whose path already decides the
// join's branch goes straight to the decided target, carrying along the moves (constants and
// copies) of the blocks it skips, so failure paths reach their continuation directly and the
// merged test only runs on paths that could go either way. The facts are in facts.ts.
import type { Func, Instr } from "../ir/ir.js";
import { type Facts, transfer, edgeFacts, decide, entryFacts } from "./facts.js";

/** Longest run of skipped blocks one edge may thread through, and moves it may copy. */
const MAX_STEPS = 16;

const MAX_COPIED = 8;

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
