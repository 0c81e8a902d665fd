// Which blocks control can reach: the end of a program body is an error only when a path from
// the entry gets there (an `if`/`else` or a `switch` with `default` whose every branch returns
// leaves an open join block that nothing jumps to).
import { successors, type Func } from "../ir/ir.js";

/** True when `target` can be reached from the function's first block. */
export function reachable(f: Func, target: number): boolean {
  const seen = new Set<number>([0]);
  const work = [0];
  while (work.length > 0) {
    const id = work.pop()!;
    if (id === target) return true;
    for (const s of successors(f.blocks[id]!.term))
      if (!seen.has(s)) {
        seen.add(s);
        work.push(s);
      }
  }
  return false;
}
