// `enum` and `const enum` declarations: numeric members are compile-time constants (their
// values as the checker computes them, `B = A * 2` and auto-increment included), so `E.B` is
// an immediate wherever it is used, as in C. String members, and members whose value the
// checker cannot compute, are errors.
import ts from "typescript";
import { Code, CompileError } from "../errors.js";

/** Check an enum declaration: every member must have a constant integer value. */
export function checkEnum(d: ts.EnumDeclaration, evalInit: (e: ts.Expression) => unknown): void {
  if (d.modifiers?.some((m) => m.kind === ts.SyntaxKind.DeclareKeyword))
    throw CompileError.at(
      d,
      Code.Unsupported,
      `declare enum ${d.name.text} has no values the compiler knows; write the members out`,
    );
  for (const m of d.members) memberValue(m, evalInit);
}

/**
 * The value of an enum member, computed with the probe's 64-bit semantics (TypeScript folds
 * `0xffffffff | 0` to -1 as JavaScript's 32-bit operators would): its initializer, or
 * the previous member plus one (0 for the first).
 */
export function memberValue(
  m: ts.EnumMember,
  evalInit: (e: ts.Expression) => unknown,
): number | bigint {
  const name = m.name.getText();
  let v: unknown;
  if (m.initializer) v = evalInit(m.initializer);
  else {
    const members = m.parent.members;
    const i = members.indexOf(m);
    if (i === 0) return 0;
    const prev = memberValue(members[i - 1]!, evalInit);
    v = typeof prev === "bigint" ? prev + 1n : prev + 1;
  }
  if (typeof v === "string")
    throw CompileError.at(
      m,
      Code.Unsupported,
      `enum member ${name} is a string; probes have numeric enums only (write ${name} = <number>)`,
    );
  if (!(typeof v === "bigint" || (typeof v === "number" && Number.isInteger(v))))
    throw CompileError.at(
      m,
      Code.NotConstant,
      `enum member ${name} must have a constant integer value (a literal or an expression of constants and other members)`,
    );
  return v;
}

/** The enum member `e` names (`E.A`, `E["A"]`), if any. */
export function enumMemberAt(checker: ts.TypeChecker, e: ts.Expression): ts.EnumMember | undefined {
  if (!ts.isPropertyAccessExpression(e) && !ts.isElementAccessExpression(e)) return undefined;
  let sym = checker.getSymbolAtLocation(ts.isPropertyAccessExpression(e) ? e.name : e);
  if (sym && sym.flags & ts.SymbolFlags.Alias) sym = checker.getAliasedSymbol(sym);
  const decl = sym?.valueDeclaration;
  return decl && ts.isEnumMember(decl) ? decl : undefined;
}
