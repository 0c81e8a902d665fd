// Loop termination and verifier budgets, checked when a kernel loop is lowered: a loop the
// verifier cannot finish walking must be a compile error at the loop, not a rejection at load.
import ts from "typescript";
import { Code, CompileError } from "./errors.js";

interface ErrorSink {
  err(node: ts.Node, code: Code, msg: string): CompileError;
}

const FLIP: Partial<Record<ts.SyntaxKind, ts.SyntaxKind>> = {
  [ts.SyntaxKind.LessThanToken]: ts.SyntaxKind.GreaterThanToken,
  [ts.SyntaxKind.LessThanEqualsToken]: ts.SyntaxKind.GreaterThanEqualsToken,
  [ts.SyntaxKind.GreaterThanToken]: ts.SyntaxKind.LessThanToken,
  [ts.SyntaxKind.GreaterThanEqualsToken]: ts.SyntaxKind.LessThanEqualsToken,
};

/**
 * Throws when `for (let i = start; i <op> limit; i += step)` never ends: the counter moves
 * away from the bound, or (`!==`) steps over it. `counterLeft` tells which side the counter is.
 */
export function checkLoopEnds(
  sink: ErrorSink,
  s: ts.ForStatement,
  op0: ts.SyntaxKind,
  counterLeft: boolean,
  start: bigint,
  limit: bigint,
  step: bigint,
): void {
  const op = counterLeft ? op0 : (FLIP[op0] ?? op0);
  const never = (why: string, instead: string) =>
    sink.err(
      s,
      Code.UnboundedLoop,
      `loop never ends: ${why}; the verifier would reject it after walking 1,000,000 instructions. Write ${instead}`,
    );
  const values = `${start}, ${start + step}, ${start + 2n * step}, …`;
  switch (op) {
    case ts.SyntaxKind.LessThanToken:
    case ts.SyntaxKind.LessThanEqualsToken: {
      const runs = op === ts.SyntaxKind.LessThanToken ? start < limit : start <= limit;
      if (runs && step < 0n)
        throw never(
          `the counter goes ${values} and stays below ${limit}`,
          `a step that moves the counter towards the bound (i++ or i += C)`,
        );
      return;
    }
    case ts.SyntaxKind.GreaterThanToken:
    case ts.SyntaxKind.GreaterThanEqualsToken: {
      const runs = op === ts.SyntaxKind.GreaterThanToken ? start > limit : start >= limit;
      if (runs && step > 0n)
        throw never(
          `the counter goes ${values} and stays above ${limit}`,
          `a step that moves the counter towards the bound (i-- or i -= C)`,
        );
      return;
    }
    case ts.SyntaxKind.ExclamationEqualsEqualsToken:
    case ts.SyntaxKind.ExclamationEqualsToken: {
      if (start === limit) return;
      const diff = limit - start;
      if (diff % step === 0n && diff / step > 0n) return;
      throw never(
        `the counter goes ${values} and never equals ${limit}`,
        step > 0n
          ? `i < ${limit} (or a bound the step reaches exactly)`
          : `i > ${limit} (or a bound the step reaches exactly)`,
      );
    }
  }
}
