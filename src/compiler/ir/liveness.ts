// Liveness of vregs at block ends, on bit vectors: vreg ids are small and dense (counted up from
// 0 per function), so a set of them is a few words and the fixpoint is word-wise or/and-not.
// The optimiser runs it every round (dead definition removal), so Set<VReg>-based liveness
// was a tenth of a warm compile; the register allocator's live ranges start from it too.
import { defOf, successors, termUses, usesOf, type Func } from "./ir.js";

/** A set of vregs as a bit vector of fixed capacity. */
export class VRegSet {
  private constructor(readonly words: Uint32Array) {}

  /** An empty set for vregs below `capacity`. */
  static empty(capacity: number): VRegSet {
    return new VRegSet(new Uint32Array((capacity + 31) >>> 5));
  }

  has(v: number): boolean {
    return (this.words[v >>> 5]! & (1 << (v & 31))) !== 0;
  }

  add(v: number): void {
    this.words[v >>> 5]! |= 1 << (v & 31);
  }

  delete(v: number): void {
    this.words[v >>> 5]! &= ~(1 << (v & 31));
  }

  /** The members, in ascending order. */
  *values(): IterableIterator<number> {
    for (let w = 0; w < this.words.length; w++)
      for (let bits = this.words[w]!; bits !== 0; bits &= bits - 1)
        yield (w << 5) + (31 - Math.clz32(bits & -bits));
  }

  copy(): VRegSet {
    return new VRegSet(this.words.slice());
  }
}

/** One more than the largest vreg the function names (the capacity its sets need). */
export function vregBound(f: Func): number {
  let n = Math.max(f.nextVreg, f.ctx + 1);
  const see = (v: number) => {
    if (v >= n) n = v + 1;
  };
  for (const b of f.blocks) {
    for (const i of b.instrs) {
      const d = defOf(i);
      if (d !== undefined) see(d);
      for (const u of usesOf(i)) see(u);
    }
    for (const u of termUses(b.term)) see(u);
  }
  return n;
}

/** The vregs live at the end of each block, by position in `f.blocks`. */
export function liveOutSets(f: Func, capacity = vregBound(f)): VRegSet[] {
  const n = f.blocks.length;
  const index = new Map(f.blocks.map((b, k) => [b.id, k]));
  const gen: VRegSet[] = [];
  const kill: VRegSet[] = [];
  for (const b of f.blocks) {
    const g = VRegSet.empty(capacity);
    const k = VRegSet.empty(capacity);
    for (const u of termUses(b.term)) g.add(u);
    for (let j = b.instrs.length - 1; j >= 0; j--) {
      const i = b.instrs[j]!;
      const d = defOf(i);
      if (d !== undefined) {
        g.delete(d);
        k.add(d);
      }
      for (const u of usesOf(i)) g.add(u);
    }
    gen.push(g);
    kill.push(k);
  }
  const succ = f.blocks.map((b) => successors(b.term).map((s) => index.get(s)!));
  const liveIn = gen.map((g) => g.copy());
  const liveOut = f.blocks.map(() => VRegSet.empty(capacity));
  const words = liveIn[0]?.words.length ?? 0;
  // Backwards over the blocks until nothing grows (sets only grow: the least fixpoint).
  for (let changed = true; changed;) {
    changed = false;
    for (let k = n - 1; k >= 0; k--) {
      const out = liveOut[k]!.words;
      for (const s of succ[k]!) {
        const inS = liveIn[s]!.words;
        for (let w = 0; w < words; w++) out[w]! |= inS[w]!;
      }
      const inn = liveIn[k]!.words;
      const g = gen[k]!.words;
      const kl = kill[k]!.words;
      for (let w = 0; w < words; w++) {
        const x = (g[w]! | (out[w]! & ~kl[w]!)) >>> 0; // unsigned, as the array holds it
        if (x !== inn[w]) {
          inn[w] = x;
          changed = true;
        }
      }
    }
  }
  return liveOut;
}
