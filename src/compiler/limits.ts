// Size and nesting limits of the compiler, checked early so that a program past them gets a
// diagnostic at its position instead of a stack overflow deep inside TypeScript or a pass.
import ts from "typescript";
import { Code, CompileError } from "./errors.js";

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

/** The first node nested past MAX_NESTING in a parsed file (an iterative walk). */
export function checkAstNesting(sf: ts.SourceFile): void {
  const stack: [ts.Node, number][] = [[sf, 0]];
  for (let top = stack.pop(); top; top = stack.pop()) {
    const [node, depth] = top;
    if (depth > MAX_NESTING) {
      const { line, character } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
      throw tooDeep(sf.fileName, line + 1, character + 1, `more than ${MAX_NESTING}`);
    }
    node.forEachChild((c) => {
      stack.push([c, depth + 1]);
    });
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
