// Probe-side Histogram (issue 14): `h.record(v)` run in the kernel with known values
// (BPF_PROG_TEST_RUN, the value taken from a map user space fills), every bucket count
// checked exactly, then drawn from the kernel's maps as `tsbpf load --interval` draws them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { needsKernel } from "../../support/kernel.js";
import { compileProbe } from "../../../src/compiler/index.js";
import { Collection } from "../../../src/load/collection.js";
import { u32, u64 } from "../../../src/types/index.js";
import { virtualPath } from "../../unit/compiler/support.js";
import { openMap } from "../../../src/inspect/system.js";
import { readAggregate, renderAggregate } from "../../../src/inspect/aggregate.js";

const SOURCE = `import { program, map, xdp, ArrayMap, Histogram, XdpAction } from "tsbpf/probe";
import { struct, u8, u32, u64 } from "tsbpf/types";
program({ license: "GPL" });
const Key = struct("Key", { cpu: u32, kind: u8 });
const input = map("input", new ArrayMap(u64, { maxEntries: 1 }));
const lat = map("lat", new Histogram());
const small = map("small", new Histogram({ slots: 4 }));
const ttl = map("ttl", new Histogram({ linear: { start: 10, step: 5 }, slots: 4 }));
const per = map("per", new Histogram({ key: Key, slots: 8, maxEntries: 4 }));
export const p = xdp((ctx) => {
  const v = input.get(0);
  if (v === null) return XdpAction.Aborted;
  lat.record(v);
  small.record(v);
  ttl.record(v);
  per.record({ cpu: 7, kind: Number(v & 1n) }, v);
  return XdpAction.Pass;
});
`;

function load(): Collection {
  const path = virtualPath("histogram");
  return Collection.load(compileProbe(path, { sources: new Map([[path, SOURCE]]) }).elf);
}

const slotsOf = (bytes: Uint8Array, from: number, n: number): bigint[] =>
  Array.from({ length: n }, (_, i) => u64.decode(bytes.subarray(from + 8 * i, from + 8 * i + 8)));

test("Histogram.record: log2, linear and keyed buckets of known values", (t) => {
  if (!needsKernel(t)) return;
  using coll = load();
  const values = [
    0n,
    1n,
    2n,
    3n,
    4n,
    7n,
    8n,
    1000n,
    1n << 40n,
    (1n << 64n) - 1n,
    9n,
    12n,
    14n,
    15n,
    29n,
    30n,
  ];
  for (const v of values) {
    coll.maps.get("input")!.set(u32.encode(0) as never, u64.encode(v) as never);
    assert.equal(coll.programs.get("p")!.testRun({ data: new Uint8Array(64) }).retval, 2);
  }
  const zero = u32.encode(0) as never;
  const lat = slotsOf(coll.maps.get("lat")!.get(zero) as Uint8Array, 0, 32);
  const want = new Array<bigint>(32).fill(0n);
  // slot 0: 0; slot i: 2^(i-1) … 2^i - 1; the last slot (31) everything from 2^30
  const log2 = (v: bigint) => (v === 0n ? 0 : Math.min(31, v.toString(2).length));
  for (const v of values) want[log2(v)]!++;
  assert.deepEqual(lat, want);
  assert.deepEqual(lat.slice(0, 6), [1n, 1n, 2n, 2n, 5n, 2n]); // written out, not derived
  assert.equal(lat[31], 2n);
  assert.deepEqual(slotsOf(coll.maps.get("small")!.get(zero) as Uint8Array, 0, 4), [
    1n,
    1n,
    2n,
    12n,
  ]);
  const ttl = coll.maps.get("ttl")!.get(zero) as Uint8Array;
  assert.deepEqual(slotsOf(ttl, 0, 2), [10n, 5n], "start and step stored in the value");
  // start is compared signed, so 2^64 - 1 (-1) is below it: slot 0 holds 0 1 2 3 4 7 8 9 12 14
  // and -1; slot 1 15; slot 3 29 and, clamped, 30 1000 2^40
  assert.deepEqual(slotsOf(ttl, 16, 4), [11n, 1n, 0n, 4n]);
  const per = coll.maps.get("per")!;
  const keyOf = (kind: number) => new Uint8Array([7, 0, 0, 0, kind, 0, 0, 0]) as never;
  const even = values.filter((v) => (v & 1n) === 0n);
  const odd = values.filter((v) => (v & 1n) === 1n);
  const hist8 = (vs: bigint[]) => {
    const h = new Array<bigint>(8).fill(0n);
    for (const v of vs) h[Math.min(7, log2(v))]!++;
    return h;
  };
  assert.deepEqual(slotsOf(per.get(keyOf(0)) as Uint8Array, 0, 8), hist8(even));
  assert.deepEqual(slotsOf(per.get(keyOf(1)) as Uint8Array, 0, 8), hist8(odd));
  assert.deepEqual(hist8(even), [1n, 0n, 1n, 1n, 3n, 1n, 0n, 2n]);
});

test("Histogram maps are drawn from the kernel's BTF as tsbpf load --interval draws them", (t) => {
  if (!needsKernel(t)) return;
  using coll = load();
  for (const v of [3n, 5n, 6n, 7n, 100n, 12n]) {
    coll.maps.get("input")!.set(u32.encode(0) as never, u64.encode(v) as never);
    coll.programs.get("p")!.testRun({ data: new Uint8Array(64) });
  }
  const draw = (name: string) => {
    using m = openMap({ by: "id", id: coll.maps.get(name)!.id });
    return renderAggregate(readAggregate(m)!).join("\n");
  };
  assert.equal(
    draw("lat"),
    [
      "  value   : count    distribution",
      " 2 -> 3   : 1        |*************                           |",
      " 4 -> 7   : 3        |****************************************|",
      " 8 -> 15  : 1        |*************                           |",
      "16 -> 31  : 0        |                                        |",
      "32 -> 63  : 0        |                                        |",
      "64 -> 127 : 1        |*************                           |",
    ].join("\n"),
  );
  assert.equal(
    draw("ttl"),
    [
      "  value  : count    distribution",
      "10 -> 14 : 5        |****************************************|",
      "15 -> 19 : 0        |                                        |",
      "20 -> 24 : 0        |                                        |",
      "25 -> 29 : 1        |********                                |",
    ].join("\n"),
  );
  assert.equal(
    draw("per"),
    [
      "key = { cpu: 7, kind: 0 }",
      "  value   : count    distribution",
      " 4 -> 7   : 1        |****************************************|",
      " 8 -> 15  : 1        |****************************************|",
      "16 -> 31  : 0        |                                        |",
      "32 -> 63  : 0        |                                        |",
      "64 -> 127 : 1        |****************************************|",
      "",
      "key = { cpu: 7, kind: 1 }",
      " value : count    distribution",
      "2 -> 3 : 1        |********************                    |",
      "4 -> 7 : 2        |****************************************|",
    ].join("\n"),
  );
});
