// Compiler robustness against the verifier (issue 17): programs that used to compile and then
// be rejected at load now load and compute the right thing, and the limits stated in
// docs/probe-language.md are where the verifier really stops.
import { test } from "node:test";
import assert from "node:assert/strict";
import { needsKernel } from "../../support/kernel.js";
import { Collection } from "../../../src/load/collection.js";
import { u32, u64 } from "../../../src/types/index.js";
import { HEADER, compileSource } from "../../unit/compiler/support.js";
import { frame } from "../../unit/compiler/packets.js";

const IO = `const io = map("io", new ArrayMap(u64, { maxEntries: 4 }));\n`;
const xdpProg = (body: string) =>
  `${IO}export const p = xdp((ctx: XdpContext) => {\n${body}\n  return XdpAction.Pass;\n});\n`;

function load(text: string): Collection {
  return Collection.load(compileSource(text, { raw: true }).elf);
}
const get = (coll: Collection, k: number) =>
  u64.decode(coll.maps.get("io")!.get(u32.encode(k) as never) as Uint8Array);
const set = (coll: Collection, k: number, v: bigint) =>
  coll.maps.get("io")!.set(u32.encode(k) as never, u64.encode(v) as never);

test("bytes.at(k) with an index from a map, after if (k < 16), loads and reads the byte", (t) => {
  if (!needsKernel(t)) return;
  using coll = load(
    HEADER +
      xdpProg(
        "  const d = ctx.data();\n  const bs = d && d.read(16);\n  if (!bs) return XdpAction.Drop;\n  const k = toNumber(io.get(0) ?? 0n);\n  if (k < 16) io.set(1, toBigInt(bs.at(k)));\n  else io.set(1, 999n);",
      ),
  );
  const payload = Uint8Array.from({ length: 20 }, (_, i) => 100 + i);
  for (const k of [0, 5, 15, 16]) {
    set(coll, 0, BigInt(k));
    assert.equal(coll.programs.get("p")!.testRun({ data: frame({ ip: 4, payload }) }).retval, 2);
    assert.equal(get(coll, 1), k < 16 ? BigInt(100 + k) : 999n, `k=${k}`);
  }
});

test("nested kernel loops at the iteration budget load; a GPL-compatible dual license may print", (t) => {
  if (!needsKernel(t)) return;
  using coll = load(
    HEADER.replace('license: "GPL"', 'license: "Dual MIT/GPL"') +
      xdpProg(
        '  let b = 0;\n  for (let i = 0; i < 500; i++) {\n    for (let j = 0; j < 500; j++) { b += j; }\n  }\n  io.set(1, toBigInt(b));\n  if (b === 0) tracePrintk("never %d", b);',
      ),
  );
  assert.equal(coll.programs.get("p")!.testRun({ data: new Uint8Array(64) }).retval, 2);
  assert.equal(get(coll, 1), 500n * ((499n * 500n) / 2n));
});

test("loops that end exactly on a !== bound, counting up or down, load and run", (t) => {
  if (!needsKernel(t)) return;
  using coll = load(
    HEADER +
      xdpProg(
        "  let a = 0;\n  for (let i = 0; i !== 40; i += 2) { a += i; }\n  for (let i = 60; i !== 0; i -= 3) { a += i; }\n  io.set(1, toBigInt(a));",
      ),
  );
  assert.equal(coll.programs.get("p")!.testRun({ data: new Uint8Array(64) }).retval, 2);
  let want = 0;
  for (let i = 0; i !== 40; i += 2) want += i;
  for (let i = 60; i !== 0; i -= 3) want += i;
  assert.equal(get(coll, 1), BigInt(want));
});
