// `arr[i]` with a run-time index into an `array()` field of a map value, a global or a struct
// local (per-key histograms: `if (i < 64) h.slots[i]++`). The index is tested unsigned against
// the length on its own register, which bounds the offset the verifier then adds to the
// pointer; an index outside the array (negative ones included) reaches a zeroed scratch
// element on the stack instead: it reads 0 and a store to it is dropped, as with a typed
// array in JavaScript — never memory outside the field.
import ts from "typescript";
import { Code, CompileError } from "../errors.js";
import { imm, reg, type Operand } from "../ir/ir.js";
import type { ArrayType } from "../../types/index.js";
import type { LowerHost } from "./host.js";
import type { RefValue } from "./values.js";

export function dynamicElement(
  lw: LowerHost,
  obj: RefValue & { type: ArrayType },
  e: ts.ElementAccessExpression,
): RefValue {
  if (obj.base.kind === "reg" && obj.base.id === lw.func.ctx)
    throw CompileError.at(
      e.argumentExpression,
      Code.Unsupported,
      "a run-time index into context memory (a tracepoint record field) is rejected by the kernel: copy the field into a struct local first (const c: T = { … }; c.field = ctx.fields.field) and index that",
    );
  const t = obj.type;
  const size = t.element.size;
  const i = lw.int(lw.expr(e.argumentExpression), e.argumentExpression);
  const idx = lw.mov(i); // its own register: the bound learnt from the test stays with it
  const ptr = lw.vreg();
  const inside = lw.newBlock();
  const outside = lw.newBlock();
  const join = lw.newBlock();
  lw.branch("lt", reg(idx), imm(t.length), inside, outside);

  lw.switchTo(inside);
  const scaled =
    (size & (size - 1)) === 0
      ? size === 1
        ? idx
        : lw.alu("lsh", reg(idx), imm(Math.log2(size)))
      : lw.alu("mul", reg(idx), imm(size));
  let start: Operand;
  if (obj.base.kind === "slot") {
    const a = lw.vreg();
    lw.emit({ op: "addr", dst: a, slot: obj.base.slot, off: obj.off });
    start = reg(a);
  } else
    start = obj.off === 0 ? reg(obj.base.id) : reg(lw.alu("add", reg(obj.base.id), imm(obj.off)));
  lw.emit({ op: "alu", alu: "add", dst: ptr, a: start, b: reg(scaled) });
  lw.jump(join);

  lw.switchTo(outside);
  const scratch = lw.slot(size, "the element an out-of-range index reads", e);
  lw.zero({ kind: "slot", slot: scratch }, 0, size);
  lw.emit({ op: "addr", dst: ptr, slot: scratch, off: 0 });
  lw.jump(join);

  lw.switchTo(join);
  return {
    k: "ref",
    base: { kind: "reg", id: ptr },
    off: 0,
    type: t.element,
    nullable: false,
    readonly: obj.readonly,
  };
}
