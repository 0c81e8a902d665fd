// A ProgArray initialised in the probe (`values: [a, b]`): the loader stores the programs in
// their slots, so a tail-call dispatcher works with nothing done in user space, under tsbpf's
// loader and under libbpf (bpftool prog loadall).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { needsKernel } from "../../support/kernel.js";
import { compileProbe } from "../../../src/compiler/index.js";
import { Collection } from "../../../src/load/collection.js";
import { ensureBpffs } from "../../../src/sys/bpffs.js";
import { HEADER, virtualPath } from "../../unit/compiler/support.js";

const SOURCE =
  HEADER +
  `
export const small = xdp(() => XdpAction.Drop);
export const large = xdp(() => XdpAction.Tx);
export const sparse = xdp(() => XdpAction.Aborted);
const jumps = map("jumps", new ProgArray({ maxEntries: 8, values: [small, large] }));
const more = map("more", new ProgArray({ maxEntries: 8, values: { 5: sparse } }));
export const dispatch = xdp((ctx: XdpContext) => {
  jumps.tailCall(ctx, ctx.len() > 100 ? 1 : 0);
  return XdpAction.Pass;
});
export const dispatchMore = xdp((ctx: XdpContext) => {
  more.tailCall(ctx, ctx.len() - 60);
  return XdpAction.Pass;
});
`;

function compile() {
  const path = virtualPath("prog-array");
  return compileProbe(path, { sources: new Map([[path, SOURCE]]) });
}

test("ProgArray values: tsbpf's loader fills the slots and tail calls reach the programs", (t) => {
  if (!needsKernel(t)) return;
  using coll = Collection.load(compile().elf);
  const run = (name: string, n: number) =>
    coll.programs.get(name)!.testRun({ data: new Uint8Array(n) }).retval;
  assert.equal(run("dispatch", 60), 1, "slot 0: small (XDP_DROP)");
  assert.equal(run("dispatch", 200), 3, "slot 1: large (XDP_TX)");
  assert.equal(run("dispatchMore", 65), 0, "slot 5: sparse (XDP_ABORTED)");
  assert.equal(run("dispatchMore", 64), 2, "slot 4 is empty: the dispatcher goes on");
});

test("ProgArray values: libbpf (bpftool prog loadall) fills the same slots", (t) => {
  if (!needsKernel(t)) return;
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-progarray-"));
  ensureBpffs();
  const pin = `/sys/fs/bpf/tsbpf-progarray-${process.pid}`;
  const maps = `${pin}-maps`;
  try {
    const obj = join(dir, "probe.o");
    writeFileSync(obj, compile().elf);
    execFileSync("bpftool", ["prog", "loadall", obj, pin, "pinmaps", maps], { stdio: "pipe" });
    const dump = (name: string) =>
      (
        JSON.parse(
          execFileSync("bpftool", ["-j", "map", "dump", "pinned", join(maps, name)], {
            encoding: "utf8",
          }),
        ) as { key: string[] | number; value?: unknown }[]
      ).length;
    assert.equal(dump("jumps"), 2);
    assert.equal(dump("more"), 1);
  } finally {
    rmSync(pin, { recursive: true, force: true });
    rmSync(maps, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
});
