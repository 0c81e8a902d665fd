// Compile-time evaluation of the expressions a probe uses as declarations: struct layouts
// (`struct("RequestInfo", { saddr: u32 })` in a shared module), map options, constants,
// `XdpAction.Pass`. Names from tsbpf/types and tsbpf/probe evaluate to the real runtime
// objects, so a layout here is byte-for-byte the one user space decodes with.
import ts from "typescript";
import * as typesRuntime from "../../types/index.js";
import * as probeRuntime from "../../probe/index.js";
import { canonical, type Frontend } from "../frontend/typecheck.js";
import { Code, CompileError } from "../errors.js";
import { numericLiteral } from "./literals.js";
import { enumMemberAt, memberValue } from "./enums.js";
import { foldBuiltin, NOT_BUILTIN } from "./builtin-consts.js";

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Marker for "not a compile-time value". */
export const NOT_CONST: unique symbol = Symbol("not constant");
export type ConstResult = unknown | typeof NOT_CONST;

const TYPE_FACTORIES = new Set(["struct", "array", "bytes"]);
const PROBE_VALUES = new Set(["XdpAction", "TcAction", "SkAction", "SockOpsOp"]);

/** `new Uint8Array(n)`: n zero bytes, assignable to an array field. */
export class ZeroBytes {
  constructor(readonly length: number) {}
}

export class ConstEvaluator {
  private readonly cache = new Map<ts.Symbol, ConstResult>();
  private readonly inProgress = new Set<ts.Symbol>();
  /** Symbols with a value fixed for a stretch of lowering (the counter of an unrolled loop). */
  private readonly bound = new Map<ts.Symbol, unknown>();
  /** Counts reads of `bound` symbols, so values derived from them are not cached. */
  private boundReads = 0;

  constructor(private readonly fe: Frontend) {}

  /** Which tsbpf export (types or probe) `node` names, if any. */
  apiName(node: ts.Node): { module: "types" | "probe"; name: string } | undefined {
    const sym0 = this.fe.checker.getSymbolAtLocation(node);
    if (!sym0) return undefined;
    const sym = canonical(this.fe.checker, sym0);
    for (const [name, s] of this.fe.probeExports) if (s === sym) return { module: "probe", name };
    for (const [name, s] of this.fe.typesExports) if (s === sym) return { module: "types", name };
    return undefined;
  }

  /** Evaluate `f` with `sym` standing for the constant `value` (an unrolled loop's counter). */
  withBinding<T>(sym: ts.Symbol, value: unknown, f: () => T): T {
    const had = this.bound.has(sym);
    const old = this.bound.get(sym);
    this.bound.set(sym, value);
    try {
      return f();
    } finally {
      if (had) this.bound.set(sym, old);
      else this.bound.delete(sym);
    }
  }

  /** The tsbpf/types layout a type annotation names: `Infer<typeof X>` or an alias of it. */
  layoutOf(node: ts.TypeNode, depth = 0): typesRuntime.Type | undefined {
    if (depth > 8 || !ts.isTypeReferenceNode(node)) return undefined;
    const sym0 = this.fe.checker.getSymbolAtLocation(node.typeName);
    if (!sym0) return undefined;
    const sym = canonical(this.fe.checker, sym0);
    if (sym === this.fe.typesExports.get("Infer")) {
      const arg = node.typeArguments?.[0];
      if (arg && ts.isTypeQueryNode(arg) && ts.isIdentifier(arg.exprName)) {
        const v = this.eval(arg.exprName);
        if (typeof v === "object" && v !== null && "kind" in v && "size" in v)
          return v as typesRuntime.Type;
      }
      return undefined;
    }
    const alias = sym.declarations?.find(ts.isTypeAliasDeclaration);
    return alias ? this.layoutOf(alias.type, depth + 1) : undefined;
  }

  private isStructLocal(annotation: ts.TypeNode): boolean {
    const layout = this.layoutOf(annotation);
    return layout !== undefined && layout.kind !== "int";
  }

