// Loop bounds known when compiling beyond literal constants: a `.length` the compiler knows
// (`bytes.length`, an array field's length) and arithmetic on such values
// (`head.length - 3`, `(n.length + 1) * 2`), so scanning loops over bytes read from a packet are
// written as in C (`for (i = 0; i < sizeof(buf) - 3; i++)`).
import ts from "typescript";
import { NOT_CONST } from "../module/consteval.js";
import type { LowerHost as Lowerer } from "./host.js";

export function compileTimeBound(lw: Lowerer, e: ts.Expression): unknown {
  const k = lw.mod.consts.eval(e);
  if (k !== NOT_CONST) return k;
  if (ts.isParenthesizedExpression(e)) return compileTimeBound(lw, e.expression);
  if (ts.isPropertyAccessExpression(e) && e.name.text === "length") {
    const v = lw.expr(e);
    return v.k === "const" ? v.v : NOT_CONST;
  }
  if (ts.isBinaryExpression(e)) {
    const op = e.operatorToken.kind;
    if (
      op !== ts.SyntaxKind.PlusToken &&
      op !== ts.SyntaxKind.MinusToken &&
      op !== ts.SyntaxKind.AsteriskToken
    )
      return NOT_CONST;
    const a = compileTimeBound(lw, e.left);
    const b = compileTimeBound(lw, e.right);
    if (typeof a !== "number" || typeof b !== "number") return NOT_CONST;
    return op === ts.SyntaxKind.PlusToken ? a + b : op === ts.SyntaxKind.MinusToken ? a - b : a * b;
  }
  return NOT_CONST;
}
