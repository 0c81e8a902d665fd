// A ring buffer reservation is gone once submitted or discarded: the verifier rejects any later
// access through it ("invalid mem access 'scalar'"). Reported at that access instead, for the
// accesses that follow the submit in the statements after it (up to a return).
import ts from "typescript";
import { Code, CompileError } from "../errors.js";

const isFunctionBoundary = (n: ts.Node): boolean =>
  ts.isFunctionLike(n) || ts.isSourceFile(n) || ts.isClassLike(n);

/** True when `s` always leaves the function (a return or throw as its last word). */
function alwaysReturns(s: ts.Statement): boolean {
  if (ts.isReturnStatement(s) || ts.isThrowStatement(s)) return true;
  if (ts.isBlock(s)) return s.statements.some(alwaysReturns);
  if (ts.isIfStatement(s))
    return (
      s.elseStatement !== undefined &&
      alwaysReturns(s.thenStatement) &&
      alwaysReturns(s.elseStatement)
    );
  return false;
}

/**
 * Throws at the first use of `event` (the identifier passed to `submit`/`discard` in `call`) in
 * a statement that runs after the call on every path through the enclosing blocks.
 */
export function checkNoUseAfterRelease(
  checker: ts.TypeChecker,
  call: ts.CallExpression,
  event: ts.Expression,
  method: string,
): void {
  if (!ts.isIdentifier(event)) return;
  const sym = checker.getSymbolAtLocation(event);
  if (!sym) return;
  const findUse = (n: ts.Node): ts.Node | undefined => {
    if (ts.isIdentifier(n) && n.text === event.text && checker.getSymbolAtLocation(n) === sym)
      return n;
    return ts.forEachChild(n, findUse);
  };
  const callLine = (() => {
    const sf = call.getSourceFile();
    return sf.getLineAndCharacterOfPosition(call.getStart(sf)).line + 1;
  })();
  let node: ts.Node = call;
  while (!isFunctionBoundary(node.parent)) {
    const parent = node.parent;
    // Loops: a later statement of the body runs after the call, the next iteration too, but
    // the walk stops here (the counter may keep it from running again).
    if (ts.isIterationStatement(parent, false)) return;
    if (
      (ts.isBlock(parent) || ts.isCaseClause(parent) || ts.isDefaultClause(parent)) &&
      ts.isStatement(node)
    ) {
      const list = parent.statements;
      for (let k = list.indexOf(node) + 1; k < list.length; k++) {
        const s = list[k]!;
        const use = findUse(s);
        if (use)
          throw CompileError.at(
            use,
            Code.BadApi,
            `${event.text} was passed to ${method}() (line ${callLine}) and is no longer valid here: the ring buffer owns the record once it is submitted or discarded. Write every field before ${method}()`,
          );
        if (alwaysReturns(s)) return;
      }
      if (ts.isBlock(parent) && parent.statements.some(alwaysReturns)) return;
    }
    node = parent;
  }
}
