// Compiler robustness (issue 17): inputs that used to end in an internal error (a BigInt
// RangeError, a stack overflow in TypeScript or the const evaluator), or compiled to code the
// verifier rejects, are diagnostics at the source position that say what to write instead.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CompileError, Code } from "../../../src/compiler/index.js";
import { MAX_NESTING, MAX_SYNTAX_NODES } from "../../../src/compiler/limits.js";
import { HEADER, compileSource, lineOf } from "./support.js";

const prog = (stmts: string, license = "GPL") =>
  `const m = map("m", new HashMap(u32, u64, { maxEntries: 8 }));\nexport const p = xdp((ctx: XdpContext) => {\n  let a = ctx.len();\n  let b = 1;\n${stmts}\n  m.set(0, toBigInt(a + b));\n  return XdpAction.Pass;\n});\n`.replace(
    "GPL",
    license,
  );

interface Case {
  name: string;
  body: string;
  /** text at the reported position (its line; the column too when `col` is set) */
  at: string;
  col?: boolean;
  code: number;
  message: RegExp;
  /** the source replaces HEADER's license */
  license?: string;
}

const sum = (n: number) => Array.from({ length: n }, (_, i) => String(i)).join(" + ");

const cases: Case[] = [
  {
    name: "a fractional loop bound",
    body: prog("  for (let i = 0; i < 2.5; i++) { a++; }"),
    at: "2.5",
    col: true,
    code: Code.Float,
    message: /loop's bound 2.5 is not an integer/,
  },
  {
    name: "a fractional loop step",
    body: prog("  for (let i = 0; i < 10; i += 0.5) { a++; }"),
    at: "0.5",
    col: true,
    code: Code.Float,
    message: /loop's step 0.5 is not an integer/,
  },
  {
    name: "a fractional loop start",
    body: prog("  for (let i = 0.5; i < 10; i++) { a++; }"),
    at: "0.5",
    col: true,
    code: Code.Float,
    message: /loop's initial value 0.5 is not an integer/,
  },
  {
    name: "a fractional case label",
    body: prog("  switch (a) { case 0.5: b = 2; break; }"),
    at: "0.5",
    col: true,
    code: Code.Float,
    message: /case label 0.5 is not an integer/,
  },
  {
    name: "a 3,000-term constant sum",
    body: prog(`  a = ${sum(3000)};`),
    at: "a = 0 + 1",
    code: Code.Limit,
    message: /nested too deeply: more than 500 levels/,
  },
  {
    name: "1,000 nested parentheses",
    body: prog(`  a = ${"(".repeat(1000)}1${")".repeat(1000)};`),
    at: "a = (((",
    code: Code.Limit,
    message: /nested too deeply/,
  },
  {
    name: "1,000 nested ifs",
    body: prog(`  ${"if (a) ".repeat(1000)}b++;`),
    at: "if (a) if (a)",
    code: Code.Limit,
    message: /nested too deeply/,
  },
  {
    name: "a 1,000-operand && chain",
    body: prog(`  if (${Array(1000).fill("a").join(" && ")}) b++;`),
    at: "if (a && a",
    code: Code.Limit,
    message: /nested too deeply/,
  },
  {
    name: "5,000 nested ifs (TypeScript's parser overflows)",
    body: prog(`  ${"if (a) ".repeat(5000)}b++;`),
    at: "if (a) if (a)",
    code: Code.Limit,
    message: /nested too deeply/,
  },
  {
    name: "a !== loop whose step skips the bound",
    body: prog("  for (let i = 0; i !== 7; i += 2) { a += i; }"),
    at: "for (let i = 0; i !== 7",
    col: true,
    code: Code.UnboundedLoop,
    message: /loop never ends: the counter goes 0, 2, 4, … and never equals 7.*Write i < 7/,
  },
  {
    name: "a < loop counting down",
    body: prog("  for (let i = 0; i < 100; i--) { a += i; }"),
    at: "for (let i = 0; i < 100",
    col: true,
    code: Code.UnboundedLoop,
    message: /loop never ends: the counter goes 0, -1, -2, … and stays below 100/,
  },
  {
    name: "nested loops past the verifier's budget",
    body: prog(
      "  for (let i = 0; i < 1000; i++) {\n    for (let j = 0; j < 1000; j++) {\n      for (let k = 0; k < 100; k++) { a += k; }\n    }\n  }",
    ),
    at: "for (let j = 0",
    col: true,
    code: Code.UnboundedLoop,
    message:
      /loop body runs 1000000 times in total \(1000 here, times 1000 for the loops around it\)/,
  },
  {
    name: "300 nested two-iteration loops",
    body: prog(
      Array.from({ length: 300 }, (_, i) => `for (let i${i} = 0; i${i} < 2; i${i}++) {`).join("") +
        "a++;" +
        "}".repeat(300),
    ),
    at: "for (let i0 = 0",
    code: Code.Limit,
    message: /nested too deeply/,
  },
  {
    name: "100 nested two-iteration loops",
    body: prog(
      Array.from({ length: 100 }, (_, i) => `for (let i${i} = 0; i${i} < 2; i${i}++) {`).join("") +
        "a++;" +
        "}".repeat(100),
    ),
    at: "for (let i0 = 0",
    code: Code.UnboundedLoop,
    message: /loop body runs 524288 times in total \(2 here, times 262144/,
  },
  {
    name: "a constant left shift of 64",
    body: prog("  b = a << 64;"),
    at: "64;",
    col: true,
    code: Code.Unsupported,
    message: /`<< 64`: shifts work on 64-bit values and the count must be 0 to 63.*write 0/,
  },
  {
    name: "a constant right shift of a bigint by 70",
    body: prog("  const x = m.get(1) ?? 0n;\n  b = toNumber(x >> 70n);"),
    at: "70n",
    col: true,
    code: Code.Unsupported,
    message: /`>> 70`/,
  },
  {
    name: "a negative constant shift count, folded",
    body: prog("  b = 1 << -1;"),
    at: "-1;",
    col: true,
    code: Code.Unsupported,
    message: /`<< -1`.*positive count/,
  },
  {
    name: "a compound shift by 64",
    body: prog("  b <<= 64;"),
    at: "64;",
    col: true,
    code: Code.Unsupported,
    message: /`<< 64`/,
  },
  {
    name: "a ring buffer record written after submit",
    body: `const Ev = struct("Ev", { x: u32, y: u32 });\nconst rb = map("rb", new RingBuf(Ev, { maxEntries: 4096 }));\n${prog("  const e = rb.reserve();\n  if (!e) return XdpAction.Pass;\n  e.x = 1;\n  rb.submit(e);\n  e.y = 2;")}`,
    at: "e.y = 2",
    col: true,
    code: Code.BadApi,
    message:
      /e was passed to submit\(\) \(line \d+\) and is no longer valid here.*Write every field before submit\(\)/,
  },
  {
    name: "a ring buffer record written after a discard in a branch that goes on",
    body: `const Ev = struct("Ev", { x: u32, y: u32 });\nconst rb = map("rb", new RingBuf(Ev, { maxEntries: 4096 }));\n${prog("  const e = rb.reserve();\n  if (e) {\n    if (a > 3) {\n      rb.discard(e);\n    }\n    e.x = 1;\n    rb.submit(e);\n  }")}`,
    at: "e.x = 1",
    col: true,
    code: Code.BadApi,
    message: /e was passed to discard\(\)/,
  },
  {
    name: "tracePrintk under a non-GPL license",
    body: prog('  tracePrintk("a %d", a);'),
    license: "MIT",
    at: "tracePrintk(",
    col: true,
    code: Code.Module,
    message:
      /bpf_trace_printk \(tracePrintk\) is a GPL-only kernel helper and the license is "MIT".*"Dual MIT\/GPL"/,
  },
];

for (const c of cases) {
  test(`robustness: ${c.name}`, () => {
    const text =
      (c.license ? HEADER.replace('license: "GPL"', `license: "${c.license}"`) : HEADER) + c.body;
    let err: unknown;
    try {
      compileSource(text, { raw: true });
    } catch (e) {
      err = e;
    }
    assert.ok(
      err instanceof CompileError,
      `expected a CompileError, got ${err instanceof Error ? err.stack : String(err)}`,
    );
    assert.match(err.message, c.message);
    assert.equal(err.code, c.code, err.message);
    assert.equal(err.line, lineOf(c.body, c.at), err.format());
    if (c.col) {
      const i = text.indexOf(c.at);
      assert.equal(err.col, i - text.lastIndexOf("\n", i - 1), err.format());
    }
  });
}

test("robustness: nesting just inside the limit and a Dual MIT/GPL license compile", () => {
  compileSource(prog(`  a = ${"(".repeat(MAX_NESTING - 50)}a${")".repeat(MAX_NESTING - 50)};`));
  compileSource(prog(`  b = ${Array(400).fill("a").join(" + ")};`));
  compileSource(
    HEADER.replace('license: "GPL"', 'license: "Dual MIT/GPL"') + prog('  tracePrintk("a %d", a);'),
    { raw: true },
  );
  // a discard on a path that returns, then the record written and submitted on the other
  compileSource(
    `const Ev = struct("Ev", { x: u32, y: u32 });\nconst rb = map("rb", new RingBuf(Ev, { maxEntries: 4096 }));\n` +
      prog(
        "  const e = rb.reserve();\n  if (e) {\n    if (a > 3) {\n      rb.discard(e);\n      return XdpAction.Drop;\n    }\n    e.x = 1;\n    rb.submit(e);\n  }",
      ),
  );
  // loops that end exactly on their bound, counting either way
  compileSource(prog("  for (let i = 0; i !== 8; i += 2) { a += i; }"));
  compileSource(prog("  for (let i = 40; i !== 0; i -= 2) { a += i; }"));
  compileSource(prog("  for (let i = 100; 0 < i; i--) { a += i; }"));
});

test("robustness: 2,000 straight-line statements compile; past the budget is 'too large' at the statement", () => {
  const stmts = (n: number) =>
    Array.from({ length: n }, (_, i) => `  m.set(${i % 8}, toBigInt(a + ${i}));`).join("\n");
  const r = compileSource(prog(stmts(2000)));
  assert.ok(r.programs[0]!.insns.length > 2000 * 5);
  const n = Math.ceil(MAX_SYNTAX_NODES / 12) + 100;
  const body = prog(stmts(n));
  let err: unknown;
  try {
    compileSource(body);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof CompileError, String(err));
  assert.equal(err.code, Code.Limit);
  assert.match(err.message, /program too large: more than 50,000 syntax nodes/);
  // reported inside the statements, not at the top of the file
  assert.ok(err.line > lineOf(body, "m.set(0, toBigInt(a + 0))"), err.format());
});

test("robustness: code multiplied by inlining past the lowered budget is 'too large'", () => {
  const fn = `/** @inline */\nfunction f(x: number): number {\n${Array.from({ length: 200 }, (_, i) => `  x = (x * 3 + ${i}) ^ (x >> 1);`).join("\n")}\n  return x;\n}\n`;
  const body = fn + prog(Array.from({ length: 400 }, () => "  a = f(a);").join("\n"));
  let err: unknown;
  try {
    compileSource(body);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof CompileError, String(err));
  assert.equal(err.code, Code.Limit);
  assert.match(err.message, /program p too large: more than 200,000 instructions after inlining/);
});
