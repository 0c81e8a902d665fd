// Block placement: the last step of optimize, turning jumps into fall-throughs.
import { retarget, type Func, type Terminator } from "../ir/ir.js";

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
