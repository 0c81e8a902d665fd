// `tsbpf build` user errors are diagnostics that name the path at fault, never "internal
// compiler error" (issue 17): an output path through a file or under /proc, a FIFO as the
// probe, import.meta in the probe.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build, INTERNAL_ERROR_CODE } from "../../../src/cli/build.js";

const PROBE = `import { program, xdp, XdpAction } from "tsbpf/probe";
program({ license: "GPL" });
export const pass = xdp(() => XdpAction.Pass);
`;

function tempDir(t: { after(f: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-build-errors-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test("an output directory through a regular file names the file, as a user error", async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, "count.ts"), PROBE);
  writeFileSync(join(dir, "plain"), "x");
  const r = await build(["count.ts"], { cwd: dir, outDir: "plain/out" });
  assert.equal(r.outputs.length, 0);
  assert.equal(r.diagnostics.length, 1);
  const d = r.diagnostics[0]!;
  assert.notEqual(d.code, INTERNAL_ERROR_CODE);
  assert.doesNotMatch(d.message, /internal compiler error/);
  assert.match(d.message, new RegExp(`${join(dir, "plain")} exists and is not a directory`));
  assert.match(d.message, /-o DIR/);
});

test(
  "an output directory that cannot be created (under /proc) fails at once, naming it",
  { timeout: 30_000 },
  async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, "count.ts"), PROBE);
    const r = await build(["count.ts"], { cwd: dir, outDir: `/proc/tsbpf-no-such-${process.pid}` });
    assert.equal(r.diagnostics.length, 1);
    assert.match(
      r.diagnostics[0]!.message,
      new RegExp(`cannot create directory /proc/tsbpf-no-such-${process.pid}: ENOENT`),
    );
  },
);

test("a FIFO given as the probe is refused without reading it", { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  const fifo = join(dir, "pipe.ts");
  const mk = spawnSync("mkfifo", [fifo]);
  assert.equal(mk.status, 0, "mkfifo (coreutils) works");
  const r = await build(["pipe.ts"], { cwd: dir, outDir: "out" });
  assert.equal(r.diagnostics.length, 1);
  assert.match(r.diagnostics[0]!.message, /pipe\.ts is a FIFO, not a probe file/);
  assert.doesNotMatch(r.diagnostics[0]!.message, /not found/);
});

test("import.meta is reported where it is written, not at <options>:1:1", async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, "meta.ts"), PROBE + "const where = import.meta;\nvoid where;\n");
  const r = await build(["meta.ts"], { cwd: dir, outDir: "out" });
  assert.ok(r.diagnostics.length >= 1);
  assert.ok(
    r.diagnostics.every((d) => d.file !== "<options>"),
    JSON.stringify(r.diagnostics),
  );
  const d = r.diagnostics[0]!;
  assert.deepEqual([d.file, d.line, d.col], ["meta.ts", 4, 15]);
  assert.match(d.message, /import\.meta is not available in a probe/);
});
