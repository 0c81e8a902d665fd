// Loop termination and verifier budgets, checked when a kernel loop is lowered: a loop the
// verifier cannot finish walking must be a compile error at the loop, not a rejection at load.
import ts from "typescript";
import { Code, CompileError } from "../errors.js";

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

/**
 * How many times `for (let i = start; i <op> limit; i += step)` runs its body, for a loop that
 * ends (checkLoopEnds passed); undefined for a condition not of the documented forms.
 */
export function iterations(
  op0: ts.SyntaxKind,
  counterLeft: boolean,
  start: bigint,
  limit: bigint,
  step: bigint,
): bigint | undefined {
  const op = counterLeft ? op0 : (FLIP[op0] ?? op0);
  const ceilDiv = (a: bigint, b: bigint) => (a <= 0n ? 0n : (a + b - 1n) / b);
  switch (op) {
    case ts.SyntaxKind.LessThanToken:
      return step > 0n ? ceilDiv(limit - start, step) : undefined;
    case ts.SyntaxKind.LessThanEqualsToken:
      return step > 0n ? ceilDiv(limit - start + 1n, step) : undefined;
    case ts.SyntaxKind.GreaterThanToken:
      return step < 0n ? ceilDiv(start - limit, -step) : undefined;
    case ts.SyntaxKind.GreaterThanEqualsToken:
      return step < 0n ? ceilDiv(start - limit + 1n, -step) : undefined;
    case ts.SyntaxKind.ExclamationEqualsEqualsToken:
    case ts.SyntaxKind.ExclamationEqualsToken:
      return (limit - start) / step;
  }
  return undefined;
}

/**
 * The verifier walks every iteration of a kernel loop, and of a loop nested in others once per
 * iteration of those, each at least two instructions (the test and the step), and gives up after
 * 1,000,000 instructions: more iterations in total than this cannot load.
 */
export const MAX_TOTAL_ITERATIONS = 500_000n;

/** Throws when a kernel loop's iterations, times those of the loops around it, exceed the budget. */
export function checkLoopBudget(
  sink: ErrorSink,
  s: ts.ForStatement,
  outer: bigint,
  own: bigint,
): void {
  const total = outer * own;
  if (total <= MAX_TOTAL_ITERATIONS) return;
  const nested = outer > 1n ? ` (${own} here, times ${outer} for the loops around it)` : "";
  throw sink.err(
    s,
    Code.UnboundedLoop,
    `loop body runs ${total} times in total${nested}; the verifier walks every iteration and stops at 1,000,000 instructions, so more than ${MAX_TOTAL_ITERATIONS} iterations cannot load. Use fewer iterations (break early, or move the outer work to user space or several programs)`,
  );
}
