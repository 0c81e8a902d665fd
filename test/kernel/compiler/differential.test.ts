// Differential test of code generation: random integer programs (locals, branches, loops,
// 64-bit arithmetic, JavaScript's 32-bit `>>>`, calls of a subprogram) run in the kernel must
// compute exactly what a reference evaluator of the documented semantics computes. Exercises
// lowering, folding, register allocation, spilling, the 32-bit ALU forms (`w` shifts and
// zero-extensions, whose results are compared signed and used as 64-bit values) and the
// argument moves of a bpf-to-bpf call.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { needsKernel } from "../../support/kernel.js";
import { compileProbe } from "../../../src/compiler/index.js";
import { Collection } from "../../../src/load/collection.js";
import { u32, u64 } from "../../../src/types/index.js";
import { HEADER, virtualPath } from "../../unit/compiler/support.js";

type Expr =
  | { k: "var"; name: string }
  | { k: "lit"; v: bigint }
  | { k: "bin"; op: string; a: Expr; b: Expr }
  | { k: "shift"; op: "<<" | ">>"; a: Expr; n: number }
  /** `a >>> n` on numbers: a constant count 0–31, or a run-time one (`x ^ e`, any value) */
  | { k: "ushr"; a: Expr; n: number | Expr }
  | { k: "cond"; cmp: string; a: Expr; b: Expr; t: Expr; f: Expr }
  /** `a >>> (Number(x cmp y) << sh)`: a count of 0 or 2^sh, the branch-free idiom of bcc's log2 */
  | { k: "ushrc"; a: Expr; cmp: string; x: Expr; y: Expr; sh: number }
  /** `f5(…)`, the `@noinline` subprogram of the test (PRELUDE) */
  | { k: "call"; args: [Expr, Expr, Expr, Expr, Expr] };

type Stmt =
  | { k: "let"; name: string; e: Expr }
  | { k: "assign"; name: string; e: Expr }
  | { k: "if"; cmp: string; a: Expr; b: Expr; then: Stmt[]; else: Stmt[] }
  | { k: "for"; n: number; body: Stmt[] };

const S = (v: bigint) => BigInt.asIntN(64, v);
const U = (v: bigint) => BigInt.asUintN(64, v);

function evalBin(op: string, a: bigint, b: bigint): bigint {
  switch (op) {
    case "+":
      return S(a + b);
    case "-":
      return S(a - b);
    case "*":
      return S(a * b);
    case "/":
      return b === 0n ? 0n : S(U(a) / U(b));
    case "%":
      return b === 0n ? a : S(U(a) % U(b));
    case "&":
      return S(a & b);
    case "|":
      return S(a | b);
    default:
      return S(a ^ b);
  }
}

function cmp(op: string, a: bigint, b: bigint): boolean {
  switch (op) {
    case "<":
      return a < b;
    case "<=":
      return a <= b;
    case ">":
      return a > b;
    case ">=":
      return a >= b;
    case "===":
      return a === b;
    default:
      return a !== b;
  }
}

/**
 * x and y are consts bound to u64 map values: an ordering comparison of one with the other or
 * with a literal >= 0 is unsigned (docs/probe-language.md); everything else is signed.
 */
function cmpExpr(op: string, a: Expr, b: Expr, env: Map<string, bigint>): boolean {
  const u64 = (e: Expr) => e.k === "var" && (e.name === "x" || e.name === "y");
  // literals and operators over literals fold to constants in the compiler
  const constant = (e: Expr): boolean =>
    e.k === "lit" ||
    (e.k === "bin" && constant(e.a) && constant(e.b)) ||
    (e.k === "shift" && constant(e.a));
  const ok = (e: Expr) => u64(e) || (constant(e) && evalExpr(e, env) >= 0n);
  const va = evalExpr(a, env);
  const vb = evalExpr(b, env);
  if ((u64(a) || u64(b)) && ok(a) && ok(b)) return cmp(op, U(va), U(vb));
  return cmp(op, va, vb);
}

function evalExpr(e: Expr, env: Map<string, bigint>): bigint {
  switch (e.k) {
    case "var":
      return env.get(e.name)!;
    case "lit":
      return e.v;
    case "bin":
      return evalBin(e.op, evalExpr(e.a, env), evalExpr(e.b, env));
    case "shift":
      return e.op === "<<"
        ? S(evalExpr(e.a, env) << BigInt(e.n))
        : evalExpr(e.a, env) >> BigInt(e.n);
    case "ushr": {
      // JavaScript's >>>: the low 32 bits, unsigned, shifted by the count modulo 32
      const n = typeof e.n === "number" ? BigInt(e.n) : env.get("x")! ^ evalExpr(e.n, env);
      return BigInt.asUintN(32, evalExpr(e.a, env)) >> (n & 31n);
    }
    case "cond":
      return cmpExpr(e.cmp, e.a, e.b, env) ? evalExpr(e.t, env) : evalExpr(e.f, env);
    case "ushrc": {
      const n = BigInt(cmpExpr(e.cmp, e.x, e.y, env) ? 1 : 0) << BigInt(e.sh);
      return BigInt.asUintN(32, evalExpr(e.a, env)) >> n;
    }
    case "call": {
      const [a0, b, c, d, x] = e.args.map((a) => evalExpr(a, env)) as [
        bigint,
        bigint,
        bigint,
        bigint,
        bigint,
      ];
      // F5 below: parameters compare signed, arithmetic wraps at 64 bits
      const a = a0 > b ? S(b - c) : a0;
      return S(S(S(x - a) * 3n) + (b ^ d) - (c >> 3n) + (BigInt.asUintN(32, d) >> 7n));
    }
  }
}