  /** The value of `e`, or NOT_CONST. Throws CompileError only for definite misuse. */
  eval(e: ts.Expression): ConstResult {
    if (
      ts.isParenthesizedExpression(e) ||
      ts.isAsExpression(e) ||
      ts.isSatisfiesExpression(e) ||
      ts.isNonNullExpression(e)
    )
      return this.eval(e.expression);
    if (ts.isNumericLiteral(e)) return numericLiteral(e);
    if (ts.isBigIntLiteral(e)) return BigInt(e.text.slice(0, -1));
    if (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) return e.text;
    if (e.kind === ts.SyntaxKind.TrueKeyword) return true;
    if (e.kind === ts.SyntaxKind.FalseKeyword) return false;
    if (e.kind === ts.SyntaxKind.NullKeyword) return null;
    if (ts.isPrefixUnaryExpression(e)) {
      const v = this.eval(e.operand);
      if (v === NOT_CONST) return NOT_CONST;
      switch (e.operator) {
        case ts.SyntaxKind.MinusToken:
          return typeof v === "number" || typeof v === "bigint" ? -v : NOT_CONST;
        case ts.SyntaxKind.PlusToken:
          return typeof v === "number" ? v : NOT_CONST;
        case ts.SyntaxKind.TildeToken:
          return typeof v === "bigint" ? ~v : typeof v === "number" ? ~v : NOT_CONST;
        case ts.SyntaxKind.ExclamationToken:
          return !v;
      }
      return NOT_CONST;
    }
    if (ts.isBinaryExpression(e)) return this.binary(e);
    if (ts.isIdentifier(e)) return this.identifier(e);
    const member = enumMemberAt(this.fe.checker, e);
    if (member !== undefined) return this.enumMember(member);
    if (ts.isPropertyAccessExpression(e)) {
      const api = this.apiName(e);
      if (api) return this.apiValue(api, e);
      const obj = this.eval(e.expression);
      if (obj === NOT_CONST || obj === null || typeof obj !== "object") return NOT_CONST;
      const v = (obj as Record<string, unknown>)[e.name.text];
      return v === undefined ? NOT_CONST : v;
    }
    if (ts.isObjectLiteralExpression(e)) {
      const out: Record<string, unknown> = {};
      for (const p of e.properties) {
        if (ts.isPropertyAssignment(p) && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name))) {
          const v = this.eval(p.initializer);
          if (v === NOT_CONST) return NOT_CONST;
          out[p.name.text] = v;
        } else if (ts.isShorthandPropertyAssignment(p)) {
          const v = this.eval(p.name);
          if (v === NOT_CONST) return NOT_CONST;
          out[p.name.text] = v;
        } else return NOT_CONST;
      }
      return out;
    }
    if (
      ts.isNewExpression(e) &&
      ts.isIdentifier(e.expression) &&
      e.expression.text === "Uint8Array"
    ) {
      const n = e.arguments?.[0] && this.eval(e.arguments[0]);
      if (typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= 1 << 16)
        return new ZeroBytes(n);
      return NOT_CONST;
    }
    if (ts.isCallExpression(e)) {
      const b = foldBuiltin(this.fe.checker, e, (a) => this.eval(a));
      if (b !== NOT_BUILTIN) return b as ConstResult;
      const api = this.apiName(e.expression);
      if (api?.module === "types" && TYPE_FACTORIES.has(api.name)) {
        const args = e.arguments.map((a) => this.eval(a));
        if (args.some((a) => a === NOT_CONST)) {
          throw CompileError.at(
            e,
            Code.NotConstant,
            `${api.name}() arguments must be compile-time constants (types, names and numbers)`,
          );
        }
        try {
          const f = (typesRuntime as unknown as Record<string, (...a: unknown[]) => unknown>)[
            api.name
          ]!;
          return f(...args);
        } catch (err) {
          throw CompileError.at(e, Code.BadApi, `${api.name}(): ${(err as Error).message}`);
        }
      }
      return NOT_CONST;
    }
    return NOT_CONST;
  }

  private readonly enumValues = new Map<ts.EnumMember, number | bigint>();
  /** An enum member's value (enums.ts), once per member; a cycle is reported by TypeScript. */
  enumMember(m: ts.EnumMember): number | bigint {
    let v = this.enumValues.get(m);
    if (v === undefined) {
      v = memberValue(m, (x) => this.eval(x));
      this.enumValues.set(m, v);
    }
    return v;
  }

  private apiValue(api: { module: "types" | "probe"; name: string }, node: ts.Node): ConstResult {
    if (api.module === "types") {
      const v = (typesRuntime as unknown as Record<string, unknown>)[api.name];
      return v === undefined ? NOT_CONST : v;
    }
    if (PROBE_VALUES.has(api.name))
      return (probeRuntime as unknown as Record<string, unknown>)[api.name];
    void node;
    return NOT_CONST;
  }

  private identifier(e: ts.Identifier): ConstResult {
    if (e.text === "undefined") return undefined;
    const api = this.apiName(e);
    if (api) return this.apiValue(api, e);
    const sym0 = ts.isShorthandPropertyAssignment(e.parent)
      ? this.fe.checker.getShorthandAssignmentValueSymbol(e.parent)
      : this.fe.checker.getSymbolAtLocation(e);
    if (!sym0) return NOT_CONST;
    const sym = canonical(this.fe.checker, sym0);
    if (this.bound.has(sym)) {
      this.boundReads++;
      return this.bound.get(sym);
    }
    if (this.cache.has(sym)) return this.cache.get(sym);
    const decl = sym.valueDeclaration;
    if (decl && ts.isEnumMember(decl)) return this.enumMember(decl); // `B = A * 2` in an enum
    if (!decl || !ts.isVariableDeclaration(decl) || !decl.initializer) return NOT_CONST;
    const list = decl.parent;
    if (!ts.isVariableDeclarationList(list) || !(list.flags & ts.NodeFlags.Const)) return NOT_CONST;
    // `const ev: Event = { n: 0 }` in a function is a struct local, a stack slot whose fields
    // are assigned later, even when every initial field is a constant.
    if (decl.type && !ts.isSourceFile(list.parent.parent) && this.isStructLocal(decl.type))
      return NOT_CONST;
    if (this.inProgress.has(sym)) return NOT_CONST;
    this.inProgress.add(sym);
    const reads = this.boundReads;
    try {
      const v = this.eval(decl.initializer);
      // `const x = i * 2` inside an unrolled loop has one value per iteration.
      if (this.boundReads === reads) this.cache.set(sym, v);
      return v;
    } finally {
      this.inProgress.delete(sym);
    }
  }

  private binary(e: ts.BinaryExpression): ConstResult {
    const op = e.operatorToken.kind;
    const a = this.eval(e.left);
    if (a === NOT_CONST) return NOT_CONST;
    if (op === ts.SyntaxKind.AmpersandAmpersandToken) return a ? this.eval(e.right) : a;
    if (op === ts.SyntaxKind.BarBarToken) return a ? a : this.eval(e.right);
    if (op === ts.SyntaxKind.QuestionQuestionToken) return a ?? this.eval(e.right);
    const b = this.eval(e.right);
    if (b === NOT_CONST) return NOT_CONST;
    const bothNum = typeof a === "number" && typeof b === "number";
    // A number literal above 2^53 is a bigint here (literals.ts): integers mix freely.
    const int = (v: unknown) => typeof v === "bigint" || Number.isInteger(v);
    const bothBig = !bothNum && int(a) && int(b);
    if (!bothNum && !bothBig) {
      if (op === ts.SyntaxKind.PlusToken && typeof a === "string" && typeof b === "string")
        return a + b;
      if (op === ts.SyntaxKind.EqualsEqualsEqualsToken) return a === b;
      if (op === ts.SyntaxKind.ExclamationEqualsEqualsToken) return a !== b;
      return NOT_CONST;
    }
    // A fraction among the operands (`i + 1.5`): folded as JavaScript would, so the float is
    // reported where it is used; BigInt() of it would throw.
    if (bothNum && (!Number.isInteger(a) || !Number.isInteger(b))) return floatBinary(op, a, b);
    // Integer semantics, 64-bit, exactly as the generated code computes them.
    const x = BigInt(a as number | bigint);
    const y = BigInt(b as number | bigint);
    // JavaScript would produce a fraction here; report it as the float it is.
    if (bothNum && op === ts.SyntaxKind.SlashToken && y !== 0n && x % y !== 0n)
      return (a as number) / (b as number);
    if (op === ts.SyntaxKind.GreaterThanGreaterThanGreaterThanToken) checkUshrCount(e.right, y);
    checkShiftCount(op, e.right, y);
    const r = foldBinary(op, x, y);
    if (r === undefined) return NOT_CONST;
    if (typeof r === "boolean") return r;
    return bothNum && r >= -MAX_SAFE && r <= MAX_SAFE ? Number(r) : r;
  }
}

