// `Atomics.add(ref, "field", n)` and the rest of src/probe/atomics.ts: one BPF_ATOMIC
// instruction on a u32/u64/i32/i64 field of a map value or global, returning the old value.
import ts from "typescript";
import { Code, CompileError } from "../errors.js";
import { imm, reg, type AtomicOp, type Operand } from "../ir/ir.js";
import type { LowerHost } from "./host.js";
import { describeValue, type Value } from "./values.js";

const OPS: Record<string, AtomicOp> = {
  add: "add",
  sub: "add",
  and: "and",
  or: "or",
  xor: "xor",
  exchange: "xchg",
  compareExchange: "cmpxchg",
};

export function lowerAtomics(lw: LowerHost, method: string, e: ts.CallExpression): Value {
  const rmw = OPS[method];
  const what = `Atomics.${method}()`;
  if (rmw === undefined)
    throw CompileError.at(
      e.expression,
      Code.BadApi,
      `Atomics.${method} is not available in probe code; use add, sub, and, or, xor, exchange or compareExchange`,
    );
  const n = rmw === "cmpxchg" ? 4 : 3;
  if (e.arguments.length !== n)
    throw CompileError.at(
      e,
      Code.BadApi,
      rmw === "cmpxchg"
        ? `${what} takes (target, "field", expected, replacement)`
        : `${what} takes (target, "field", value)`,
    );
  const [targetArg, fieldArg] = e.arguments as unknown as [ts.Expression, ts.Expression];
  const target = lw.expr(targetArg);
  if (target.k !== "ref")
    throw CompileError.at(
      targetArg,
      Code.BadApi,
      `${what}: the target must be a map value or global (a reference), got ${describeValue(target)}`,
    );
  const field = lw.mod.consts.eval(fieldArg);
  if (typeof field !== "string")
    throw CompileError.at(
      fieldArg,
      Code.NotConstant,
      `${what}: the field name must be a string literal`,
    );
  const place = lw.refMember(target, field, fieldArg);
  if (
    place.k !== "ref" ||
    place.type.kind !== "int" ||
    (place.type.size !== 4 && place.type.size !== 8) ||
    place.type.byteOrder !== "little"
  )
    throw CompileError.at(
      fieldArg,
      Code.BadApi,
      `${what}: the field must be a u32/u64/i32/i64 (eBPF atomics work on 4- and 8-byte words)`,
    );
  if (place.readonly)
    throw CompileError.at(fieldArg, Code.BadApi, `${what}: the target is read-only`);
  if (
    place.base.kind === "reg" &&
    (lw.packet?.data === place.base.id || lw.packet?.end === place.base.id)
  )
    throw CompileError.at(targetArg, Code.BadApi, `${what}: packet memory has no atomics`);
  const int = (k: number): Operand => {
    const a = e.arguments[k]!;
    return lw.int(lw.expr(a), a);
  };
  let value = int(2);
  const expected = rmw === "cmpxchg" ? value : undefined;
  if (rmw === "cmpxchg") value = int(3);
  if (method === "sub")
    value = value.kind === "imm" ? imm(-value.value) : reg(lw.alu("sub", imm(0), value));
  const size = place.type.size as 4 | 8;
  // as a statement (result unused) add/and/or/xor take the plain `lock` form
  const unused = ts.isExpressionStatement(e.parent) && rmw !== "xchg" && rmw !== "cmpxchg";
  const dst = unused ? undefined : lw.vreg();
  lw.emit({
    op: "atomic",
    rmw,
    dst,
    base: place.base,
    off: place.off,
    size,
    value,
    ...(expected ? { expected } : {}),
  });
  if (dst === undefined) return { k: "void" };
  // a 4-byte fetch is zero-extended; an i32 field reads sign-extended, as a plain read does
  if (place.type.signed && size === 4)
    return { k: "int", op: reg(lw.alu("arsh", reg(lw.alu("lsh", reg(dst), imm(32))), imm(32))) };
  return { k: "int", op: reg(dst) };
}
