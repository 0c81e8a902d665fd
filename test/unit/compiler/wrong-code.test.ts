// Compile-time side of the issue-12 wrong-code defects: every accessor of a union-typed packet
// header that is not narrowed is a diagnostic (the IPv4 and IPv6 layouts differ), and number
// literals keep their exact value or are reported.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CompileError, Code } from "../../../src/compiler/index.js";
import { compileSource, lineOf } from "./support.js";
import { numericLiteral, exactInteger } from "../../../src/compiler/module/literals.js";
import ts from "typescript";

const prog = (stmts: string) =>
  `export const p = xdp((ctx: XdpContext) => {\n${stmts}\n  return XdpAction.Pass;\n});\n`;

function compileError(body: string): CompileError {
  try {
    compileSource(body);
  } catch (e) {
    if (e instanceof CompileError) return e;
    throw e;
  }
  assert.fail(`expected a CompileError for:\n${body}`);
}

const UNNARROWED: [string, string][] = [
  ["ip.protocol", "  const ip = ctx.ip();\n  if (ip && ip.protocol === 6) return XdpAction.Drop;"],
  ["ip.saddr", "  const ip = ctx.ip();\n  if (ip) { const a = ip.saddr; }"],
  ["ip.daddr", "  const ip = ctx.ip();\n  if (ip && ip.daddr) return XdpAction.Drop;"],
  ["ctx.ip()?.protocol", "  if (ctx.ip()?.protocol === 17) return XdpAction.Drop;"],
  [
    "{ protocol }",
    "  const ip = ctx.ip();\n  if (!ip) return XdpAction.Pass;\n  const { protocol } = ip;\n  if (protocol === 6) return XdpAction.Drop;",
  ],
  [
    "ip.protocol",
    "  const ip = ctx.ip();\n  if (ip && (ip.version === 4 || ip.version === 6) && ip.protocol === 6) return XdpAction.Drop;",
  ],
];

for (const [at, stmts] of UNNARROWED)
  test(`an IP header not narrowed by ip.version: ${at} is a diagnostic (${stmts.split("\n").length} lines)`, () => {
    const body = prog(stmts);
    const err = compileError(body);
    assert.equal(err.code, Code.BadApi, err.message);
    assert.match(
      err.message,
      /different offset in IPv4 and IPv6 headers: narrow the IP header first/,
    );
    assert.equal(err.line, lineOf(body, at));
  });

test("narrowed IP headers still read each version's fields", () => {
  compileSource(
    prog(
      "  const ip = ctx.ip();\n  if (!ip) return XdpAction.Pass;\n  if (ip.version === 4 && ip.protocol === 6) return XdpAction.Drop;\n  if (ip.version === 6 && ip.protocol === 17) return XdpAction.Drop;\n  if (ip.version !== 4) { const { protocol } = ip; if (protocol === 1) return XdpAction.Drop; }",
    ),
  );
});

test("a number literal above 2^64 - 1 is a diagnostic; up to it, exact", () => {
  for (const lit of ["0x1_0000_0000_0000_0000", "18446744073709551616", "1e20"]) {
    const body = prog(`  if (toBigInt(${lit}) === 1n) return XdpAction.Drop;`);
    const err = compileError(body);
    assert.equal(err.code, Code.Unsupported, err.message);
    assert.match(err.message, /does not fit in 64 bits/);
    assert.equal(err.line, lineOf(body, lit));
  }
  const lit = (text: string) => {
    const sf = ts.createSourceFile("x.ts", `${text};`, ts.ScriptTarget.ES2022, true);
    const e = (sf.statements[0] as ts.ExpressionStatement).expression as ts.NumericLiteral;
    return numericLiteral(e);
  };
  assert.equal(lit("0xffffffffffffffff"), 0xffffffffffffffffn);
  assert.equal(lit("0xffff_ffff_ffff_ffff"), 0xffffffffffffffffn);
  assert.equal(lit("18446744073709551615"), 18446744073709551615n);
  assert.equal(lit("9007199254740993"), 9007199254740993n); // 2^53 + 1: a double rounds it
  assert.equal(lit("1.5e19"), 15000000000000000000n);
  assert.equal(lit("0o1777777777777777777777"), 0xffffffffffffffffn);
  assert.equal(lit("255"), 255);
  assert.equal(lit("9007199254740991"), 9007199254740991);
  assert.equal(exactInteger("1.25e1"), undefined);
  assert.equal(exactInteger("12.50e1"), 125n);
});

test("ProgArray values: misuse is a diagnostic at the slot", () => {
  const cases: [string, string, RegExp][] = [
    [
      `export const a = xdp(() => XdpAction.Drop);\nconst j = map("j", new ProgArray({ maxEntries: 2, values: [a, a, a] }));\n`,
      "a] }",
      /slot 2 is past maxEntries \(2\)/,
    ],
    [
      `export const a = xdp(() => XdpAction.Drop);\nexport const b = tc(() => TcAction.Ok);\nconst j = map("j", new ProgArray({ maxEntries: 2, values: [a, b] }));\n`,
      "b] }",
      /b is a tc program but a is xdp/,
    ],
    [
      `const K = 1;\nconst j = map("j", new ProgArray({ maxEntries: 2, values: { 0: K as never } }));\n`,
      "K as never",
      /values must name programs of this file/,
    ],
  ];
  for (const [decls, at, message] of cases) {
    const body = decls + prog("  j.tailCall(ctx, 0);");
    const err = compileError(body);
    assert.equal(err.code, Code.BadApi, err.message);
    assert.match(err.message, message);
    assert.equal(err.line, lineOf(body, at));
  }
});
