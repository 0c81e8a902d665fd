// Global variables from a TypeScript probe: .bss, .data with an initial value, and .rodata
// configuration set before load, through our loader and through libbpf (bpftool loads the
// object; test/fixtures/c/libbpf_config.c sets configuration as a libbpf program does).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { needsKernel } from "../../support/kernel.js";
import { fixture } from "../../support/fixtures.js";
import { compileProbe } from "../../../src/compiler/index.js";
import { Collection } from "../../../src/load/collection.js";
import { parseObject } from "../../../src/obj/object.js";
import { ensureBpffs } from "../../../src/sys/bpffs.js";
import { u32, u64 } from "../../../src/types/index.js";

const FIXTURE = fileURLToPath(
  new URL("../../../../test/fixtures/probes/globals.ts", import.meta.url),
);

test("globals: .bss/.data/.rodata variables read and written by a compiled program", (t) => {
  if (!needsKernel(t)) return;
  const compiled = compileProbe(FIXTURE);
  const obj = parseObject(compiled.elf);
  assert.ok(obj.maps.some((m) => m.name.endsWith(".bss")));
  using coll = Collection.load(compiled.elf, { globals: { increment: 3 } });
  const prog = coll.programs.get("globals_xdp")!;
  for (let i = 0; i < 5; i++) assert.equal(prog.testRun({ data: new Uint8Array(60) }).retval, 2);
  const map = (suffix: string) => [...coll.maps.entries()].find(([n]) => n.endsWith(suffix))![1];
  const value = (suffix: string) => map(suffix).get(u32.encode(0) as never) as Uint8Array;
  const data = value(".data");
  assert.equal(u64.decode(data), 115n, "counter = 100 + 5 × 3");
  const bss = value(".bss");
  assert.equal(u64.decode(bss), 5n, "runs");
  assert.deepEqual([u32.decode(bss.subarray(8)), u32.decode(bss.subarray(12))], [60, 60], "pkt");
  assert.equal(u32.decode(value(".rodata")), 3);

  // An integer global used as a condition tests its value (drop_all = 1 drops).
  using dropping = Collection.load(compiled.elf, { globals: { drop_all: 1 } });
  assert.equal(
    dropping.programs.get("globals_xdp")!.testRun({ data: new Uint8Array(60) }).retval,
    1,
  );
  // .rodata is frozen before the program loads, so the verifier knows drop_all and removes
  // the code it makes dead (`const volatile` configuration costs nothing when it is off).
  const xlated = (c: Collection) => c.programs.get("globals_xdp")!.info().xlatedProgLen / 8;
  assert.ok(
    xlated(dropping) * 2 < xlated(coll),
    `drop_all = 1: ${xlated(dropping)} instructions after verification, drop_all = 0: ${xlated(coll)}`,
  );

  ensureBpffs();
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-globals-"));
  const pin = `/sys/fs/bpf/tsbpf-globals-${process.pid}`;
  try {
    writeFileSync(join(dir, "g.elf"), compiled.elf);
    execFileSync("bpftool", ["prog", "loadall", join(dir, "g.elf"), pin], { stdio: "pipe" });
    // libbpf finds the configuration through the .rodata DATASEC and sets it before load.
    const libbpf = (...set: string[]) =>
      execFileSync(fixture("libbpf_config"), [join(dir, "g.elf"), "globals_xdp", ...set], {
        encoding: "utf8",
        stdio: "pipe",
      }).trim();
    assert.equal(libbpf(), "2");
    assert.equal(libbpf("drop_all=1"), "1");
    assert.equal(libbpf("increment=7", "drop_all=0"), "2");
  } finally {
    rmSync(pin, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
});
