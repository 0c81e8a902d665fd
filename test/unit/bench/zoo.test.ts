// The public program zoo's harness (bench/compiler/zoo.ts): pairs whose C object is missing
// are reported with the script that builds it (CI cannot fetch the originals), present ones
// are loaded with the program and section their entry names; every entry's inputs exist,
// have distinct names and include the input it is timed on.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ZOO, zooPairs } from "../../../bench/compiler/zoo.js";
import { ROOT } from "../../../bench/compiler/run.js";

test("zoo pairs without a built C object are skipped with the command that builds them", () => {
  const root = mkdtempSync(join(tmpdir(), "tsbpf-zoo-unit-"));
  try {
    const pairs = zooPairs(root);
    assert.equal(pairs.length, ZOO.length);
    for (const p of pairs) {
      assert.ok("missing" in p, p.entry.name);
      assert.match(p.missing, /scripts\/build-zoo\.sh/);
      assert.match(p.missing, new RegExp(p.entry.cObject.replace(/\./g, "\\.")));
    }
    mkdirSync(join(root, ".zoo/obj"), { recursive: true });
    const e = ZOO.find((z) => z.cSection !== undefined)!;
    writeFileSync(join(root, ".zoo/obj", e.cObject), Uint8Array.of(0x7f, 0x45, 0x4c, 0x46));
    const got = zooPairs(root).find((p) => p.entry.name === e.name)!;
    assert.ok(!("missing" in got));
    if (!("missing" in got)) {
      assert.deepEqual([...got.cElf], [0x7f, 0x45, 0x4c, 0x46]);
      assert.equal(got.load.program, e.cProgram);
      assert.equal(got.load.section, e.cSection);
      assert.equal(got.ts, join(root, "bench/compiler/zoo", e.ts));
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("every zoo entry has a TS port, distinct input names and its timed input", () => {
  const names = new Set<string>();
  for (const e of ZOO) {
    assert.ok(!names.has(e.name), `duplicate entry ${e.name}`);
    names.add(e.name);
    assert.ok(existsSync(join(ROOT, "bench/compiler/zoo", e.ts)), e.ts);
    const inputs = e.inputs();
    assert.ok(inputs.length >= 8, `${e.name}: ${inputs.length} inputs`);
    assert.equal(new Set(inputs.map((i) => i.name)).size, inputs.length, `${e.name}: input names`);
    assert.ok(
      inputs.some((i) => i.name === e.timed),
      `${e.name}: timed input ${e.timed}`,
    );
    for (const i of inputs)
      assert.ok(i.data.length >= 14, `${e.name}/${i.name}: a whole Ethernet header`);
  }
  assert.ok(ZOO.length >= 12);
});
