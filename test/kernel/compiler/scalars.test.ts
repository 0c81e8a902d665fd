// The scalar language of issue 12 run in the kernel: enums, Math.min/max, Number()/BigInt(),
// booleans as numbers, atomic adds to scalar map values.
import { test } from "node:test";
import assert from "node:assert/strict";
import { needsKernel } from "../../support/kernel.js";
import { compileProbe } from "../../../src/compiler/index.js";
import { Collection } from "../../../src/load/collection.js";
import { u32, u64 } from "../../../src/types/index.js";
import { HEADER, virtualPath } from "../../unit/compiler/support.js";

function load(body: string): Collection {
  const path = virtualPath("scalars");
  return Collection.load(compileProbe(path, { sources: new Map([[path, HEADER + body]]) }).elf);
}
const key = (i: number) => u32.encode(i) as never;
const at = (coll: Collection, i: number) =>
  BigInt.asIntN(64, u64.decode(coll.maps.get("out")!.get(key(i)) as Uint8Array));

test("enum, const enum, Math.min/max, Number(), BigInt() and booleans as numbers", (t) => {
  if (!needsKernel(t)) return;
  using coll = load(`
enum Kind { Small = 1, Medium, Large = Medium * 10, Huge = 0x10000000000, Wide = 0xffffffff | 0 }
const enum Limit { Low = -5, High = 100 }
const out = map("out", new ArrayMap(u64, { maxEntries: 16 }));
const put = (i: number, v: number | bigint) => out.set(i, BigInt(v));
export const p = xdp((ctx: XdpContext) => {
  const n = ctx.len();
  let k: Kind = Kind.Small;
  if (n > 50) k = Kind.Large;
  else if (n > 30) k = Kind.Medium;
  put(0, k);
  put(1, Kind.Huge);
  switch (k) {
    case Kind.Small: put(2, 11); break;
    case Kind.Medium: put(2, 22); break;
    default: put(2, 33);
  }
  put(3, Math.min(n, Limit.High, 64));
  put(4, Math.max(n - 100, Limit.Low));
  put(5, Math.min(n - 100, -3));
  const big = n > 40;
  put(6, Number(big) + Number(n > 10) * 2 + +(n > 60) * 4);
  put(7, BigInt(big) * 1000n + BigInt(n));
  put(8, Number(BigInt(n) * 3n));
  const slot = new Uint8Array(Math.max(2, 4));
  put(9, slot.length);
  put(10, Kind.Wide); // 64-bit |, not JavaScript's 32-bit one (which gives -1)
  return XdpAction.Pass;
});
`);
  const run = (n: number) => {
    assert.equal(coll.programs.get("p")!.testRun({ data: new Uint8Array(n) }).retval, 2);
    return Array.from({ length: 11 }, (_, i) => at(coll, i));
  };
  assert.deepEqual(run(20), [1n, 1n << 40n, 11n, 20n, -5n, -80n, 2n, 20n, 60n, 4n, 0xffffffffn]);
  assert.deepEqual(run(35), [2n, 1n << 40n, 22n, 35n, -5n, -65n, 2n, 35n, 105n, 4n, 0xffffffffn]);
  assert.deepEqual(run(70), [
    20n,
    1n << 40n,
    33n,
    64n,
    -5n,
    -30n,
    7n,
    1070n,
    210n,
    4n,
    0xffffffffn,
  ]);
  assert.deepEqual(run(200)[3], 64n);
  assert.deepEqual(run(200)[4], 100n);
  assert.deepEqual(run(200)[5], -3n);
});

test("m.add(key, n): atomic adds to scalar values; a missing hash key is inserted", (t) => {
  if (!needsKernel(t)) return;
  using coll = load(`
const counts = map("counts", new HashMap(u32, u64, { maxEntries: 2 }));
const small = map("small", new PerCpuHashMap(u32, u32, { maxEntries: 4 }));
const arr = map("arr", new ArrayMap(u64, { maxEntries: 4 }));
const out = map("out", new ArrayMap(u64, { maxEntries: 8 }));
export const p = xdp((ctx: XdpContext) => {
  const k = ctx.len();
  out.set(0, BigInt(counts.add(k, 1n)));
  out.set(1, BigInt(arr.add(k & 3, BigInt(k))));
  out.set(2, BigInt(arr.add(k, 1n)));
  out.set(3, BigInt(small.add(7, 2)));
  return XdpAction.Pass;
});
`);
  const run = (n: number) =>
    coll.programs.get("p")!.testRun({ data: new Uint8Array(n), repeat: 1 }).retval;
  for (const n of [20, 20, 20, 21]) assert.equal(run(n), 2);
  const counts = coll.maps.get("counts")!;
  assert.equal(u64.decode(counts.get(key(20)) as Uint8Array), 3n);
  assert.equal(u64.decode(counts.get(key(21)) as Uint8Array), 1n);
  assert.equal(at(coll, 0), 0n);
  assert.equal(u64.decode(coll.maps.get("arr")!.get(key(0)) as Uint8Array), 60n); // 20 & 3 = 0
  assert.equal(u64.decode(coll.maps.get("arr")!.get(key(1)) as Uint8Array), 21n);
  assert.equal(at(coll, 1), 0n);
  assert.equal(at(coll, 2), -2n, "index 21 is past maxEntries: -ENOENT");
  assert.equal(at(coll, 3), 0n);
  // a third key does not fit in the two-entry map: the insert's -E2BIG comes back
  assert.equal(run(22), 2);
  assert.equal(at(coll, 0), -7n);
  assert.equal(counts.get(key(22)), undefined);
});
