// Size and nesting limits of the compiler, checked early so that a program past them gets a
// diagnostic at its position instead of a stack overflow deep inside TypeScript or a pass.
import ts from "typescript";
import { Code, CompileError } from "./errors.js";

/** Bytes of stack one eBPF frame may use (the kernel's MAX_BPF_STACK). */
export const MAX_STACK = 512;

/**
 * Deepest syntax nesting accepted (a parenthesis, block, `if`, operand of `&&` or `+` each add
 * a level). TypeScript's own parser and checker exhaust Node's default stack near 1,000.
 */
export const MAX_NESTING = 500;

const OPEN = new Set([
  ts.SyntaxKind.OpenParenToken,
  ts.SyntaxKind.OpenBraceToken,
  ts.SyntaxKind.OpenBracketToken,
]);
const CLOSE = new Set([
  ts.SyntaxKind.CloseParenToken,
  ts.SyntaxKind.CloseBraceToken,
  ts.SyntaxKind.CloseBracketToken,
]);

const tooDeep = (file: string, line: number, col: number, depth: string): CompileError =>
  new CompileError(
    Code.Limit,
    `nested too deeply: ${depth} levels here; the compiler accepts at most ${MAX_NESTING}. Split the expression or statement: compute parts into local constants, or use early returns instead of nested ifs`,
    file,
    line,
    col,
  );

/** Brackets nested past MAX_NESTING in `text`, found with TypeScript's scanner (linear). */
export function checkBracketNesting(fileName: string, text: string): void {
  const scanner = ts.createScanner(ts.ScriptTarget.ES2022, true, ts.LanguageVariant.Standard, text);
  let depth = 0;
  for (let k = scanner.scan(); k !== ts.SyntaxKind.EndOfFileToken; k = scanner.scan()) {
    if (OPEN.has(k)) {
      if (++depth > MAX_NESTING) {
        const { line, col } = position(text, scanner.getTokenStart());
        throw tooDeep(fileName, line, col, `more than ${MAX_NESTING}`);
      }
    } else if (CLOSE.has(k)) depth = Math.max(0, depth - 1);
  }
}

/**
 * The compile-time budget: syntax nodes in the user's files of one build (the entry and the
 * modules it imports). About 2,000 statements of 25 nodes; the largest probe of the benchmark
 * has 334. Compile time is linear in program size below it (docs/probe-language.md).
 */
export const MAX_SYNTAX_NODES = 50_000;

/**
 * Instructions the lowering may produce for one program or function, after inlining and
 * unrolling multiplied the source (the kernel accepts at most 1,000,000 verified instructions;
 * a program this size could not pass the verifier in any case).
 */
export const MAX_LOWERED_INSTRS = 200_000;

/** Counts syntax nodes across the user's files against MAX_SYNTAX_NODES. */
export class SizeBudget {
  private nodes = 0;
  count(sf: ts.SourceFile, node: ts.Node): void {
    if (++this.nodes !== MAX_SYNTAX_NODES + 1) return;
    const { line, character } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
    throw new CompileError(
      Code.Limit,
      `program too large: more than ${MAX_SYNTAX_NODES.toLocaleString("en-US")} syntax nodes (about 2,000 statements) in the probe's files; the compiler stops here to keep compile times bounded. Split it into several programs or files built separately, or use loops and functions instead of repeated code`,
      sf.fileName,
      line + 1,
      character + 1,
    );
  }
}

/** The first node nested past MAX_NESTING in a parsed file (an iterative walk). */
export function checkAstNesting(sf: ts.SourceFile, budget?: SizeBudget): void {
  const stack: [ts.Node, number][] = [[sf, 0]];
  for (let top = stack.pop(); top; top = stack.pop()) {
    const [node, depth] = top;
    budget?.count(sf, node);
    if (depth > MAX_NESTING) {
      const { line, character } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
      throw tooDeep(sf.fileName, line + 1, character + 1, `more than ${MAX_NESTING}`);
    }
    // Children pushed last-first, so nodes are counted in source order.
    const children: ts.Node[] = [];
    node.forEachChild((c) => {
      children.push(c);
    });
    for (let k = children.length - 1; k >= 0; k--) stack.push([children[k]!, depth + 1]);
  }
}

function position(text: string, pos: number): { line: number; col: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf("\n"); i >= 0 && i < pos; i = text.indexOf("\n", i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, col: pos - start + 1 };
}

/** True for the RangeError V8 throws when the call stack is exhausted. */
export function isStackOverflow(e: unknown): boolean {
  return e instanceof RangeError && /call stack size/i.test(e.message);
}

/**
 * Parse a file of the user's. Statements nested without brackets (`if (a) if (b) …`) can
 * overflow TypeScript's parser: then the shortest prefix that overflows it (a binary search)
 * locates the place to report.
 */
export function parseUserFile(
  fileName: string,
  text: string,
  lang: ts.ScriptTarget | ts.CreateSourceFileOptions,
): ts.SourceFile {
  const parse = (t: string) => ts.createSourceFile(fileName, t, lang, true);
  try {
    return parse(text);
  } catch (e) {
    if (!isStackOverflow(e)) throw e;
  }
  let ok = 0;
  let bad = text.length;
  while (bad - ok > 1) {
    const mid = (ok + bad) >> 1;
    try {
      parse(text.slice(0, mid));
      ok = mid;
    } catch (e) {
      if (!isStackOverflow(e)) throw e;
      bad = mid;
    }
  }
  const { line, col } = position(text, ok);
  throw tooDeep(fileName, line, col, `more than ${MAX_NESTING}`);
}
