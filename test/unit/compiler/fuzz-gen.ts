// The random probe programs of the compiler fuzz tests (unit: never an internal error; kernel:
// what compiles also loads), shared so both run the same generator.
import fc from "fast-check";
import { HEADER } from "./support.js";

const ops = [
  "+",
  "-",
  "*",
  "/",
  "%",
  "&",
  "|",
  "^",
  "<<",
  ">>",
  ">>>",
  "<",
  "<=",
  ">",
  ">=",
  "===",
  "!==",
  "&&",
  "||",
  "??",
  "**",
  ",",
];
const leaves = [
  "0",
  "1",
  "7",
  "-3",
  "255",
  "0x7fffffff",
  "1.5",
  "a",
  "b",
  "ctx.ingressIfindex",
  "prandom()",
  "smpProcessorId()",
  '"GET "',
  "null",
  "true",
  "XdpAction.Drop",
  "undefined",
  "m.get(a)",
  "ctx.len()",
  "(bs ? bs.at(a) : 0)",
  "(bs ? bs.at(3) : 9)",
  "toNumber(m.get(a) ?? 0n)",
  "toNumber(m.get(a) ?? m.get(b) ?? 2n)",
  "(bs?.at(a) ?? 4)",
  "(ctx.data()?.read(2)?.at(1) ?? a)",
  "(m.get(a) === undefined ? 1 : 0)",
];

const expr: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
  e: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom(...leaves),
    fc.tuple(tie("e"), fc.constantFrom(...ops), tie("e")).map(([x, o, y]) => `(${x} ${o} ${y})`),
    fc.tuple(fc.constantFrom("!", "-", "~", "+", "typeof "), tie("e")).map(([o, x]) => `${o}${x}`),
    fc.tuple(tie("e"), tie("e"), tie("e")).map(([c, x, y]) => `(${c} ? ${x} : ${y})`),
  ),
})).e;

export const stmt: fc.Arbitrary<string> = fc.letrec<{ s: string; block: string }>((tie) => ({
  s: fc.oneof(
    { depthSize: "small" },
    expr.map((e) => `a = ${e};`),
    expr.map((e) => `b += ${e};`),
    expr.map((e) => `if (${e}) return XdpAction.Drop;`),
    fc.tuple(expr, tie("block"), tie("block")).map(([c, x, y]) => `if (${c}) ${x} else ${y}`),
    fc
      .tuple(fc.integer({ min: 0, max: 20 }), tie("block"))
      .map(([n, body]) => `for (let i = 0; i < ${n}; i++) ${body}`),
    fc
      .tuple(fc.integer({ min: 0, max: 40 }), fc.constantFrom("+=", "^=", "="), expr)
      .map(([n, op, e]) => `if (bs) for (let i = 0; i < ${n}; i++) { a ${op} bs.at(i + ${e}); }`),
    fc
      .tuple(fc.integer({ min: -2, max: 20 }), fc.constantFrom("<", "<=", ">", "!=="), tie("block"))
      .map(([n, op, body]) => `for (let j = ${n}; j ${op} 6; j += 2) ${body}`),
    expr.map((e) => `while (${e}) { a++; }`),
    expr.map((e) => `switch (${e}) { case 1: a = 2; break; case 2: b = 1; default: a = 0; }`),
    fc.constantFrom(
      "break;",
      "continue;",
      "a++;",
      "--b;",
      "m.set(a, 1n);",
      "m.delete(b);",
      "try { a = 1; } catch { }",
      "class K {}",
      "const o = { x: a, y: b };",
      'tracePrintk("v %d", a);',
      'atomicAdd(m.get(1)!, "x" as never, 1);',
      "{ let c = m.get(a); if (c === null) { m.set(a, 1n); c = m.get(a); } if (c !== null) b = toNumber(c); c = null; }",
      "{ let c = m.get(a); const c0 = c; c = m.get(b); if (c0 && c) a = toNumber(c0 + c); }",
      "{ let c = m.get(a); c = 3; }",
      "{ const ip = ctx.ip(); if (ip && ip.version === 4) { const { saddr, ttl: t2 } = ip; a = saddr + t2; } }",
      "{ const ip = ctx.ip(); if (ip) { let { version } = ip; version++; b = version; } }",
      "{ const [q] = [a]; b = q; }",
      "a = g(a, b);",
      "b += g(g(a, 1), b);",
      "m.set(a, [1, a] as never);",
      "{ const z = [a, b, ...[1]]; }",
      "{ const { ...r } = { x: a }; }",
      "{ const o = { a, b }; const { a: a2 = 1 } = o; b = a2; }",
    ),
  ),
  block: fc.array(tie("s"), { maxLength: 3 }).map((xs) => `{ ${xs.join(" ")} }`),
})).s;

