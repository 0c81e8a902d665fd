// Diagnostics of the scalar language (issue 12): what stays unsupported says what to write.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CompileError, Code } from "../../../src/compiler/index.js";
import { compileSource, lineOf } from "./support.js";

const prog = (stmts: string) =>
  `export const p = xdp((ctx: XdpContext) => {\n${stmts}\n  return XdpAction.Pass;\n});\n`;

const CASES: { name: string; body: string; at: string; code: number; message: RegExp }[] = [
  {
    name: "Math functions other than min/max",
    body: prog("  const r = Math.floor(ctx.len());"),
    at: "Math.floor",
    code: Code.Unsupported,
    message: /only Math.min and Math.max.*drop the call/,
  },
  {
    name: "Math.min() without arguments",
    body: prog("  const r = Math.min();"),
    at: "Math.min()",
    code: Code.BadApi,
    message: /needs at least one argument/,
  },
  {
    name: "a string enum member",
    body: `enum Mode { On = "on" }\n` + prog(""),
    at: 'On = "on"',
    code: Code.Unsupported,
    message: /numeric enums only/,
  },
  {
    name: "declare enum",
    body: `declare enum Ext { A }\n` + prog(""),
    at: "declare enum",
    code: Code.Unsupported,
    message: /write the members out/,
  },
  {
    name: "m.add on a struct value",
    body:
      `const V = struct("V", { n: u64 });\nconst m = map("m", new HashMap(u32, V, { maxEntries: 4 }));\n` +
      prog("  m.add(1, 1 as never);"),
    at: "m.add(",
    code: Code.BadApi,
    message: /atomicAdd\(ref, "field", n\)/,
  },
  {
    name: "m.add on u16 values",
    body: `const m = map("m", new ArrayMap(u16, { maxEntries: 4 }));\n` + prog("  m.add(1, 1);"),
    at: "m.add(",
    code: Code.BadApi,
    message: /must be u32\/i32\/u64\/i64/,
  },
];

for (const c of CASES)
  test(`scalar diagnostic: ${c.name}`, () => {
    let err: unknown;
    try {
      compileSource(c.body);
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof CompileError, String(err));
    assert.match(err.message, c.message);
    assert.equal(err.code, c.code, err.message);
    assert.equal(err.line, lineOf(c.body, c.at), err.format());
  });

test("enum members and builtins on constants fold to constants (usable as sizes and bounds)", () => {
  compileSource(
    `const enum N { Four = 4, Eight = Four * 2 }\nconst S = struct("S", { b: array(u8, Math.max(N.Eight, 2)) });\nconst m = map("m", new ArrayMap(S, { maxEntries: 1 }));\n` +
      prog(
        "  const s = m.get(0);\n  if (!s) return XdpAction.Pass;\n  for (let i = 0; i < Math.min(N.Four, 100); i++) s.b[i] = i;",
      ),
  );
});

test("a run-time index into a tracepoint record field says to copy it first", () => {
  const body =
    `const Rec = struct("Rec", { comm: array(u8, 16) });\n` +
    `export const t = tracepoint("sched", "sched_switch", Rec, (ctx) => {\n  const i = toNumber(prandom()) & 7;\n  return ctx.fields.comm[i];\n});\n`;
  let err: unknown;
  try {
    compileSource(body);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof CompileError, String(err));
  assert.equal(err.code, Code.Unsupported);
  assert.match(err.message, /copy the field into a struct local first/);
  assert.equal(err.line, lineOf(body, "comm[i]"));
});