/** The subprogram the `call` expressions call: arguments in r1–r5, one reassigned. */
const F5 = `/** @noinline */
function f5(a: bigint, b: bigint, c: bigint, d: bigint, e: bigint): bigint {
  if (a > b) a = b - c;
  return (e - a) * 3n + (b ^ d) - (c >> 3n) + toBigInt(toNumber(d) >>> 7);
}
`;

function run(stmts: Stmt[], env: Map<string, bigint>): void {
  for (const s of stmts) {
    if (s.k === "let" || s.k === "assign") env.set(s.name, evalExpr(s.e, env));
    else if (s.k === "if") run(cmpExpr(s.cmp, s.a, s.b, env) ? s.then : s.else, env);
    else
      for (let i = 0; i < s.n; i++) {
        env.set("i", BigInt(i));
        run(s.body, env);
      }
  }
}

// Widened to bigint: comparing two literal types is a TypeScript error (no overlap).
const lit = (v: bigint) => `(${v}n as bigint)`;
function show(e: Expr): string {
  switch (e.k) {
    case "var":
      return e.name === "i" ? "toBigInt(i)" : e.name;
    case "lit":
      return lit(e.v);
    case "bin":
      return `(${show(e.a)} ${e.op} ${show(e.b)})`;
    case "shift":
      return `(${show(e.a)} ${e.op} ${e.n}n)`;
    case "ushr":
      return `toBigInt(toNumber(${show(e.a)}) >>> ${typeof e.n === "number" ? e.n : `toNumber(x ^ ${show(e.n)})`})`;
    case "cond":
      return `(${showCmp(e.cmp, e.a, e.b)} ? ${show(e.t)} : ${show(e.f)})`;
    case "ushrc":
      return `toBigInt(toNumber(${show(e.a)}) >>> (Number(${showCmp(e.cmp, e.x, e.y)}) << ${e.sh}))`;
    case "call":
      return `f5(${e.args.map(show).join(", ")})`;
  }
}
/** `a < b` is printed as `b > a`: `x < (…) > (…)` would parse as a call with type arguments. */
function showCmp(op: string, a: Expr, b: Expr): string {
  if (op === "<") return `(${show(b)} > ${show(a)})`;
  if (op === "<=") return `(${show(b)} >= ${show(a)})`;
  return `(${show(a)} ${op} ${show(b)})`;
}
function showStmts(stmts: Stmt[], ind: string): string {
  return stmts
    .map((s) => {
      if (s.k === "let") return `${ind}let ${s.name} = ${show(s.e)};`;
      if (s.k === "assign") return `${ind}${s.name} = ${show(s.e)};`;
      if (s.k === "if")
        return `${ind}if (${showCmp(s.cmp, s.a, s.b)}) {\n${showStmts(s.then, ind + "  ")}\n${ind}} else {\n${showStmts(s.else, ind + "  ")}\n${ind}}`;
      return `${ind}for (let i = 0; i < ${s.n}; i++) {\n${showStmts(s.body, ind + "  ")}\n${ind}}`;
    })
    .join("\n");
}

const VARS = ["x", "y", "v0", "v1", "v2", "v3"];
const CMPS = ["<", "<=", ">", ">=", "===", "!=="];
const OPS = ["+", "-", "*", "/", "%", "&", "|", "^"];

