// A ring buffer reservation is gone once submitted or discarded: the verifier rejects any later
// access through it ("invalid mem access 'scalar'"). Reported at that access instead, on every
// path the function can take after the submit: through if/else, switch (fall-through and
// break), loops (a later iteration, the code after the loop, `continue`/`break`) and `&&`/`||`
// chains, until a return or a new value for the variable (`e = rb.reserve()`, the declaration
// of a loop body's own `const e`) ends it.
import ts from "typescript";
import { Code, CompileError } from "../errors.js";

/** May the record be released here? undefined: no path reaches this point. */
type State = boolean | undefined;

const join = (a: State, b: State): State => (a === undefined ? b : b === undefined ? a : a || b);

interface Jumps {
  brk: State;
  cont: State;
}

/**
 * Throws at the first use of `event` (the identifier passed to `submit`/`discard` in `call`)
 * that some path from the call reaches (flow-sensitive over the enclosing function's body).
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
  let fn: ts.Node = call;
  while (!ts.isFunctionLike(fn) && !ts.isSourceFile(fn)) fn = fn.parent;
  const body = ts.isFunctionLike(fn) ? (fn as ts.FunctionLikeDeclaration).body : undefined;
  if (!body) return;

  const sf = call.getSourceFile();
  const callLine = sf.getLineAndCharacterOfPosition(call.getStart(sf)).line + 1;
  const isEvent = (n: ts.Node): n is ts.Identifier =>
    ts.isIdentifier(n) && n.text === event.text && checker.getSymbolAtLocation(n) === sym;
  const fail = (use: ts.Node): never => {
    throw CompileError.at(
      use,
      Code.BadApi,
      `${event.text} was passed to ${method}() (line ${callLine}) and is no longer valid here: the ring buffer owns the record once it is submitted or discarded. Write every field before ${method}()`,
    );
  };

  /**
   * An expression evaluated in state `s`: a use of the event while it may be released fails;
   * the call itself releases it; an assignment of a new value to it ends the release.
   */
  const expr = (e: ts.Node | undefined, s: State): State => {
    if (!e || s === undefined) return s;
    if (e === call) {
      for (const a of call.arguments) s = expr(a, s);
      return true;
    }
    if (ts.isFunctionLike(e)) return s; // a nested function runs elsewhere
    if (isEvent(e)) return s ? fail(e) : s;
    if (ts.isBinaryExpression(e)) {
      const op = e.operatorToken.kind;
      if (op === ts.SyntaxKind.EqualsToken && isEvent(e.left)) {
        expr(e.right, s);
        return false;
      }
      if (
        op === ts.SyntaxKind.AmpersandAmpersandToken ||
        op === ts.SyntaxKind.BarBarToken ||
        op === ts.SyntaxKind.QuestionQuestionToken
      ) {
        const l = expr(e.left, s);
        return join(l, expr(e.right, l)); // the right side may not run
      }
      return expr(e.right, expr(e.left, s));
    }
    if (ts.isConditionalExpression(e)) {
      const c = expr(e.condition, s);
      return join(expr(e.whenTrue, c), expr(e.whenFalse, c));
    }
    let out: State = s;
    ts.forEachChild(e, (c) => {
      out = expr(c, out);
    });
    return out;
  };

  const stmts = (list: readonly ts.Statement[], s: State, j: Jumps): State => {
    for (const x of list) s = stmt(x, s, j);
    return s;
  };

  const stmt = (n: ts.Statement, s: State, j: Jumps): State => {
    if (s === undefined) return undefined;
    if (ts.isBlock(n)) return stmts(n.statements, s, j);
    if (ts.isVariableStatement(n)) {
      for (const d of n.declarationList.declarations) {
        s = expr(d.initializer, s);
        if (ts.isIdentifier(d.name) && checker.getSymbolAtLocation(d.name) === sym) s = false;
      }
      return s;
    }
    if (ts.isExpressionStatement(n)) return expr(n.expression, s);
    if (ts.isReturnStatement(n) || ts.isThrowStatement(n)) {
      expr(n.expression, s);
      return undefined;
    }
    if (ts.isIfStatement(n)) {
      const c = expr(n.expression, s);
      const t = stmt(n.thenStatement, c, j);
      const f = n.elseStatement ? stmt(n.elseStatement, c, j) : c;
      return join(t, f);
    }
    if (ts.isBreakStatement(n)) {
      j.brk = join(j.brk, s);
      return undefined;
    }
    if (ts.isContinueStatement(n)) {
      j.cont = join(j.cont, s);
      return undefined;
    }
    if (ts.isSwitchStatement(n)) {
      const v = expr(n.expression, s);
      const inner: Jumps = { brk: undefined, cont: j.cont };
      let fall: State = undefined;
      for (const cl of n.caseBlock.clauses) {
        const entry = join(ts.isCaseClause(cl) ? expr(cl.expression, v) : v, fall);
        fall = stmts(cl.statements, entry, inner);
      }
      j.cont = inner.cont;
      const hasDefault = n.caseBlock.clauses.some(ts.isDefaultClause);
      return join(join(inner.brk, fall), hasDefault ? undefined : v);
    }
    if (ts.isForStatement(n) || ts.isWhileStatement(n) || ts.isDoStatement(n)) {
      let entry: State = s;
      if (ts.isForStatement(n) && n.initializer)
        entry = ts.isVariableDeclarationList(n.initializer)
          ? n.initializer.declarations.reduce<State>((x, d) => expr(d.initializer, x), entry)
          : expr(n.initializer, entry);
      // Iterate to a fixpoint: the state at the loop's head joins the entry with the end of
      // the body and its `continue`s (two rounds suffice on this two-value lattice).
      let head: State = entry;
      let exit: State = undefined;
      for (let round = 0; round < 3; round++) {
        const inner: Jumps = { brk: undefined, cont: undefined };
        const cond = ts.isDoStatement(n)
          ? head
          : expr(ts.isForStatement(n) ? n.condition : n.expression, head);
        let end = stmt(n.statement, cond, inner);
        end = join(end, inner.cont);
        if (ts.isForStatement(n)) end = expr(n.incrementor, end);
        if (ts.isDoStatement(n)) end = expr(n.expression, end);
        exit = join(inner.brk, ts.isDoStatement(n) ? end : cond);
        const next = join(head, end);
        if (next === head) break;
        head = next;
      }
      return exit;
    }
    if (ts.isLabeledStatement(n)) return stmt(n.statement, s, j);
    if (ts.isFunctionDeclaration(n) || ts.isClassDeclaration(n)) return s;
    // anything else (for…of, try: errors elsewhere): its expressions in order
    return expr(n, s);
  };

  if (ts.isBlock(body)) stmts(body.statements, false, { brk: undefined, cont: undefined });
  else expr(body, false);
}
