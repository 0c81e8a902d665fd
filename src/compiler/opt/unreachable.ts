// Unreachable-block removal: the verifier rejects a program with code no path reaches, and
// every later pass and the register allocator expect blocks numbered in order from 0.
import { successors, retarget, type Func } from "../ir/ir.js";

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
