// Which kernel loops become `bpf_loop` calls (helper 181, Linux 5.17+), and what their body
// reaches of the code around it. The verifier walks a bounded loop iteration by iteration and
// keeps a pending state per run-time branch: a long loop whose body branches is rejected ("The
// sequence of 8193 jumps is too complex") although it ends. `bpf_loop(n, cb, &ctx, 0)` has the
// body verified as a function of its own, once (or until its states converge) whatever `n` is.
//
// The rule (docs/probe-language.md, "Loops"): a loop that is not unrolled becomes a bpf_loop
// when it runs more than BPF_LOOP_MIN_TRIPS times and its body branches (an `if`, `switch`,
// `? :`, `&&`, `||`, `??`, `?.`, a nested loop, `break`/`continue`/`return`, or a call). Its body then
// becomes a static callback subprogram `long cb(u32 index, void *ctx)`; `ctx` points at a
// struct on the caller's stack holding the variables the body reads (copied in) and assigns
// (copied out at every exit), and a slot for an early `return`'s value and flag. The callback
// returns 0 to go on (the end of the body, `continue`) and 1 to stop (`break`, `return`).
//
// Variables the body can reach this way: integers (`let`, `const`), references to stack structs
// and map values, maps, constants and local functions. A body that uses anything else of the
// code around it (the context, packet views, a `let` holding a reference) stays a kernel loop,
// as before (captureFailure says why).
import ts from "typescript";
import { canonical } from "../frontend/typecheck.js";
import type { Binding } from "./state.js";

/** Kernel loops of more iterations than this whose body branches become bpf_loop calls. */
export const BPF_LOOP_MIN_TRIPS = 1024n;

/** The helper's id (`BPF_FUNC_loop`). */
export const BPF_FUNC_LOOP = 181;

/** One variable of the code around the loop that its body uses. */
export interface Capture {
  sym: ts.Symbol;
  binding: Binding;
  /** stored in the context struct at this offset (undefined: nothing to store, a constant…) */
  off?: number;
  /** the body assigns it: copied back after the call */
  written: boolean;
}

export interface LoopContext {
  captures: Capture[];
  /** bytes of the context struct */
  size: number;
  /** the body has a `return` (of the enclosing function): flag and value slots */
  ret?: { flag: number; value: number };
}

const BRANCHING = new Set<ts.SyntaxKind>([
  ts.SyntaxKind.IfStatement,
  ts.SyntaxKind.SwitchStatement,
  ts.SyntaxKind.ConditionalExpression,
  ts.SyntaxKind.ForStatement,
  ts.SyntaxKind.BreakStatement,
  ts.SyntaxKind.ContinueStatement,
  ts.SyntaxKind.ReturnStatement,
  ts.SyntaxKind.CallExpression,
]);

/** Does `body` branch at run time (the reason a long loop becomes a bpf_loop)? */
export function bodyBranches(body: ts.Node): boolean {
  const visit = (n: ts.Node): boolean => {
    if (BRANCHING.has(n.kind)) return true;
    if (
      ts.isBinaryExpression(n) &&
      (n.operatorToken.kind === ts.SyntaxKind.AmpersandAmpersandToken ||
        n.operatorToken.kind === ts.SyntaxKind.BarBarToken ||
        n.operatorToken.kind === ts.SyntaxKind.QuestionQuestionToken)
    )
      return true;
    if ((ts.isPropertyAccessExpression(n) || ts.isElementAccessExpression(n)) && n.questionDotToken)
      return true;
    return ts.forEachChild(n, visit) ?? false;
  };
  return visit(body);
}

const isAssignOp = (k: ts.SyntaxKind) =>
  k >= ts.SyntaxKind.FirstAssignment && k <= ts.SyntaxKind.LastAssignment;

/**
 * The variables of the code around the loop that `body` uses (bindings in `env`), each with
 * whether the body assigns it; the bodies of local functions the body calls are searched too
 * (they may use the same variables). A `return` of the enclosing function in the body (not
 * inside a function of its own) is reported in `returns`.
 */