/** JavaScript's arithmetic and comparisons on numbers, for operands that are not integers. */
function floatBinary(op: ts.SyntaxKind, a: number, b: number): ConstResult {
  switch (op) {
    case ts.SyntaxKind.PlusToken:
      return a + b;
    case ts.SyntaxKind.MinusToken:
      return a - b;
    case ts.SyntaxKind.AsteriskToken:
      return a * b;
    case ts.SyntaxKind.SlashToken:
      return a / b;
    case ts.SyntaxKind.PercentToken:
      return a % b;
    case ts.SyntaxKind.LessThanToken:
      return a < b;
    case ts.SyntaxKind.LessThanEqualsToken:
      return a <= b;
    case ts.SyntaxKind.GreaterThanToken:
      return a > b;
    case ts.SyntaxKind.GreaterThanEqualsToken:
      return a >= b;
    case ts.SyntaxKind.EqualsEqualsEqualsToken:
      return a === b;
    case ts.SyntaxKind.ExclamationEqualsEqualsToken:
      return a !== b;
  }
  return NOT_CONST;
}

/** 64-bit integer semantics for a binary operator; undefined when not foldable. */
export function foldBinary(op: ts.SyntaxKind, x: bigint, y: bigint): bigint | boolean | undefined {
  const S = (v: bigint) => BigInt.asIntN(64, v);
  const U = (v: bigint) => BigInt.asUintN(64, v);
  switch (op) {
    case ts.SyntaxKind.PlusToken:
      return S(x + y);
    case ts.SyntaxKind.MinusToken:
      return S(x - y);
    case ts.SyntaxKind.AsteriskToken:
      return S(x * y);
    case ts.SyntaxKind.SlashToken:
      return y === 0n ? 0n : S(U(x) / U(y));
    case ts.SyntaxKind.PercentToken:
      return y === 0n ? x : S(U(x) % U(y));
    case ts.SyntaxKind.AmpersandToken:
      return S(x & y);
    case ts.SyntaxKind.BarToken:
      return S(x | y);
    case ts.SyntaxKind.CaretToken:
      return S(x ^ y);
    case ts.SyntaxKind.LessThanLessThanToken:
      return S(x << (y & 63n));
    case ts.SyntaxKind.GreaterThanGreaterThanToken:
      return S(x) >> (y & 63n);
    case ts.SyntaxKind.GreaterThanGreaterThanGreaterThanToken:
      return ushr32(x, y);
    case ts.SyntaxKind.LessThanToken:
      return S(x) < S(y);
    case ts.SyntaxKind.LessThanEqualsToken:
      return S(x) <= S(y);
    case ts.SyntaxKind.GreaterThanToken:
      return S(x) > S(y);
    case ts.SyntaxKind.GreaterThanEqualsToken:
      return S(x) >= S(y);
    case ts.SyntaxKind.EqualsEqualsEqualsToken:
    case ts.SyntaxKind.EqualsEqualsToken:
      return S(x) === S(y);
    case ts.SyntaxKind.ExclamationEqualsEqualsToken:
    case ts.SyntaxKind.ExclamationEqualsToken:
      return S(x) !== S(y);
  }
  return undefined;
}

