// `h.record(value)` / `h.record(key, value)` on a Histogram map (module/histogram.ts): the
// bucket computed in registers, then one `lock xadd` of 1 on it —
//   log2:   slot = value ? floor(log2(value)) + 1 : 0 (value unsigned), by a binary search
//           of six compares (if (x >= 1 << 32) { x >>= 32; r += 32; } … then r + x);
//   linear: slot = value < start ? 0 : (value - start) / step (start compared signed);
// both clamped to the last slot. The value is found as `m.add` finds it: lookup, and for a
// key not yet there an insert of zeroes with BPF_NOEXIST and a second lookup (another CPU may
// have inserted it meanwhile). A linear histogram's start and step are stored in the value on
// every record (two plain stores of constants), so user space draws it from the map alone.
import type ts from "typescript";
import { Code, CompileError } from "../errors.js";
import { imm, reg, type Operand, type VReg } from "../ir/ir.js";
import type { MapDecl } from "../module/scan.js";
import type { StructType } from "../../types/index.js";
import type { LowerHost } from "./host.js";
import type { Value } from "./values.js";

const LOOKUP = 1;
const UPDATE = 2;
const BPF_NOEXIST = 1;

export interface HistParts {
  /** evaluates argument i (all arguments first, then placement) */
  arg: (i: number) => Value;
  /** a value placed on the stack with the layout of the map's key */
  keyOnStack: (i: number, v: Value) => Operand;
  fd: () => Operand;
  call: (helper: number, args: Operand[]) => Value;
}

export function lowerHistRecord(
  lw: LowerHost,
  m: MapDecl,
  e: ts.CallExpression,
  p: HistParts,
): Value {
  const h = m.hist!;
  const keyed = m.cls === "HashMap";
  const want = keyed ? 2 : 1;
  if (e.arguments.length !== want)
    throw CompileError.at(
      e,
      Code.BadApi,
      keyed
        ? `${m.name}.record(key, value): the histogram is keyed, pass the key first`
        : `${m.name}.record(value): the histogram has no key (declare it with key: … to pass one)`,
    );
  const kv = keyed ? p.arg(0) : undefined;
  const vArg = e.arguments[want - 1]!;
  const value = lw.int(p.arg(want - 1), vArg);
  const slot = bucket(lw, value, h.slots, h.linear);

  let key: Operand;
  if (kv) key = p.keyOnStack(0, kv);
  else {
    const s = lw.slot(4, `the index of ${m.name}`, e, true);
    lw.emit({ op: "store", base: { kind: "slot", slot: s }, off: 0, size: 4, value: imm(0) });
    const a = lw.vreg();
    lw.emit({ op: "addr", dst: a, slot: s, off: 0 });
    key = reg(a);
  }
  const vt = m.value as StructType;
  const slotsOff = vt.fields.find((f) => f.name === "slots")!.offset;
  const done = lw.newBlock();
  const found = lw.newBlock();
  const ptr = lw.vreg();
  const lookup = (missing: () => void) => {
    const r = p.call(LOOKUP, [p.fd(), key]);
    if (r.k !== "int" || r.op.kind !== "reg") throw new Error("internal: lookup without result");
    const yes = lw.newBlock();
    const no = lw.newBlock();
    lw.branch("ne", r.op, imm(0), yes, no);
    lw.switchTo(yes);
    lw.emit({ op: "mov", dst: ptr, src: r.op });
    lw.jump(found);
    lw.switchTo(no);
    missing();
  };
  lookup(() => {
    if (!keyed) return lw.jump(done);
    const z = lw.slot(vt.size, `a new value of ${m.name}`, e, true);
    lw.zero({ kind: "slot", slot: z }, 0, vt.size);
    const za = lw.vreg();
    lw.emit({ op: "addr", dst: za, slot: z, off: 0 });
    p.call(UPDATE, [p.fd(), key, reg(za), imm(BPF_NOEXIST)]);
    // inserted, or another CPU did: either way the key is there now (or the map is full)
    lookup(() => lw.jump(done));
  });
  lw.switchTo(found);
  if (h.linear) {
    const base = { kind: "reg" as const, id: ptr };
    lw.emit({ op: "store", base, off: 0, size: 8, value: imm(h.linear.start) });
    lw.emit({ op: "store", base, off: 8, size: 8, value: imm(h.linear.step) });
  }
  // the slot's address, computed where the verifier knows the bound (as dynamic-index.ts)
  const at = lw.vreg();
  const inside = lw.newBlock();
  const last = lw.newBlock();
  const add = lw.newBlock();
  lw.branch("lt", reg(slot), imm(h.slots), inside, last);
  lw.switchTo(inside);
  const scaled = lw.alu("lsh", reg(slot), imm(3));
  const start = lw.alu("add", reg(ptr), imm(slotsOff));
  lw.emit({ op: "alu", alu: "add", dst: at, a: reg(start), b: reg(scaled) });
  lw.jump(add);
  lw.switchTo(last);
  lw.emit({ op: "alu", alu: "add", dst: at, a: reg(ptr), b: imm(slotsOff + (h.slots - 1) * 8) });
  lw.jump(add);
  lw.switchTo(add);
  lw.emit({ op: "atomicAdd", base: { kind: "reg", id: at }, off: 0, size: 8, value: imm(1) });
  lw.jump(done);
  lw.switchTo(done);
  return { k: "void" };
}

/** The bucket index of `value`, not yet clamped to the slot count. */
function bucket(
  lw: LowerHost,
  value: Operand,
  slots: number,
  linear: { start: bigint; step: bigint } | undefined,
): VReg {
  const r = lw.vreg();
  if (linear) {
    const below = lw.newBlock();
    const above = lw.newBlock();
    const join = lw.newBlock();
    lw.branch("slt", value, imm(linear.start), below, above);
    lw.switchTo(below);
    lw.emit({ op: "mov", dst: r, src: imm(0) });
    lw.jump(join);
    lw.switchTo(above);
    const d = linear.start === 0n ? value : reg(lw.alu("sub", value, imm(linear.start)));
    if (linear.step === 1n) lw.emit({ op: "mov", dst: r, src: d });
    else lw.emit({ op: "alu", alu: "div", dst: r, a: d, b: imm(linear.step) });
    lw.jump(join);
    lw.switchTo(join);
    return r;
  }
  void slots;
  const x = lw.mov(value);
  lw.emit({ op: "mov", dst: r, src: imm(0) });
  for (const s of [32, 16, 8, 4, 2, 1]) {
    const yes = lw.newBlock();
    const next = lw.newBlock();
    lw.branch("ge", reg(x), imm(1n << BigInt(s)), yes, next);
    lw.switchTo(yes);
    lw.emit({ op: "alu", alu: "rsh", dst: x, a: reg(x), b: imm(s) });
    lw.emit({ op: "alu", alu: "add", dst: r, a: reg(r), b: imm(s) });
    lw.jump(next);
    lw.switchTo(next);
  }
  // x is now 1 for any value ≥ 1 and 0 for 0: slot = floor(log2) + 1, or 0
  return lw.alu("add", reg(r), reg(x));
}
