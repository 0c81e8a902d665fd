// Every TypeScript block in README.md and docs/*.md is checked by a test, so no example rots.
// A block says how in its fence or in a comment right above it:
//   ```ts check        user-space code: type-checked against the package's public API
//   ```ts probe        a probe: compiled by tsbpf's compiler (type check, lowering, ELF)
//   ```ts file=NAME    a module other blocks of the page import (`./NAME` with .js); checked as
//                      user-space code, or as a probe module with `probe` too. In tutorial.md
//                      the tutorial test writes and runs these files.
//   <!-- example: NAME --> / <!-- example-body: NAME --> / <!-- test: NAME (…) -->
//                      run by another test, which must mention NAME.
// Context a fragment needs and the page does not show goes in comments above it, not rendered:
//   <!-- given: declare const c: import("tsbpf").Collection; -->   prepended to the block
//   <!-- given-end: return XdpAction.Pass; }); -->                  appended (a function body)
//   <!-- given-file shared.ts: export const … -->                   a hidden module of the page
//   <!-- given-skeleton target/…/x.skel.ts: examples/x/probe.ts -->  the skeleton `tsbpf build`
//                                                                     writes for that probe
// `ts check run` blocks are also run by test/kernel/docs/run-examples.test.ts, beside the
// fixture objects, with `<!-- given-run: JS -->` before them and `<!-- expect: TEXT -->` lines
// the output must contain in order.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { compileProbe } from "../../../src/compiler/index.js";
import { PAGES, readPage, root, type Block, type Page } from "../../support/doc-blocks.js";

const pages = PAGES.map(readPage);
const dirOf = (p: Page): string => `/tmp/tsbpf-virtual/doc-${p.page.replace(/[/.]/g, "-")}`;
const withGiven = (b: Block): string => [b.given, b.code, b.givenEnd].filter(Boolean).join("\n");

test("every TypeScript block of the docs says how it is tested", () => {
  const missing = pages.flatMap((p) => p.unmarked.map((l) => `${p.page}:${l}`));
  assert.deepEqual(missing, [], "mark these blocks `ts check`, `ts probe` or `ts file=NAME`");
  assert.ok(pages.flatMap((p) => p.blocks).length > 20, "the docs have their examples");
});

test("blocks run by other tests are named in those tests", () => {
  const tests = readdirSync(join(root, "test"), { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts"))
    .map((f) => readFileSync(join(root, "test", f), "utf8"))
    .join("\n");
  for (const b of pages.flatMap((p) => p.blocks))
    if (b.mode === "tested-elsewhere")
      assert.ok(tests.includes(b.marker!), `${b.page}:${b.line}: no test names "${b.marker}"`);
});

test("user-space examples type-check against the public API", () => {
  const files = new Map<string, string>();
  const checked = new Set<string>();
  /** file:line in the docs of line `l` (1-based) of a block's virtual file */
  const where = new Map<string, (l: number) => string>();
  for (const p of pages) {
    if (p.page === "docs/tutorial.md") continue; // its files are written and run by the tutorial test
    const dir = dirOf(p);
    files.set(join(dir, "package.json"), '{ "type": "module" }'); // ESM, as a project is
    for (const [name, text] of p.files) files.set(join(dir, name), text);
    for (const b of p.blocks) {
      if (b.probe || b.mode === "tested-elsewhere") continue;
      const path = b.file !== undefined ? join(dir, b.file) : join(dir, `block-${b.line}.ts`);
      // A block is a module (top-level await, no global clashes) even without an import.
      files.set(path, `${withGiven(b)}\nexport {};\n`);
      checked.add(path);
      where.set(
        path,
        (l) => `${b.page}:${b.line + l - (b.given ? b.given.split("\n").length : 0)}`,
      );
    }
  }
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    lib: ["lib.es2023.d.ts", "lib.esnext.disposable.d.ts", "lib.esnext.asynciterable.d.ts"],
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: ["node"],
    typeRoots: [join(root, "node_modules/@types")],
    baseUrl: root,
    paths: {
      tsbpf: ["./src/index.ts"],
      "tsbpf/types": ["./src/types/index.ts"],
      "tsbpf/probe": ["./src/probe/index.ts"],
      "tsbpf/export": ["./src/export/index.ts"],
    },
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile, directoryExists } = host;
  const virtualDir = (d: string): boolean => [...files.keys()].some((f) => f.startsWith(`${d}/`));
  host.fileExists = (f) => files.has(f) || fileExists.call(host, f);
  host.directoryExists = (d) => virtualDir(d) || (directoryExists?.call(host, d) ?? false);
  host.realpath = (f) => f;
  host.readFile = (f) => files.get(f) ?? readFile.call(host, f);
  host.getSourceFile = (f, lang, ...rest) => {
    const text = files.get(f);
    return text !== undefined
      ? ts.createSourceFile(f, text, lang)
      : getSourceFile.call(host, f, lang, ...rest);
  };
  const program = ts.createProgram([...checked], options, host);
  const problems = ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file && files.has(d.file.fileName))
    .map((d) => {
      const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
      const at = where.get(d.file!.fileName)?.(line + 1) ?? `${d.file!.fileName}:${line + 1}`;
      return `${at}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
    });
  assert.deepEqual(problems, []);
  assert.ok(checked.size > 10);
});

for (const p of pages)
  for (const b of p.blocks)
    if (b.probe)
      test(`${p.page}:${b.line}: the probe example compiles`, () => {
        const dir = dirOf(p);
        const sources = new Map([...p.files].map(([n, t]) => [join(dir, n), t]));
        const entry = join(dir, b.file ?? `block-${b.line}.ts`);
        sources.set(entry, withGiven(b));
        compileProbe(entry, { sources }); // throws, naming file:line, when it does not compile
      });
