// JavaScript builtins with a 64-bit integer meaning: Math.min / Math.max (signed order, as
// numbers below 2^63 order in JavaScript), Number(x) and BigInt(x) (the same 64 bits: number,
// bigint and boolean are all 64-bit integers in a probe; Number(true) is 1).
import ts from "typescript";
import { libGlobalName } from "../module/builtin-consts.js";
import { Code, CompileError } from "../errors.js";
import { reg, type Operand } from "../ir/ir.js";
import type { LowerHost } from "./host.js";
import type { Value } from "./values.js";

function libGlobal(lw: LowerHost, id: ts.Expression): string | undefined {
  return libGlobalName(lw.fe.checker, id);
}

const MATH_HINTS: Record<string, string> = {
  abs: "write x < 0 ? -x : x",
  sign: "write x < 0 ? -1 : x > 0 ? 1 : 0",
  floor: "values are integers already and / truncates: drop the call",
  ceil: "for a rounded-up division write (a + b - 1) / b",
  round: "values are integers already: drop the call",
  trunc: "values are integers already: drop the call",
  random: "prandom() gives a random u32",
  log2: "a loop over the bits (for (let i = 0; i < 64; i++) …) finds the highest set bit",
  pow: "multiply, or shift for powers of two (1 << n)",
  sqrt: "compare squares instead (x * x < n)",
};

/** The value of a builtin call, or undefined when `e` calls no builtin. */
export function lowerBuiltin(lw: LowerHost, e: ts.CallExpression): Value | undefined {
  const callee = e.expression;
  if (ts.isPropertyAccessExpression(callee) && libGlobal(lw, callee.expression) === "Math") {
    const name = callee.name.text;
    if (name !== "min" && name !== "max")
      throw CompileError.at(
        callee,
        Code.Unsupported,
        `Math.${name} is not available in probes: only Math.min and Math.max (eBPF has only integers)${MATH_HINTS[name] ? `; ${MATH_HINTS[name]}` : ""}`,
      );
    return minMax(lw, e, name);
  }
  const g = libGlobal(lw, callee);
  if (g !== "Number" && g !== "BigInt") return undefined;
  const arg = e.arguments[0];
  if (!arg || e.arguments.length !== 1)
    throw CompileError.at(e, Code.BadApi, `${g}(x) takes one argument`);
  const v = lw.expr(arg);
  if (v.k === "const" && (typeof v.v === "boolean" || typeof v.v === "bigint"))
    return { k: "const", v: g === "BigInt" ? BigInt(v.v) : Number(v.v) };
  if (v.k === "const" && typeof v.v === "number")
    return { k: "const", v: g === "BigInt" && Number.isInteger(v.v) ? BigInt(v.v) : v.v };
  return { k: "int", op: lw.int(v, arg) };
}

function minMax(lw: LowerHost, e: ts.CallExpression, name: "min" | "max"): Value {
  if (e.arguments.length === 0)
    throw CompileError.at(
      e,
      Code.BadApi,
      `Math.${name}() needs at least one argument (with none JavaScript gives ${name === "min" ? "" : "-"}Infinity)`,
    );
  for (const a of e.arguments)
    if (ts.isSpreadElement(a))
      throw CompileError.at(a, Code.Unsupported, `Math.${name}(...xs): list the arguments`);
  const ops: Operand[] = e.arguments.map((a) => lw.int(lw.expr(a), a));
  const r = lw.vreg();
  lw.emit({ op: "mov", dst: r, src: ops[0]! });
  for (const x of ops.slice(1)) {
    const set = lw.newBlock();
    const join = lw.newBlock();
    lw.branch(name === "min" ? "slt" : "sgt", x, reg(r), set, join);
    lw.switchTo(set);
    lw.emit({ op: "mov", dst: r, src: x });
    lw.jump(join);
    lw.switchTo(join);
  }
  return { k: "int", op: reg(r) };
}