export function findCaptures(
  checker: ts.TypeChecker,
  env: ReadonlyMap<ts.Symbol, Binding>,
  body: ts.Node,
): { captures: Map<ts.Symbol, Capture>; returns: boolean } {
  const captures = new Map<ts.Symbol, Capture>();
  const seenFns = new Set<ts.Node>();
  let returns = false;
  const lookup = (id: ts.Identifier): [ts.Symbol, Binding] | undefined => {
    const s0 = ts.isShorthandPropertyAssignment(id.parent)
      ? checker.getShorthandAssignmentValueSymbol(id.parent)
      : checker.getSymbolAtLocation(id);
    if (!s0) return undefined;
    const s = canonical(checker, s0);
    const b = env.get(s);
    if (b) return [s, b];
    const b0 = env.get(s0);
    return b0 ? [s0, b0] : undefined;
  };
  const written = (id: ts.Identifier): boolean => {
    const p = id.parent;
    if (ts.isBinaryExpression(p) && p.left === id && isAssignOp(p.operatorToken.kind)) return true;
    if (
      (ts.isPrefixUnaryExpression(p) || ts.isPostfixUnaryExpression(p)) &&
      (p.operator === ts.SyntaxKind.PlusPlusToken || p.operator === ts.SyntaxKind.MinusMinusToken)
    )
      return true;
    return ts.isParenthesizedExpression(p) && written(p as unknown as ts.Identifier);
  };
  const visit = (n: ts.Node, inFn: boolean): void => {
    if (ts.isReturnStatement(n) && !inFn) returns = true;
    if (ts.isIdentifier(n)) {
      const hit = lookup(n);
      if (hit) {
        const [s, b] = hit;
        const c = captures.get(s) ?? { sym: s, binding: b, written: false };
        c.written ||= written(n);
        captures.set(s, c);
        if (b.value.k === "fn" && !seenFns.has(b.value.decl)) {
          seenFns.add(b.value.decl);
          visit(b.value.decl, true);
        }
      }
    }
    const fn = ts.isFunctionLike(n) && n !== body;
    ts.forEachChild(n, (c) => visit(c, inFn || fn));
  };
  visit(body, false);
  return { captures, returns };
}

/**
 * Why a captured variable cannot reach the callback, or undefined when it can. Integers are
 * copied in (and out when written); references are passed as pointers (the verifier keeps a
 * pointer spilled to the caller's stack typed, so the callback reads it back as one).
 */
export function captureFailure(c: Capture): string | undefined {
  const b = c.binding;
  if (b.pointer) return `the body uses ${c.sym.name}, a \`let\` holding a reference`;
  const v = b.value;
  switch (v.k) {
    case "int":
      return v.present !== undefined
        ? `the body uses ${c.sym.name}, an integer that may be undefined`
        : undefined;
    case "const":
    case "map":
    case "fn":
      return undefined;
    case "ref":
      return v.nullReg !== undefined && (v.base.kind !== "reg" || v.base.id !== v.nullReg)
        ? `the body uses ${c.sym.name}, a reference not yet tested for null`
        : undefined;
    case "ctx":
      return `the body uses the context ${c.sym.name}`;
    case "packet":
    case "view":
      return `the body uses ${c.sym.name}, a packet view`;
    default:
      return `the body uses ${c.sym.name} (${v.k})`;
  }
}

/** Offsets in the context struct: 8 bytes per stored capture, then the return flag and value. */
export function layoutContext(captures: Capture[], returns: boolean): LoopContext {
  let off = 0;
  for (const c of captures) {
    const v = c.binding.value;
    const stored =
      c.binding.mutable !== undefined ||
      (v.k === "int" && v.op.kind === "reg") ||
      (v.k === "int" && c.written) ||
      v.k === "ref";
    if (stored) {
      c.off = off;
      off += 8;
    }
  }
  const ret = returns ? { flag: off, value: off + 8 } : undefined;
  if (ret) off += 16;
  return { captures, size: Math.max(off, 8), ...(ret ? { ret } : {}) };
}