/**
 * `x >>> n` as JavaScript computes it: the low 32 bits of `x` as an unsigned number, shifted
 * right by `n` modulo 32. It is the probe language's one 32-bit operator, so that the `>>> 0`
 * idiom truncates to u32 as TypeScript users expect.
 */
export function ushr32(x: bigint, n: bigint): bigint {
  return BigInt.asUintN(32, x) >> (n & 31n);
}

/**
 * A constant count of `>>>` outside 0–31 is taken modulo 32 by JavaScript (`x >>> 32` is
 * `x >>> 0`), which in a probe is almost always a 64-bit shift gone wrong: reported.
 */
export function checkUshrCount(node: ts.Node, n: bigint): void {
  if (n >= 0n && n < 32n) return;
  throw CompileError.at(
    node,
    Code.Unsupported,
    `\`>>> ${n}\` shifts by ${n & 31n}: like JavaScript, \`>>>\` works on the low 32 bits of its left operand (unsigned) and takes the count modulo 32. Use a count from 0 to 31; to shift a 64-bit value, write >> and mask the result, e.g. (x >> 32) & 0xffffffff`,
  );
}

const SHIFTS = new Set([
  ts.SyntaxKind.LessThanLessThanToken,
  ts.SyntaxKind.GreaterThanGreaterThanToken,
  ts.SyntaxKind.LessThanLessThanEqualsToken,
  ts.SyntaxKind.GreaterThanGreaterThanEqualsToken,
]);

/**
 * `x << n` and `x >> n` are 64-bit shifts; the verifier rejects a constant count outside 0–63
 * ("invalid shift"), so such a count is reported where it is written.
 */
export function checkShiftCount(op: ts.SyntaxKind, node: ts.Node, n: unknown): void {
  if (!SHIFTS.has(op) || (typeof n !== "number" && typeof n !== "bigint")) return;
  if (n >= 0 && n < 64) return;
  const sym =
    op === ts.SyntaxKind.LessThanLessThanToken || op === ts.SyntaxKind.LessThanLessThanEqualsToken
      ? "<<"
      : ">>";
  throw CompileError.at(
    node,
    Code.Unsupported,
    `\`${sym} ${n}\`: shifts work on 64-bit values and the count must be 0 to 63 (the kernel rejects other constant counts). ${Number(n) >= 64 ? (sym === "<<" ? "The result would be 0: write 0" : "Every bit is shifted out: write 0 (or x < 0 ? -1 : 0 for a signed >>)") : "Shift the other way with a positive count"}`,
  );
}
