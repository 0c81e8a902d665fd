// Compile-time values of builtin calls on constants (`Math.min(N, 16)`, `BigInt(K)`), so they
// can be loop bounds, sizes and top-level constants; lower/builtins.ts lowers the rest.
import ts from "typescript";
import { LIB_FILE_NAME } from "../frontend/lib.js";

const NOT = Symbol("not a builtin on constants");

/** The name of a probe-library global (`Math`, `Number`, `BigInt`) that `id` refers to. */
export function libGlobalName(checker: ts.TypeChecker, id: ts.Expression): string | undefined {
  if (!ts.isIdentifier(id)) return undefined;
  const decl = checker.getSymbolAtLocation(id)?.declarations?.[0];
  return decl && decl.getSourceFile().fileName === LIB_FILE_NAME ? id.text : undefined;
}

/** The folded value, or NOT when `e` is not such a call or an argument is not constant. */
export function foldBuiltin(
  checker: ts.TypeChecker,
  e: ts.CallExpression,
  evalArg: (a: ts.Expression) => unknown,
): unknown {
  const callee = e.expression;
  const isMath =
    ts.isPropertyAccessExpression(callee) &&
    libGlobalName(checker, callee.expression) === "Math" &&
    (callee.name.text === "min" || callee.name.text === "max");
  const g = isMath ? "Math" : libGlobalName(checker, callee);
  if (g === undefined || e.arguments.length === 0) return NOT;
  const args = e.arguments.map(evalArg);
  if (args.some((a) => typeof a !== "number" && typeof a !== "bigint" && typeof a !== "boolean"))
    return NOT;
  if (g === "Math") {
    if (args.some((a) => typeof a !== "number" || !Number.isInteger(a))) return NOT;
    const ns = args as number[];
    return (callee as ts.PropertyAccessExpression).name.text === "min"
      ? Math.min(...ns)
      : Math.max(...ns);
  }
  if (args.length !== 1) return NOT;
  const a = args[0] as number | bigint | boolean;
  if (g === "Number")
    return typeof a === "bigint" && a > BigInt(Number.MAX_SAFE_INTEGER) ? a : Number(a);
  if (g === "BigInt") return typeof a === "number" && !Number.isInteger(a) ? NOT : BigInt(a);
  return NOT;
}
export { NOT as NOT_BUILTIN };
