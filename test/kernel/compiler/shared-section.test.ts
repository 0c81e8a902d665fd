// Two programs of one kind share their ELF section (as clang lays them out); both load, with
// their own map relocations, through our loader and through libbpf.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { needsKernel } from "../../support/kernel.js";
import { compileProbe } from "../../../src/compiler/index.js";
import { Collection } from "../../../src/load/collection.js";
import { parseObject } from "../../../src/obj/object.js";
import { ensureBpffs } from "../../../src/sys/bpffs.js";
import { u32, u64 } from "../../../src/types/index.js";
import { HEADER, virtualPath } from "../../unit/compiler/support.js";

const SRC = `${HEADER}
const hits = map("hits", new ArrayMap(u64, { maxEntries: 2 }));
function bump(i: number): void {
  const h = hits.get(i);
  if (h !== null) hits.set(i, h + 1n);
}
export const first = xdp(() => {
  bump(0);
  return XdpAction.Drop;
});
export const second = xdp(() => {
  bump(1);
  bump(1);
  return XdpAction.Pass;
});
`;

test("two xdp programs in one section", (t) => {
  if (!needsKernel(t)) return;
  const path = virtualPath("twoxdp");
  const compiled = compileProbe(path, { sources: new Map([[path, SRC]]) });
  const obj = parseObject(compiled.elf);
  assert.deepEqual(
    obj.programs.map((p) => [p.name, p.section]),
    [
      ["first", "xdp"],
      ["second", "xdp"],
    ],
  );
  using coll = Collection.load(compiled.elf);
  const pkt = new Uint8Array(64);
  assert.equal(coll.programs.get("first")!.testRun({ data: pkt }).retval, 1);
  assert.equal(coll.programs.get("second")!.testRun({ data: pkt }).retval, 2);
  const hits = coll.maps.get("hits")!;
  const at = (i: number) => u64.decode(hits.get(u32.encode(i) as never) as Uint8Array);
  assert.deepEqual([at(0), at(1)], [1n, 2n]);

  ensureBpffs();
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-twoxdp-"));
  const pin = `/sys/fs/bpf/tsbpf-twoxdp-${process.pid}`;
  try {
    writeFileSync(join(dir, "o.elf"), compiled.elf);
    execFileSync("bpftool", ["prog", "loadall", join(dir, "o.elf"), pin], { stdio: "pipe" });
  } finally {
    rmSync(pin, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
});
