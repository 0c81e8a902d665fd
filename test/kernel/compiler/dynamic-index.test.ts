// Run-time indexes into array fields (issue 12): per-key histograms in map values, struct
// locals and globals; an index outside the array reads 0 and drops a store.
import { test } from "node:test";
import assert from "node:assert/strict";
import { needsKernel } from "../../support/kernel.js";
import { compileProbe } from "../../../src/compiler/index.js";
import { Collection } from "../../../src/load/collection.js";
import { u32, u64 } from "../../../src/types/index.js";
import { HEADER, virtualPath } from "../../unit/compiler/support.js";

const SOURCE = `import { global } from "tsbpf/probe";
const Hist = struct("Hist", { total: u32, slots: array(u64, 64) });
const Rec = struct("Rec", { a: u16, n: u32 });
const Recs = struct("Recs", { pad: u8, recs: array(Rec, 5) });
type Recs = Infer<typeof Recs>;
const hist = map("hist", new ArrayMap(Hist, { maxEntries: 1 }));
const out = map("out", new ArrayMap(u64, { maxEntries: 8 }));
const g = global("g", array(u32, 8));
export const p = xdp((ctx: XdpContext) => {
  const h = hist.get(0);
  if (!h) return XdpAction.Aborted;
  const i = ctx.len() - 20;
  if (i < 64) h.slots[i]++;
  h.slots[i] += 10n; // unchecked: an index past the end is dropped
  const local: Recs = { pad: 1, recs: [{ a: 0, n: 0 }, { a: 0, n: 0 }, { a: 0, n: 0 }, { a: 0, n: 0 }, { a: 0, n: 0 }] };
  local.recs[i % 8].n = 77;
  out.set(0, BigInt(local.recs[i % 8].n));
  out.set(1, BigInt(local.recs[4].n + local.recs[0].n));
  g.value[i & 15] = 5;
  out.set(2, BigInt(g.value[i & 15]));
  out.set(3, h.slots[i]);
  return XdpAction.Pass;
});
`;

test("run-time indexes into array fields: histogram slots, arrays of structs, globals", (t) => {
  if (!needsKernel(t)) return;
  const path = virtualPath("dyn-index");
  using coll = Collection.load(
    compileProbe(path, { sources: new Map([[path, HEADER + SOURCE]]) }).elf,
  );
  const prog = coll.programs.get("p")!;
  const out = (i: number) =>
    u64.decode(coll.maps.get("out")!.get(u32.encode(i) as never) as Uint8Array);
  const hist = () => {
    const b = coll.maps.get("hist")!.get(u32.encode(0) as never) as Uint8Array;
    const dv = new DataView(b.buffer, b.byteOffset);
    return Array.from({ length: 64 }, (_, k) => dv.getBigUint64(8 + k * 8, true));
  };
  for (const n of [20, 23, 23, 83, 84, 200])
    assert.equal(prog.testRun({ data: new Uint8Array(n) }).retval, 2);
  const h = hist();
  assert.equal(h[0], 11n);
  assert.equal(h[3], 22n);
  assert.equal(h[63], 11n);
  assert.equal(
    h.reduce((a, b) => a + b),
    44n,
    "indexes 64 and 180 touched nothing",
  );
  // the last run: i = 180, i % 8 = 4 (inside the 5 records), i & 15 = 4
  assert.equal(out(0), 77n);
  assert.equal(out(1), 77n);
  assert.equal(out(2), 5n);
  assert.equal(out(3), 0n, "an index past the end reads 0");
  // i = 64 - 1 = 63: i % 8 = 7 is outside the 5 records: the store is dropped, the read is 0
  assert.equal(prog.testRun({ data: new Uint8Array(83) }).retval, 2);
  assert.equal(out(0), 0n);
  assert.equal(out(1), 0n);
  assert.equal(out(3), 22n);
});
