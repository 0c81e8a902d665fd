// Defects that produced wrong or rejected code (issue 12), each run in the kernel: byte arrays
// copied into fields that are not 8-aligned, number literals above 2^53, programs whose every
// path returns from an if/else or a switch with default.
import { test } from "node:test";
import assert from "node:assert/strict";
import { needsKernel } from "../../support/kernel.js";
import { compileProbe } from "../../../src/compiler/index.js";
import { Collection } from "../../../src/load/collection.js";
import { u32, u64 } from "../../../src/types/index.js";
import { HEADER, virtualPath } from "../../unit/compiler/support.js";
import { frame } from "../../unit/compiler/packets.js";

function load(body: string): Collection {
  const path = virtualPath("wrong-code");
  return Collection.load(compileProbe(path, { sources: new Map([[path, HEADER + body]]) }).elf);
}

test("a byte array copied into a field that is not 8-aligned uses aligned stores (comm after a u32)", (t) => {
  if (!needsKernel(t)) return;
  using coll = load(`
const Src = struct("Src", { comm: array(u8, 16) });
const Dst = struct("Dst", { pid: u32, comm: array(u8, 16), addr: array(u8, 16), tail: u16 });
type Dst = Infer<typeof Dst>;
const src = map("src", new ArrayMap(Src, { maxEntries: 1 }));
const dst = map("dst", new ArrayMap(Dst, { maxEntries: 1 }));
export const p = xdp((ctx: XdpContext) => {
  const s = src.get(0);
  if (s === null) return XdpAction.Aborted;
  const d: Dst = { pid: 7, comm: new Uint8Array(16), addr: new Uint8Array(16), tail: 9 };
  d.comm = s.comm;
  const ip = ctx.ip();
  if (ip && ip.version === 6) d.addr = ip.saddr;
  dst.set(0, d);
  return XdpAction.Pass;
});
`);
  const comm = new Uint8Array(16).map((_, i) => 0x41 + i);
  coll.maps.get("src")!.set(u32.encode(0) as never, comm as never);
  const src6 = Array.from({ length: 16 }, (_, i) => 0xf0 + (i % 16));
  const r = coll.programs.get("p")!.testRun({ data: frame({ ip: 6, src: src6 }) });
  assert.equal(r.retval, 2);
  const out = coll.maps.get("dst")!.get(u32.encode(0) as never) as Uint8Array;
  const dv = new DataView(out.buffer, out.byteOffset);
  assert.equal(dv.getUint32(0, true), 7);
  assert.deepEqual([...out.subarray(4, 20)], [...comm]);
  assert.deepEqual([...out.subarray(20, 36)], src6);
  assert.equal(dv.getUint16(36, true), 9);
});

test("number literals above 2^53 keep their exact 64-bit value", (t) => {
  if (!needsKernel(t)) return;
  using coll = load(`
const out = map("out", new ArrayMap(u64, { maxEntries: 5 }));
const MASK = 0xffff_ffff_ffff_fff0;
const SQ = 0xffffffff * 0xffffffff; // odd: a double would round it to an even number
export const p = xdp((ctx: XdpContext) => {
  out.set(0, toBigInt(0xffffffffffffffff));
  out.set(1, toBigInt(ctx.len() | MASK));
  out.set(2, toBigInt(18446744073709551557 - ctx.len()));
  out.set(3, toBigInt(0x8000000000000001 * 3));
  out.set(4, toBigInt(SQ + ctx.len()));
  return XdpAction.Pass;
});
`);
  assert.equal(coll.programs.get("p")!.testRun({ data: new Uint8Array(20) }).retval, 2);
  const at = (i: number) =>
    u64.decode(coll.maps.get("out")!.get(u32.encode(i) as never) as Uint8Array);
  assert.equal(at(0), 0xffffffffffffffffn);
  assert.equal(at(1), 0xfffffffffffffff4n); // 20 | ...fff0
  assert.equal(at(2), 18446744073709551557n - 20n);
  assert.equal(at(3), BigInt.asUintN(64, 0x8000000000000001n * 3n));
  assert.equal(at(4), 0xffffffffn * 0xffffffffn + 20n);
});

test("a program whose every path returns from if/else or a switch with default compiles and runs", (t) => {
  if (!needsKernel(t)) return;
  using coll = load(`
export const sw = xdp((ctx: XdpContext) => {
  switch (ctx.len()) {
    case 20:
      return XdpAction.Drop;
    case 30:
    case 31:
      return XdpAction.Tx;
    default:
      return XdpAction.Pass;
  }
});
export const ie = xdp((ctx: XdpContext) => {
  if (ctx.len() > 25) {
    return XdpAction.Drop;
  } else {
    return XdpAction.Pass;
  }
});
`);
  const run = (name: string, n: number) =>
    coll.programs.get(name)!.testRun({ data: new Uint8Array(n) }).retval;
  assert.deepEqual(
    [20, 30, 31, 40].map((n) => run("sw", n)),
    [1, 3, 3, 2],
  );
  assert.deepEqual(
    [20, 30].map((n) => run("ie", n)),
    [2, 1],
  );
});

test("a shift count that constant propagation makes 64 or more is taken modulo 64, not rejected", (t) => {
  if (!needsKernel(t)) return;
  // Found by the kernel fuzz test (seed 1129111371): `a` is known to be 0, so the count folds to
  // 255 and was emitted as an immediate the verifier refuses ("invalid shift 255"). A count held
  // in a register is taken modulo 64 by the kernel, and so is the IR's (evalAlu).
  using coll = load(`
const out = map("out", new ArrayMap(u64, { maxEntries: 4 }));
export const p = xdp((ctx: XdpContext) => {
  let a = 0;
  const x = ctx.len() + 0x8000000000000000;
  out.set(0, toBigInt(x >> (a ? 1 : 255)));
  out.set(1, toBigInt(x << (a ? 1 : 66)));
  out.set(2, toBigInt(ctx.len() >> (a ? 1 : 129)));
  return XdpAction.Pass;
});
`);
  const data = frame({ ip: 4 });
  assert.equal(coll.programs.get("p")!.testRun({ data }).retval, 2);
  const get = (k: number) => u64.decode(coll.maps.get("out")!.get(u32.encode(k) as never)!);
  const len = BigInt(data.length);
  const x = BigInt.asIntN(64, len + 0x8000000000000000n);
  const u = (v: bigint) => BigInt.asUintN(64, v);
  assert.equal(get(0), u(x >> 63n), "x >> (255 % 64): arithmetic, so all ones");
  assert.equal(get(1), u(x << 2n), "x << (66 % 64)");
  assert.equal(get(2), u(len >> 1n), "len >> (129 % 64)");
});
