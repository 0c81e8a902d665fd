// The docs' `ts check run` examples run as written: transpiled, their `tsbpf` imports pointed
// at this checkout, run by node as root in a directory holding the fixture objects
// (test/fixtures/obj), and their output must show what the page's `<!-- expect: … -->`
// comments say. Conventions: test/unit/docs/ts-examples.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import ts from "typescript";
import { PAGES, readPage, root } from "../../support/doc-blocks.js";
import { needsKernel } from "../../support/kernel.js";

const FIXTURES = join(root, "test/fixtures/obj");
const ENTRY: Record<string, string> = {
  tsbpf: "dist/src/index.js",
  "tsbpf/types": "dist/src/types/index.js",
  "tsbpf/probe": "dist/src/probe/index.js",
  "tsbpf/export": "dist/src/export/index.js",
};

const blocks = PAGES.map(readPage).flatMap((p) => p.blocks.filter((b) => b.run));

test("the docs have examples to run", () => assert.ok(blocks.length >= 2));

for (const b of blocks)
  test(`${b.page}:${b.line}: the example runs and prints what the page says`, (t) => {
    if (!needsKernel(t)) return;
    const js = ts.transpileModule(`${b.givenRun}\n${b.code}\n${b.givenEnd}\nexport {};\n`, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    const linked = js.replace(/from "(tsbpf(?:\/\w+)?)"/g, (_, m: string) => {
      assert.ok(ENTRY[m], `${b.page}:${b.line}: imports ${m}, not a package entry point`);
      return `from "${pathToFileURL(join(root, ENTRY[m]!)).href}"`;
    });
    const dir = mkdtempSync(join(tmpdir(), "tsbpf-doc-run-"));
    try {
      for (const f of readdirSync(FIXTURES)) symlinkSync(join(FIXTURES, f), join(dir, f));
      writeFileSync(join(dir, "example.mjs"), linked);
      const r = spawnSync(process.execPath, ["example.mjs"], {
        cwd: dir,
        encoding: "utf8",
        timeout: 60_000,
      });
      const out = `${r.stdout}${r.stderr}`;
      assert.equal(r.status, 0, `${b.page}:${b.line} exited ${r.status}:\n${out}`);
      let at = 0;
      for (const want of b.expect) {
        const found = out.indexOf(want, at);
        assert.ok(found >= 0, `${b.page}:${b.line}: output lacks "${want}" (in order):\n${out}`);
        at = found + want.length;
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
