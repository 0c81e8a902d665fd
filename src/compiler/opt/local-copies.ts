// Block-local constant and copy propagation, also for vregs with several definitions, which
// the global passes (fold.ts, copies.ts) leave alone.
import { defOf, type Base, type Func, type Instr, type Operand, type VReg } from "../ir/ir.js";

/** Substitute `env`'s known values into an instruction's operands (bases only by registers). */
export function substitute(i: Instr, env: Map<VReg, Operand>): [Instr, boolean] {
  let hit = false;
  const op = (o: Operand): Operand => {
    const r = o.kind === "reg" ? env.get(o.id) : undefined;
    if (!r) return o;
    hit = true;
    return r;
  };
  const base = <B extends Base>(b: B): B => {
    const r = b.kind === "reg" ? env.get(b.id) : undefined;
    if (!r || r.kind !== "reg") return b;
    hit = true;
    return { kind: "reg", id: r.id } as B;
  };
  let out: Instr;
  switch (i.op) {
    case "mov":
      out = { ...i, src: op(i.src) };
      break;
    case "alu":
      out = { ...i, a: op(i.a), b: op(i.b) };
      break;
    case "neg":
    case "bswap":
      out = { ...i, a: op(i.a) };
      break;
    case "load":
      out = { ...i, base: base(i.base) };
      break;
    case "store":
    case "atomicAdd":
      out = { ...i, base: base(i.base), value: op(i.value) };
      break;
    case "atomic":
      out = {
        ...i,
        base: base(i.base),
        value: op(i.value),
        ...(i.expected ? { expected: op(i.expected) } : {}),
      };
      break;
    case "call":
      out = { ...i, args: i.args.map(op) };
      break;
    default:
      out = i;
  }
  return [hit ? out : i, hit];
}

/** Record `i`'s effect on the block-local value map: a move makes its target known. */
export function localStep(env: CopyEnv, i: Instr): void {
  const d = defOf(i);
  if (d === undefined) return;
  env.delete(d);
  const copies = env.copiesOf.get(d);
  if (copies) for (const v of [...copies]) env.delete(v);
  if (i.op === "mov" && !(i.src.kind === "reg" && i.src.id === d)) env.set(d, i.src);
}

/**
 * The block-local value map, with the vregs holding a copy of each vreg indexed, so that a
 * redefinition forgets its copies without scanning the map (linear in the block, not quadratic).
 */
export class CopyEnv extends Map<VReg, Operand> {
  readonly copiesOf = new Map<VReg, Set<VReg>>();
  override set(v: VReg, o: Operand): this {
    this.delete(v);
    super.set(v, o);
    if (o.kind === "reg") {
      const s = this.copiesOf.get(o.id);
      if (s) s.add(v);
      else this.copiesOf.set(o.id, new Set([v]));
    }
    return this;
  }
  override delete(v: VReg): boolean {
    const o = this.get(v);
    if (o === undefined) return false;
    if (o.kind === "reg") this.copiesOf.get(o.id)?.delete(v);
    return super.delete(v);
  }
}

/**
 * Constant and copy propagation inside each block, also for vregs with several definitions
 * (joins), which the global passes leave alone: `v = 0; … ret v` returns 0 directly.
 */
export function propagateLocally(f: Func): boolean {
  let changed = false;
  for (const b of f.blocks) {
    const env = new CopyEnv();
    b.instrs = b.instrs.map((i) => {
      const [out, hit] = substitute(i, env);
      if (hit) changed = true;
      localStep(env, out);
      return out;
    });
    if (env.size === 0) continue;
    const t = b.term;
    const op = (o: Operand): Operand => (o.kind === "reg" ? (env.get(o.id) ?? o) : o);
    if (t.op === "br") {
      const [a, bb] = [op(t.a), op(t.b)];
      if (a !== t.a || bb !== t.b) {
        b.term = { ...t, a, b: bb };
        changed = true;
      }
    } else if (t.op === "ret" && op(t.value) !== t.value) {
      b.term = { ...t, value: op(t.value) };
      changed = true;
    }
  }
  return changed;
}
