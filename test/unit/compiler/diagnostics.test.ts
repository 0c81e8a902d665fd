// Every construct probes cannot express is reported at its file:line:col with a message that
// says what to do instead.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CompileError, CompileErrors, Code } from "../../../src/compiler/index.js";
import { formatDiagnostic } from "../../../src/compiler/errors.js";
import { HEADER, compileSource, lineOf } from "./support.js";

interface Case {
  name: string;
  body: string;
  /** text at the reported position */
  at: string;
  code: number;
  message: RegExp;
  /** also check the column: the error starts exactly at `at` */
  exact?: boolean;
}

/** 1-based column of `needle` in HEADER + body. */
const colOf = (body: string, needle: string): number => {
  const text = HEADER + body;
  const i = text.indexOf(needle);
  return i - text.lastIndexOf("\n", i - 1);
};

const prog = (stmts: string) =>
  `export const p = xdp((ctx: XdpContext) => {\n${stmts}\n  return XdpAction.Pass;\n});\n`;

const Ctr = `const Ctr = struct("Ctr", { n: u64 });\nconst cm = map("cm", new HashMap(u32, Ctr, { maxEntries: 4 }));\n`;

const cases: Case[] = [
  {
    name: "@noinline on a function taking a view",
    body:
      `/** @noinline */\nfunction first(b: { at(i: number): number }): number { return b.at(0); }\n` +
      prog(
        '  const d = ctx.data();\n  const b = d && d.read(2);\n  if (b) tracePrintk("%d", first(b));',
      ),
    at: "function first",
    exact: true,
    code: Code.Unsupported,
    message:
      /@noinline: this function cannot be a bpf-to-bpf call because parameter b is not an integer/,
  },
  {
    name: "recursion through bpf-to-bpf calls",
    body:
      `/** @noinline */\nfunction down(n: number): number { return n === 0 ? 0 : down(n - 1) + 1; }\n` +
      prog('  tracePrintk("%d", down(ctx.ingressIfindex));'),
    at: "down(n: number)",
    code: Code.Limit,
    message: /recursion is not supported \(down → down\)/,
    exact: true,
  },
  {
    name: "call chain over 512 bytes of stack",
    body:
      `const Big = struct("Big", { n: u64, a: array(u64, 35) });\ntype Big = Infer<typeof Big>;\n` +
      `/** @noinline */\nfunction save(k: number): number { const v: Big = { n: toBigInt(k), a: new Uint8Array(280) as never }; return toNumber(v.n); }\n` +
      prog(
        '  const w: Big = { n: 2n, a: new Uint8Array(280) as never };\n  tracePrintk("%d", w.n);\n  save(ctx.ingressIfindex);',
      ),
    at: "xdp((ctx: XdpContext)",
    code: Code.StackTooLarge,
    message:
      /program p and the functions it calls need \d+ bytes of stack together; eBPF allows 512 per call chain/,
    exact: true,
  },
  {
    name: "array literal of the wrong length",
    body:
      `const P = struct("P", { pad: array(u8, 3) });\nconst pm = map("pm", new HashMap(u32, P, { maxEntries: 4 }));\n` +
      prog("  pm.set(1, { pad: [0, 0] });"),
    at: "[0, 0]",
    code: Code.BadApi,
    message: /u8\[3\] needs 3 elements, the array literal has 2/,
    exact: true,
  },
  {
    name: "default in destructuring",
    body:
      Ctr +
      prog('  const c = cm.get(1);\n  if (c) { const { n = 5n } = c; tracePrintk("%d", n); }'),
    at: "5n }",
    code: Code.Unsupported,
    message: /defaults in destructuring are not supported/,
    exact: true,
  },
  {
    name: "rest element in destructuring",
    body:
      Ctr +
      prog('  const c = cm.get(1);\n  if (c) { const { ...all } = c; tracePrintk("%d", all.n); }'),
    at: "...all",
    code: Code.Unsupported,
    message: /rest elements \(\.\.\.\) are not supported/,
    exact: true,
  },
  {
    name: "let of an optional chain without a default",
    body: Ctr + prog("  let n = cm.get(1)?.n;"),
    at: "n = cm.get(1)?.n",
    code: Code.Unsupported,
    message: /may be undefined \(an optional chain\); give it a default with \?\?/,
    exact: true,
  },
  {
    name: "?? with a right side of another kind",
    body: Ctr + prog("  const c = cm.get(1) ?? (3 as never);\n  if (c) c.n = 1n;"),
    at: "(3 as never)",
    code: Code.Unsupported,
    message:
      /the right side of \?\? must be the same kind of value as the left \(a Ctr in memory\)/,
    exact: true,
  },
  {
    name: "optional call",
    body:
      `function f(): number { return 1; }\n` +
      prog("  const g = f as (() => number) | undefined;\n  g?.();"),
    at: "g?.()",
    code: Code.Unsupported,
    message: /optional calls f\?\.\(\) are not supported/,
    exact: true,
  },
  {
    name: "constant index past the bytes read, in an unrolled loop",
    body: prog(
      "  const d = ctx.data();\n  const b = d && d.read(4);\n  let s = 0;\n  if (b) for (let i = 0; i < 6; i++) s += b.at(i);",
    ),
    at: "i);",
    code: Code.BadApi,
    message: /at\(i\): i must be a constant below 4/,
    exact: true,
  },
  {
    name: "let holding a packet view",
    body: prog("  let d = ctx.data();"),
    at: "d = ctx.data()",
    code: Code.Unsupported,
    message:
      /a let variable may hold an integer, an object literal or a reference.*packet payload view; bind it with const/,
    exact: true,
  },
  {
    name: "let reference assigned an integer",
    body: Ctr + prog("  let c = cm.get(1);\n  c = 5 as never;"),
    at: "c = 5",
    code: Code.Unsupported,
    message:
      /c holds a reference to a Ctr; assign another reference of that layout \(a lookup\) or null/,
    exact: true,
  },
  {
    name: "class declaration",
    body: prog("  class Foo { x = 1; }"),
    at: "class Foo",
    code: Code.Unsupported,
    message: /classes are not supported/,
  },
  {
    name: "try/catch",
    body: prog("  try { prandom(); } catch { return XdpAction.Drop; }"),
    at: "try {",
    code: Code.Unsupported,
    message: /exceptions do not exist in eBPF/,
  },
  {
    name: "throw",
    body: prog('  if (prandom() === 3) throw new Error("x");'),
    at: "throw new",
    code: Code.Unsupported,
    message: /exceptions do not exist/,
  },
  {
    name: "async function",
    body: `async function f(): Promise<number> { return 1; }\n` + prog("  f();"),
    at: "async function",
    code: Code.Unsupported,
    message: /async functions are not supported/,
  },
  {
    name: "dynamic property access",
    body:
      `const S = struct("S", { a: u32, b: u32 });\nconst m = map("m", new ArrayMap(S, { maxEntries: 1 }));\n` +
      prog(
        "  const v = m.get(0);\n  if (v) (v as unknown as Record<number, number>)[ctx.ingressIfindex] = 1;",
      ),
    at: "(v as unknown",
    code: Code.Unsupported,
    message: /dynamic property access/,
  },
  {
    name: "floating point",
    body: prog("  const x = prandom() * 1.5;"),
    at: "1.5",
    code: Code.Float,
    message: /floating-point.*only integers/,
  },
  {
    name: "floating point constant",
    body: prog("  const x = 7 / 2;"),
    at: "7 / 2",
    code: Code.Float,
    message: /floating-point value 3.5/,
  },
  {
    // the counter is a constant in an unrolled copy: 0 + 1.5 once threw BigInt's RangeError
    name: "floating point index built from a loop counter",
    body: prog(
      "  const d = ctx.data();\n  const bs = d && d.read(8);\n  let a = 0;\n" +
        "  if (bs) for (let i = 0; i < 2; i++) a += bs.at(i + 1.5);\n  return a > 0 ? XdpAction.Drop : XdpAction.Pass;",
    ),
    at: "i + 1.5",
    code: Code.Float,
    message: /floating-point value 1.5/,
  },
  {
    name: ">>> by a constant of 32 or more",
    body: prog('  const v = ctx.ingressIfindex >>> 32;\n  tracePrintk("%d", v);'),
    at: "32;",
    code: Code.Unsupported,
    message:
      /`>>> 32` shifts by 0: like JavaScript, `>>>` works on the low 32 bits .* write >> and mask the result/,
    exact: true,
  },
  {
    name: ">>>= by a negative constant",
    body: prog('  let v = ctx.ingressIfindex;\n  v >>>= -1;\n  tracePrintk("%d", v);'),
    at: "-1;",
    code: Code.Unsupported,
    message: /`>>> -1` shifts by 31/,
    exact: true,
  },
  {
    name: ">>> of two constants, folded",
    body: `const K = 5 >>> 40;\n` + prog('  tracePrintk("%d", K);'),
    at: "40;",
    code: Code.Unsupported,
    message: /`>>> 40` shifts by 8/,
    exact: true,
  },
  {
    name: "unsupported construct in a loop that never runs",
    body:
      `const N = 0;\n` +
      prog('  for (let i = 0; i < N; i++) { try { tracePrintk("x"); } catch {} }'),
    at: "try {",
    code: Code.Unsupported,
    message: /exceptions do not exist in eBPF/,
    exact: true,
  },
  {
    name: "index out of range in a loop that never runs (whatever the counter)",
    body:
      `const W = struct("W", { w: array(u32, 2) });\ntype W = Infer<typeof W>;\nconst N = 0;\n` +
      prog(
        // (a run-time index is legal since issue 12: out of range it reads 0 and drops a
        // store, so the index that is out of range whatever the counter is a constant)
        '  const ev: W = { w: [0, 0] };\n  for (let i = 0; i < N; i++) ev.w[N + 5] = i;\n  tracePrintk("%d", ev.w[0]);',
      ),
    at: "N + 5",
    code: Code.BadApi,
    message: /index 5 is outside u32\[2\]/,
    exact: true,
  },
  {
    name: "redirect() used as a TcAction in an xdp program",
    body:
      `import { redirect } from "tsbpf/probe";\n` +
      prog(
        "  const r: TcAction = redirect(2);\n  if (r === TcAction.Redirect) return XdpAction.Drop;",
      ),
    at: "redirect(2)",
    code: Code.BadApi,
    message:
      /redirect\(\) in an xdp program returns XdpAction.Redirect \(4\), or XdpAction.Aborted \(0\) for bad flags, but here its result is typed TcAction; type it XdpAction/,
    exact: true,
  },
  {
    name: "redirect() used as an XdpAction in a tc program",
    body: `import { redirect } from "tsbpf/probe";\nfunction fwd(i: number): XdpAction {\n  return redirect(i);\n}\nexport const p = tc(() => (fwd(3) === XdpAction.Redirect ? TcAction.Ok : TcAction.Shot));\n`,
    at: "redirect(i)",
    code: Code.BadApi,
    message:
      /redirect\(\) in a tc program returns TcAction.Redirect \(7\).*typed XdpAction; type it TcAction/,
    exact: true,
  },
  {
    name: "redirect() in a socket filter",
    body: `import { redirect } from "tsbpf/probe";\nexport const p = socketFilter(() => {\n  redirect(2);\n  return 0;\n});\n`,
    at: "redirect(2)",
    code: Code.BadApi,
    message: /redirect\(\) works in xdp and tc programs; this is a socketFilter program/,
    exact: true,
  },
  {
    name: "while loop",
    body: prog("  let i = 0;\n  while (i < 10) i++;"),
    at: "while",
    code: Code.UnboundedLoop,
    message: /while\/do loops have no bound/,
  },
  {
    name: "for loop with a runtime bound",
    body: prog("  const n = prandom();\n  for (let i = 0; i < n; i++) {}"),
    at: "for (let i = 0; i < n",
    code: Code.UnboundedLoop,
    message: /the bound is not a constant/,
  },
  {
    name: "for loop assigning its counter",
    body: prog("  for (let i = 0; i < 8; i++) { i = 0; }"),
    at: "for (let i = 0; i < 8",
    code: Code.UnboundedLoop,
    message: /the body assigns the counter/,
  },
  {
    name: "stack frame over 512 bytes",
    body:
      `const Big = struct("Big", { a: array(u8, 320) });\nconst m = map("m", new HashMap(u32, Big, { maxEntries: 1 }));\nconst z = new Uint8Array(320);\n` +
      prog(
        "  const local: Infer<typeof Big> = { a: z };\n  m.set(1, { a: z });\n  m.set(2, local);",
      ),
    at: "m.set(1",
    code: Code.StackTooLarge,
    message: /eBPF allows 512/,
  },
  {
    name: "closure escaping as a value",
    body: prog(
      "  const f = (x: number) => x + 1;\n  const g = f;\n  const h = { f: g };\n  if (h.f(1) > 2) return XdpAction.Drop;",
    ),
    at: "{ f: g }",
    code: Code.Unsupported,
    message: /functions are not values/,
  },
  {
    name: "unannotated object field assignment",
    body: prog("  const o = { a: 1 };\n  o.a = 2;"),
    at: "o.a = 2",
    code: Code.Unsupported,
    message: /give the object its struct type/,
  },
  {
    name: "startsWith longer than the read",
    body: prog(
      '  const d = ctx.data();\n  if (!d) return XdpAction.Pass;\n  const h = d.read(2);\n  if (h && h.startsWith("GET ")) return XdpAction.Drop;',
    ),
    at: '"GET "',
    code: Code.BadApi,
    message: /only 2 were read; read\(4\) or more/,
  },
  {
    name: "non-constant map options",
    body:
      'const n = prandom();\nconst m = map("m", new HashMap(u32, u32, { maxEntries: n }));\n' +
      prog(""),
    at: "prandom();",
    code: Code.NotConstant,
    message: /compile-time constant/,
  },
  {
    name: "unexported program",
    body: "const p = xdp(() => XdpAction.Pass);\nexport const q = xdp(() => XdpAction.Drop);\n",
    at: "p = xdp",
    code: Code.Module,
    message: /must be exported/,
  },
  {
    name: "recursion",
    body: "function f(n: number): number { return n === 0 ? 0 : f(n - 1); }\n" + prog("  f(3);"),
    at: "f(n - 1)",
    code: Code.Limit,
    message: /recursion is not supported/,
  },
];

