// Functions imported from the probe's own modules: resolved through aliases, lowered like the
// entry's own, errors at the helper's file:line:col; functions of packages and declaration
// files are refused with a message saying why.
import { test } from "node:test";
import assert from "node:assert/strict";
import { compileProbe, CompileError, Code } from "../../../src/compiler/index.js";
import { parseBtf } from "../../../src/obj/btf.js";
import { parseBtfExt } from "../../../src/obj/btf-ext.js";
import { parseElf } from "../../../src/obj/elf.js";
import { HEADER } from "./support.js";

let counter = 0;

/** Compile virtual files: `probe.ts` gets HEADER prepended; returns the result and the root. */
function compileFiles(files: Record<string, string>) {
  const root = `/tmp/tsbpf-virtual/imports-${process.pid}-${counter++}/`;
  const sources = new Map(
    Object.entries(files).map(([f, text]) => [root + f, f === "probe.ts" ? HEADER + text : text]),
  );
  return { root, compile: () => compileProbe(root + "probe.ts", { sources }) };
}

/** The CompileError of compiling `files`, with its path made relative to the virtual root. */
function errorOf(files: Record<string, string>): CompileError & { rel: string } {
  const { root, compile } = compileFiles(files);
  try {
    compile();
  } catch (e) {
    if (!(e instanceof CompileError)) throw e;
    return Object.assign(e, { rel: e.file.slice(root.length) });
  }
  assert.fail("expected a compile error");
}

const PASS = `export const p = xdp((ctx: XdpContext) => {
  const n = ctx.len();
  return f(n) > 0 ? XdpAction.Pass : XdpAction.Drop;
});
`;

test("renamed imports, re-exports and export * reach the same function", () => {
  const { compile } = compileFiles({
    "probe.ts": `import { twice as f } from "./re.js";\n${PASS}`,
    "re.ts": `export * from "./star.js";\n`,
    "star.ts": `export { twice } from "./impl.js";\n`,
    "impl.ts": `export function twice(a: number): number {\n  return a * 2;\n}\n`,
  });
  const c = compile();
  assert.equal(c.subprograms.length, 0); // small: inlined
  assert.ok(c.programs[0]!.insns.length > 0);
});

test("an error inside an imported function is reported at its own file:line:col", () => {
  const e = errorOf({
    "probe.ts": `import { f } from "./helpers/bad.js";\n${PASS}`,
    "helpers/bad.ts": `export function f(a: number): number {\n  let s = 0;\n  while (a > 0) a--;\n  return s;\n}\n`,
  });
  assert.equal(e.rel, "helpers/bad.ts");
  assert.deepEqual([e.line, e.col, e.code], [3, 3, Code.UnboundedLoop]);
});

test("a function of an imported module calls another module's function and its own", () => {
  const { root, compile } = compileFiles({
    "probe.ts": `import { f } from "./a.js";\n${PASS}`,
    "a.ts": `import { g } from "./b.js";\nfunction own(x: number): number {\n  return x + 1;\n}\n/** @noinline */\nexport function f(a: number): number {\n  return own(g(a));\n}\n`,
    "b.ts": `export function g(a: number): number {\n  return a ^ 5;\n}\n`,
  });
  const c = compile();
  assert.deepEqual(
    c.subprograms.map((s) => s.name),
    ["f"],
  );
  const elf = parseElf(c.elf);
  const ext = parseBtfExt(elf.section(".BTF.ext")!.data, parseBtf(elf.section(".BTF")!.data));
  const text = ext.lineInfo.get(".text")!.map((l) => [l.fileName.slice(root.length), l.text]);
  assert.deepEqual(
    text.filter(([f]) => f === "b.ts"),
    [["b.ts", "  return a ^ 5;"]],
  );
  assert.ok(text.some(([f, t]) => f === "a.ts" && t === "  return x + 1;"));
});

test("a program function may come from another module", () => {
  const { compile } = compileFiles({
    "probe.ts": `import { handler as h } from "./handler.js";\nexport const p = xdp(h);\n`,
    "handler.ts": `import { XdpAction, type XdpContext } from "tsbpf/probe";\nexport function handler(ctx: XdpContext): XdpAction {\n  return ctx.len() > 10 ? XdpAction.Pass : XdpAction.Drop;\n}\n`,
  });
  assert.equal(compile().programs[0]!.name, "p");
});

test("a function from a node_modules package is refused, naming the package", () => {
  const e = errorOf({
    "probe.ts": `import { f } from "fastmath";\n${PASS}`,
    "node_modules/fastmath/index.ts": `export function f(a: number): number {\n  return a;\n}\n`,
  });
  assert.equal(e.rel, "probe.ts");
  // the call `f(n)`, in the entry's third program line
  assert.deepEqual([e.line, e.col], [HEADER.split("\n").length + 3, 10]);
  assert.match(
    e.message,
    /f comes from the package "fastmath" \(node_modules\), which the compiler does not compile; probe code can call only functions defined in the probe's own modules/,
  );
});

test("a function only declared (a .d.ts module) is refused: there is no body to compile", () => {
  const e = errorOf({
    "probe.ts": `import { f } from "./native.js";\n${PASS}`,
    "native.d.ts": `export declare function f(a: number): number;\n`,
  });
  assert.equal(e.code, Code.Unsupported);
  assert.match(e.message, /f is only declared \(native\.d\.ts gives no body\)/);
});

test("a map declared in a helper module is refused with where to declare it", () => {
  const e = errorOf({
    "probe.ts": `import { f } from "./counts.js";\n${PASS}`,
    "counts.ts": `import { map, ArrayMap } from "tsbpf/probe";\nimport { u64 } from "tsbpf/types";\nconst m = map("m", new ArrayMap(u64, { maxEntries: 1 }));\nexport function f(a: number): number {\n  m.set(0, 1n);\n  return a;\n}\n`,
  });
  assert.equal(e.rel, "counts.ts");
  assert.deepEqual([e.line, e.col], [5, 3]);
  assert.match(
    e.message,
    /m \(declared in counts\.ts\) is not a compile-time constant.*declare maps and globals in the entry file/,
  );
});