/** The declarations every generated program may use: the map `m` and the subprogram `g`. */
export const PRELUDE = `${HEADER}const m = map("m", new HashMap(u32, u64, { maxEntries: 8 }));\n/** @noinline */\nfunction g(x: number, y: number): number { if (x > y) return x - y; m.set(x, 1n); return y; }\n`;

/** One xdp program named `name` around generated statements. */
export const programText = (name: string, body: readonly string[]): string =>
  `export const ${name} = xdp((ctx: XdpContext) => {\n  let a = 0;\n  let b = 1;\n  const d0 = ctx.data();\n  const bs = d0 && d0.read(8);\n  ${body.join("\n  ")}\n  return XdpAction.Pass;\n});\n`;

/** The statements of one program. */
export const programBody = fc.array(stmt, { maxLength: 6 });

export const program = programBody.map((body) => PRELUDE + programText("p", body));

// ---- the scalar language of issue 12, in programs of their own ----
// (kept apart from `program` so the compiled-digest sample of `program` stays the same)

const scalarLeaves = [
  "Kind.Mid",
  "Kind.Big",
  "Math.min(a, b)",
  "Math.max(a, 3, b)",
  "Math.min(ctx.len(), Kind.Mid)",
  "Number(a > b)",
  "+(a === 1)",
  "Number(BigInt(a) * 3n)",
  "Number(m.get(a) ?? 0n)",
  "(hm.get(0)?.slots[a] ?? 5)",
  "(hm.get(0)?.slots[a & 15] ?? 0)",
  "(a & 0xffff_ffff_ffff_fff0)",
  "(0xffffffffffffffff ^ b)",
];

const scalarExpr: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
  e: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom(...scalarLeaves),
    expr,
    fc
      .tuple(tie("e"), fc.constantFrom("+", "-", "&", "<", "===", ">>"), tie("e"))
      .map(([x, o, y]) => `(${x} ${o} ${y})`),
  ),
})).e;

const scalarStmt: fc.Arbitrary<string> = fc.oneof(
  stmt,
  scalarExpr.map((e) => `a = ${e};`),
  scalarExpr.map((e) => `m.add(${e}, 1n);`),
  scalarExpr.map((e) => `{ const h = hm.get(0); if (h) h.slots[${e}]++; }`),
  scalarExpr.map((e) => `{ const h = hm.get(0); if (h && ${e} < 16) h.slots[a] += 2; }`),
  scalarExpr.map(
    (e) => `{ const r: Rec = { n: 1, w: [0, 0, 0] }; r.w[${e}] = a; b = r.w[a & 3]; }`,
  ),
  scalarExpr.map(
    (e) =>
      `switch (${e}) { case Kind.Low: return XdpAction.Drop; case Kind.Mid: return XdpAction.Pass; default: return XdpAction.Drop; }`,
  ),
  scalarExpr.map((e) => `{ let k: Kind = Kind.Low; if (${e}) k = Kind.Big; b = k; }`),
);

export const SCALAR_PRELUDE = `${PRELUDE}enum Kind { Low, Mid = 6, Big = Mid * 0x10000000000 }\nconst Slots = struct("Slots", { pad: u8, slots: array(u32, 16) });\nconst hm = map("hm", new ArrayMap(Slots, { maxEntries: 1 }));\nconst Rec = struct("Rec", { n: u8, w: array(u16, 3) });\ntype Rec = Infer<typeof Rec>;\n`;

export const scalarProgramBody = fc.array(scalarStmt, { maxLength: 6 });

export const scalarProgram = scalarProgramBody.map(
  (body) => SCALAR_PRELUDE + programText("p", body),
);
