// Linear-scan register allocation over the blocks in layout order.
//
// Registers: r1–r4 and r6–r9 hold vregs; r0 and r5 are scratch for instruction selection
// (spill reloads, 64-bit immediates, results on their way to a spill slot). A value live
// across a helper call (or used as a call argument) may not sit in r1–r5, which calls clobber
// and argument set-up overwrites, so it gets r6–r9 or a stack slot. Spills are full 8-byte
// aligned slots, the only form in which the verifier keeps a spilled pointer's type and range.
import { defOf, successors, termUses, usesOf, type Func, type Operand, type VReg } from "./ir.js";

export type Location = { kind: "reg"; reg: number } | { kind: "spill"; index: number };

export interface Allocation {
  loc: Map<VReg, Location>;
  /** number of 8-byte spill slots */
  spillSlots: number;
}

const CALLER_SAVED = [1, 2, 3, 4];
const CALLEE_SAVED = [6, 7, 8, 9];

interface Interval {
  v: VReg;
  start: number;
  end: number;
  crossesCall: boolean;
}

export function allocate(f: Func): Allocation {
  // Positions: instruction k of the function gets 2k; a block's terminator follows its body.
  const blockStart: number[] = [];
  const blockEnd: number[] = [];
  const calls: number[] = [];
  const callArgs: [number, readonly Operand[]][] = [];
  let pos = 0;
  for (const b of f.blocks) {
    blockStart.push(pos);
    for (const i of b.instrs) {
      if (i.op === "call") {
        calls.push(pos);
        callArgs.push([pos, i.args]);
      }
      pos += 2;
    }
    blockEnd.push(pos); // terminator position
    pos += 2;
  }

  // Liveness (backward dataflow over blocks).
  const n = f.blocks.length;
  const use: Set<VReg>[] = [];
  const def: Set<VReg>[] = [];
  for (const b of f.blocks) {
    const u = new Set<VReg>();
    const d = new Set<VReg>();
    for (const i of b.instrs) {
      for (const x of usesOf(i)) if (!d.has(x)) u.add(x);
      const y = defOf(i);
      if (y !== undefined) d.add(y);
    }
    for (const x of termUses(b.term)) if (!d.has(x)) u.add(x);
    use.push(u);
    def.push(d);
  }
  const liveIn: Set<VReg>[] = f.blocks.map(() => new Set());
  const liveOut: Set<VReg>[] = f.blocks.map(() => new Set());
  for (let changed = true; changed;) {
    changed = false;
    for (let k = n - 1; k >= 0; k--) {
      const out = liveOut[k]!;
      for (const s of successors(f.blocks[k]!.term))
        for (const x of liveIn[s]!)
          if (!out.has(x)) {
            out.add(x);
            changed = true;
          }
      const inn = liveIn[k]!;
      for (const x of use[k]!)
        if (!inn.has(x)) {
          inn.add(x);
          changed = true;
        }
      for (const x of out)
        if (!def[k]!.has(x) && !inn.has(x)) {
          inn.add(x);
          changed = true;
        }
    }
  }

  // One conservative interval per vreg: from its first appearance to its last.
  const lo = new Map<VReg, number>();
  const hi = new Map<VReg, number>();
  const touch = (v: VReg, p: number) => {
    if (!lo.has(v) || p < lo.get(v)!) lo.set(v, p);
    if (!hi.has(v) || p > hi.get(v)!) hi.set(v, p);
  };
  touch(f.ctx, -1); // arrives in r1 before the first instruction
  const useCount = new Map<VReg, number>();
  const count = (v: VReg) => useCount.set(v, (useCount.get(v) ?? 0) + 1);
  for (const b of f.blocks) {
    for (const i of b.instrs) usesOf(i).forEach(count);
    termUses(b.term).forEach(count);
  }
  const usesAt = new Map<number, VReg[]>();
  f.blocks.forEach((b, k) => {
    for (const x of liveIn[k]!) touch(x, blockStart[k]!);
    for (const x of liveOut[k]!) touch(x, blockEnd[k]! + 1);
    let p = blockStart[k]!;
    for (const i of b.instrs) {
      usesAt.set(p, usesOf(i));
      for (const x of usesOf(i)) touch(x, p);
      const d = defOf(i);
      if (d !== undefined) touch(d, p);
      p += 2;
    }
    for (const x of termUses(b.term)) touch(x, blockEnd[k]!);
  });

  // A value whose life ends as argument k (< 4) of the next call can live in that argument
  // register: arguments are set up in order r1, r2, …, so only its own move touches it.
  const argReg = new Map<VReg, number>();
  for (const [c, args] of callArgs) {
    args.forEach((a, k) => {
      if (k > 3 || a.kind !== "reg" || hi.get(a.id) !== c || argReg.has(a.id)) return;
      if (args.some((b, j) => j !== k && b.kind === "reg" && b.id === a.id)) return;
      const start = lo.get(a.id)!;
      if (start >= 0 && !calls.some((x) => start < x && x < c)) argReg.set(a.id, 1 + k);
    });
  }
  const intervals: Interval[] = [...lo.keys()].map((v) => {
    const start = lo.get(v)!;
    const end = hi.get(v)!;
    return { v, start, end, crossesCall: calls.some((c) => start < c && c <= end) };
  });
  intervals.sort((a, b) => a.start - b.start || a.v - b.v);

  const loc = new Map<VReg, Location>();
  const active: { iv: Interval; reg: number }[] = [];
  const spilled: Interval[] = [];
  for (const iv of intervals) {
    // A source that dies at the instruction defining iv hands over its register: the
    // instruction reads it before writing (isel copes with `d = b op d` through r0). This
    // removes most of the copies `let` and inlining introduce.
    const sources = iv.start >= 0 ? (usesAt.get(iv.start) ?? []) : [];
    let hint: number | undefined;
    for (let k = active.length - 1; k >= 0; k--) {
      const a = active[k]!;
      if (a.iv.end < iv.start) active.splice(k, 1);
      else if (a.iv.end === iv.start && sources.includes(a.iv.v)) {
        active.splice(k, 1);
        hint ??= a.reg;
      }
    }
    const own = argReg.get(iv.v);
    const allowed =
      own !== undefined
        ? [own, ...CALLEE_SAVED]
        : iv.crossesCall
          ? CALLEE_SAVED
          : [...CALLER_SAVED, ...CALLEE_SAVED];
    const busy = new Set(active.map((a) => a.reg));
    const preferred = own ?? hint;
    const free =
      preferred !== undefined && allowed.includes(preferred) && !busy.has(preferred)
        ? preferred
        : allowed.find((r) => !busy.has(r));
    if (free !== undefined) {
      active.push({ iv, reg: free });
      loc.set(iv.v, { kind: "reg", reg: free });
      continue;
    }
    // Spill the value used least per instruction it stays live: long-lived, rarely read
    // values go to the stack, hot ones (packet bounds, loop counters) keep registers.
    const weight = (x: Interval) => (useCount.get(x.v) ?? 0) / (x.end - x.start + 2);
    let victim: { iv: Interval; reg: number } | undefined;
    for (const a of active)
      if (allowed.includes(a.reg) && (!victim || weight(a.iv) < weight(victim.iv))) victim = a;
    if (victim && weight(victim.iv) < weight(iv)) {
      active.splice(active.indexOf(victim), 1);
      spilled.push(victim.iv);
      loc.delete(victim.iv.v);
      active.push({ iv, reg: victim.reg });
      loc.set(iv.v, { kind: "reg", reg: victim.reg });
    } else spilled.push(iv);
  }

  // Spill slots, reused once an interval has ended.
  spilled.sort((a, b) => a.start - b.start);
  const slotEnd: number[] = [];
  for (const iv of spilled) {
    let s = slotEnd.findIndex((e) => e < iv.start);
    if (s < 0) {
      s = slotEnd.length;
      slotEnd.push(iv.end);
    } else slotEnd[s] = iv.end;
    loc.set(iv.v, { kind: "spill", index: s });
  }
  return { loc, spillSlots: slotEnd.length };
}