function exprArb(vars: string[]): fc.Arbitrary<Expr> {
  const leaf: fc.Arbitrary<Expr> = fc.oneof(
    fc.constantFrom(...vars).map((name): Expr => ({ k: "var", name })),
    fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }).map((v): Expr => ({ k: "lit", v })),
  );
  return fc.letrec<{ e: Expr }>((tie) => ({
    e: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      fc.constantFrom(...vars).map((name): Expr => ({ k: "var", name })),
      fc
        .oneof(
          fc.bigInt({ min: -1000n, max: 1000n }),
          fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }),
        )
        .map((v): Expr => ({ k: "lit", v })),
      fc
        .tuple(fc.constantFrom(...OPS), tie("e"), tie("e"))
        .map(([op, a, b]): Expr => ({ k: "bin", op, a, b })),
      fc
        .tuple(
          fc.constantFrom("<<" as const, ">>" as const),
          tie("e"),
          fc.integer({ min: 0, max: 63 }),
        )
        .map(([op, a, n]): Expr => ({ k: "shift", op, a, n })),
      fc
        .tuple(tie("e"), fc.oneof(fc.integer({ min: 0, max: 31 }), tie("e")))
        .map(([a, n]): Expr => ({ k: "ushr", a, n })),
      fc
        .tuple(fc.constantFrom(...CMPS), tie("e"), tie("e"), tie("e"), tie("e"))
        .map(([c, a, b, t, f]): Expr => ({ k: "cond", cmp: c, a, b, t, f })),
      fc
        .tuple(
          tie("e"),
          fc.constantFrom(...CMPS),
          tie("e"),
          tie("e"),
          fc.integer({ min: 0, max: 4 }),
        )
        .map(([a, cmp, x, y, sh]): Expr => ({ k: "ushrc", a, cmp, x, y, sh })),
      // arguments are variables and literals: calls nested in arguments multiply the states
      // the verifier walks the callee with (one 15 s "too large" rejection per such program)
      fc.tuple(leaf, leaf, leaf, leaf, leaf).map((args): Expr => ({ k: "call", args })),
    ),
  })).e;
}

/** A body that first declares v0..v3, then mixes assignments, branches and loops. */
const bodyArb: fc.Arbitrary<Stmt[]> = fc
  .tuple(
    fc.tuple(...[0, 1, 2, 3].map((k) => exprArb(VARS.slice(0, 2 + k)))),
    fc.array(
      fc.oneof(
        fc
          .tuple(fc.constantFrom("v0", "v1", "v2", "v3"), exprArb(VARS))
          .map(([name, e]): Stmt => ({ k: "assign", name, e })),
        fc
          .tuple(
            fc.constantFrom(...CMPS),
            exprArb(VARS),
            exprArb(VARS),
            fc.constantFrom("v0", "v1", "v2", "v3"),
            exprArb(VARS),
            exprArb(VARS),
          )
          .map(([c, a, b, name, t, f]): Stmt => ({
            k: "if",
            cmp: c,
            a,
            b,
            then: [{ k: "assign", name, e: t }],
            else: [{ k: "assign", name, e: f }],
          })),
        fc
          .tuple(
            fc.integer({ min: 0, max: 6 }),
            fc.constantFrom("v0", "v1", "v2", "v3"),
            exprArb([...VARS, "i"]),
          )
          .map(([n, name, e]): Stmt => ({ k: "for", n, body: [{ k: "assign", name, e }] })),
      ),
      { maxLength: 5 },
    ),
  )
  .map(([inits, rest]) => [
    ...inits.map((e, k): Stmt => ({ k: "let", name: `v${k}`, e })),
    ...rest,
  ]);

test("differential: random integer programs compute in the kernel what the reference computes", (t) => {
  if (!needsKernel(t)) return;
  fc.assert(
    fc.property(
      bodyArb,
      fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      (body, xu, yu) => {
        const src =
          HEADER +
          `const io = map("io", new ArrayMap(u64, { maxEntries: 3 }));\n` +
          F5 +
          `export const p = xdp(() => {\n  const xp = io.get(0);\n  const yp = io.get(1);\n  if (xp === null || yp === null) return XdpAction.Aborted;\n  const x = xp;\n  const y = yp;\n` +
          showStmts(body, "  ") +
          `\n  io.set(2, v0 ^ v1 ^ v2 ^ v3);\n  return XdpAction.Pass;\n});\n`;
        const path = virtualPath("diff");
        let coll: Collection;
        try {
          coll = Collection.load(compileProbe(path, { sources: new Map([[path, src]]) }).elf);
        } catch (e) {
          throw new Error(`${(e as Error).message}\n${src}`, { cause: e });
        }
        using _coll = coll;
        const io = coll.maps.get("io")!;
        io.set(u32.encode(0) as never, u64.encode(xu) as never);
        io.set(u32.encode(1) as never, u64.encode(yu) as never);
        const r = coll.programs.get("p")!.testRun({ data: new Uint8Array(64) });
        assert.equal(r.retval, 2, src);
        const got = S(u64.decode(io.get(u32.encode(2) as never) as Uint8Array));
        const env = new Map<string, bigint>([
          ["x", S(xu)],
          ["y", S(yu)],
        ]);
        run(body, env);
        const want = env.get("v0")! ^ env.get("v1")! ^ env.get("v2")! ^ env.get("v3")!;
        assert.equal(
          got,
          S(want),
          `kernel and reference disagree for:\n${src}\nx=${S(xu)} y=${S(yu)}`,
        );
      },
    ),
    { numRuns: Number(process.env.TSBPF_DIFF_RUNS ?? 200) },
  );
});