for (const c of cases) {
  test(`diagnostic: ${c.name}`, () => {
    let err: unknown;
    try {
      compileSource(c.body);
    } catch (e) {
      err = e;
    }
    assert.ok(
      err instanceof CompileError,
      `expected a CompileError, got ${err instanceof Error ? err.stack : String(err)}`,
    );
    assert.match(err.message, c.message);
    assert.equal(err.code, c.code, err.message);
    assert.equal(err.line, lineOf(c.body, c.at), `${err.format()}`);
    if (c.exact) assert.equal(err.col, colOf(c.body, c.at), `${err.format()}`);
    assert.ok(err.format().includes(`error TSBPF${String(c.code).padStart(4, "0")}`));
  });
}

test("type errors come back all at once, tsc style, at their positions", () => {
  const body = prog('  const x: number = "a";\n  const y: string = 1;');
  let err: unknown;
  try {
    compileSource(body);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof CompileErrors);
  assert.equal(err.errors.length, 2);
  assert.equal(err.errors[0]!.line, lineOf(body, "const x"));
  assert.match(err.errors[0]!.message, /TS2322/);
});

test("formatDiagnostic reads like tsc", () => {
  assert.equal(
    formatDiagnostic({ code: 1001, message: "no", file: "probe.ts", line: 3, col: 7 }),
    "probe.ts:3:7 - error TSBPF1001: no",
  );
});

test("a module without program() or programs is rejected with a hint", () => {
  assert.throws(
    () => compileSource('import { xdp } from "tsbpf/probe";\n', { raw: true }),
    /missing program\(\{ license/,
  );
  assert.throws(() => compileSource(""), /no programs: export at least one/);
});
