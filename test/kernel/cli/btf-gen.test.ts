// `tsbpf btf gen` (docs/cli.md): the documented command line, run as written, writes
// declarations of the named structs from the running kernel's BTF; --btf reads a file instead;
// an unknown struct is a one-line error naming it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launch, ROOT } from "../../support/cli-run.js";
import { needsKernel } from "../../support/kernel.js";

const BIN = join(ROOT, "dist/src/cli/bin.js");

/** The `$ tsbpf btf gen …` line of docs/cli.md, as arguments. */
function documentedArgs(): string[] {
  const doc = readFileSync(join(ROOT, "docs/cli.md"), "utf8");
  const line = doc.split("\n").find((l) => l.startsWith("$ tsbpf btf gen "));
  assert.ok(line, "docs/cli.md shows a tsbpf btf gen command");
  return line.slice("$ tsbpf ".length).split(/\s+/);
}

test("tsbpf btf gen as documented writes the declarations of the named kernel structs", (t) => {
  if (!needsKernel(t)) return;
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-btfgen-"));
  try {
    const args = documentedArgs();
    const r = launch(process.execPath, join(dir, "cache"), [BIN, ...args], {}, dir);
    assert.equal(r.status, 0, r.stderr);
    const out = args[args.indexOf("-o") + 1]!;
    const text = readFileSync(join(dir, out), "utf8");
    const count = text.match(/^export interface /gm)?.length ?? 0;
    assert.match(
      r.stderr,
      new RegExp(`wrote ${out}: ${count} interfaces, ${Buffer.byteLength(text)} bytes`),
    );
    for (const name of args[args.indexOf("-t") + 1]!.split(","))
      assert.match(
        text,
        new RegExp(`/\\* @btf struct ${name} \\d+ \\*/\\nexport interface ${name} \\{`),
      );
    assert.match(text, /@btf \d+ ptr \*\/ readonly real_parent: task_struct;/);

    // --btf: the same BTF from a file gives the same declarations (only the header differs)
    copyFileSync("/sys/kernel/btf/vmlinux", join(dir, "vmlinux.btf"));
    const f = launch(
      process.execPath,
      join(dir, "cache"),
      [BIN, ...args, "--btf", "vmlinux.btf", "-o", "file.d.ts"],
      {},
      dir,
    );
    assert.equal(f.status, 0, f.stderr);
    const body = (s: string) =>
      s
        .split("\n")
        .filter((l) => !l.startsWith("// from "))
        .join("\n");
    assert.equal(body(readFileSync(join(dir, "file.d.ts"), "utf8")), body(text));

    const bad = launch(
      process.execPath,
      join(dir, "cache"),
      [BIN, "btf", "gen", "-t", "no_such_struct"],
      {},
      dir,
    );
    assert.equal(bad.status, 1);
    assert.equal(
      bad.stderr.split("\n")[0], // (TSBPF_DEBUG adds the stack below)
      "error: the BTF has no struct or union named no_such_struct (names are the C ones: task_struct, file, sk_buff, trace_event_raw_sched_switch…)",
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
