// Language constructs of docs/probe-language.md run in the kernel (BPF_PROG_TEST_RUN) and
// compared with the same computation in JavaScript: loops over packet bytes, `let` lookups,
// `?.`/`??`, destructuring, array literals.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { needsKernel } from "../../support/kernel.js";
import { compileProbe } from "../../../src/compiler/index.js";
import { Collection } from "../../../src/load/collection.js";
import { struct, array, u8, u16, u32, u64, i64 } from "../../../src/types/index.js";
import { frame } from "../../unit/compiler/packets.js";

const FIXTURE = fileURLToPath(
  new URL("../../../../test/fixtures/probes/language.ts", import.meta.url),
);

const compiled = compileProbe(FIXTURE);

function outOf(coll: Collection): (i: number) => bigint {
  const out = coll.maps.get("out")!;
  return (i) => u64.decode(out.get(u32.encode(i) as never) as Uint8Array);
}

const fnv = (h: bigint, byte: number) => ((h ^ BigInt(byte)) * 0x01000193n) & 0xffffffffn;

test("loops over packet bytes: unrolled, kernel loop with a run-time index, nested", (t) => {
  if (!needsKernel(t)) return;
  using coll = Collection.load(compiled.elf);
  const at = outOf(coll);
  const payload = Uint8Array.from({ length: 48 }, (_, i) => (i * 37 + 11) & 0xff);
  const prog = coll.programs.get("loops")!;
  assert.equal(prog.testRun({ data: frame({ ip: 4, payload }) }).retval, 1);
  let h = 0x811c9dc5n;
  for (let i = 0; i < 16; i++) h = fnv(h, payload[i]!);
  assert.equal(at(0), h);
  let g = 0x811c9dc5n;
  for (let i = 0; i < 40; i++) g = fnv(g, payload[i]!);
  assert.equal(at(1), g);
  let s = 0n;
  for (let i = 20; i < 40; i++) s += BigInt(payload[i]!); // indexes 40..59 are past the read
  assert.equal(at(2), s);
  let n = 0n;
  for (const i of [0, 2, 3]) for (const j of [3, 2]) n = n * 10n + BigInt(payload[i * 4 + j]!);
  assert.equal(at(3), n);
  // A payload shorter than the read: the program passes before writing anything new.
  assert.equal(prog.testRun({ data: frame({ ip: 4, payload: "short" }) }).retval, 2);
});

const Counter = struct("Counter", { packets: u64, bytes: u64 });

test("let references: lookup-or-insert, reassigned lookups, a reference starting null", (t) => {
  if (!needsKernel(t)) return;
  using coll = Collection.load(compiled.elf);
  const at = outOf(coll);
  const prog = coll.programs.get("lets")!;
  const small = new Uint8Array(60);
  const big = new Uint8Array(80);
  for (const p of [small, small, big]) assert.equal(prog.testRun({ data: p }).retval, 1);
  const flows = coll.maps.get("flows")!;
  const get = (k: number) => Counter.decode(flows.get(u32.encode(k) as never) as Uint8Array);
  assert.deepEqual(get(60), { packets: 2n, bytes: 100n + 120n });
  assert.deepEqual(get(80), { packets: 1n, bytes: 100n + 80n + 1000n });
  assert.equal(at(4), 1n);
  coll.maps.get("seen")!.set(u32.encode(2) as never, u64.encode(5n) as never);
  prog.testRun({ data: small });
  assert.equal(at(4), 0n, "the reassigned lookup found key 2");
});

test("optional chaining and ??: lookups, views, scalars", (t) => {
  if (!needsKernel(t)) return;
  using coll = Collection.load(compiled.elf);
  const at = outOf(coll);
  const prog = coll.programs.get("optional")!;
  const flows = coll.maps.get("flows")!;
  const seen = coll.maps.get("seen")!;
  const payload = new Uint8Array([5, 6, 77, 8, 9]);
  assert.equal(prog.testRun({ data: frame({ ip: 4, payload }) }).retval, 2);
  assert.deepEqual([5, 6, 7, 8, 9].map(at), [7n, 9n, 1n, 77n, 0n]);
  flows.set(u32.encode(60) as never, Counter.encode({ packets: 3n, bytes: 220n }) as never);
  seen.set(u32.encode(2) as never, u64.encode(42n) as never);
  assert.equal(prog.testRun({ data: frame({ ip: 4, payload: "ab" }) }).retval, 1);
  assert.deepEqual([5, 6, 7, 8, 9].map(at), [3n, 9n, 1n, 0n, 42n]);
  seen.set(u32.encode(1) as never, u64.encode(0n) as never);
  prog.testRun({ data: new Uint8Array(20) });
  assert.deepEqual([8, 9].map(at), [0n, 0n], "a present 0 is not nullish");
});

test("destructuring of header views, struct locals, lookups and parameters; shorthand", (t) => {
  if (!needsKernel(t)) return;
  using coll = Collection.load(compiled.elf);
  const at = outOf(coll);
  const prog = coll.programs.get("destructuring")!;
  const flows = coll.maps.get("flows")!;
  const pkt = frame({ ip: 4, src: [10, 1, 2, 3], dst: [192, 168, 7, 9], dport: 8080 });
  assert.equal(prog.testRun({ data: pkt }).retval, 0, "flow 60 missing: aborted");
  flows.set(u32.encode(60) as never, Counter.encode({ packets: 3n, bytes: 220n }) as never);
  assert.equal(prog.testRun({ data: pkt }).retval, 1);
  assert.equal(at(10), BigInt((0x0a010203 ^ 0xc0a80709) >>> 0));
  assert.equal(at(11), 8080n);
  assert.equal(at(12), 223n);
  assert.equal(at(13), 5n * 1000n + 8081n);
  assert.equal(at(14), 5n + 8080n);
  const get = (k: number) => Counter.decode(flows.get(u32.encode(k) as never) as Uint8Array);
  assert.deepEqual(get(60), { packets: 0n, bytes: 220n });
  assert.deepEqual(get(61), { packets: 5n, bytes: 8081n });
  assert.equal(prog.testRun({ data: frame({ ip: 6 }) }).retval, 2);
});

test("array literals for array() fields", (t) => {
  if (!needsKernel(t)) return;
  using coll = Collection.load(compiled.elf);
  const Padded = struct("Padded", {
    tag: u8,
    pad: array(u8, 3),
    words: array(u16, 2),
    n: u32,
  });
  const data = new Uint8Array(70);
  assert.equal(coll.programs.get("arrays")!.testRun({ data }).retval, 2);
  const padded = coll.maps.get("padded")!;
  const get = (k: number) => Padded.decode(padded.get(u32.encode(k) as never) as Uint8Array);
  assert.deepEqual(get(1), { tag: 7, pad: new Uint8Array([0, 0, 0]), words: [70, 0xbeef], n: 9 });
  assert.deepEqual(get(2), { tag: 1, pad: new Uint8Array([1, 2, 70]), words: [3, 4], n: 5 });
});

test("bpf-to-bpf calls: @noinline and large functions are subprograms in .text", (t) => {
  assert.deepEqual(compiled.subprograms.map((s) => s.name).sort(), ["checksum", "mix", "record"]);
  if (!needsKernel(t)) return;
  using coll = Collection.load(compiled.elf);
  const at = outOf(coll);
  const mix = (a: bigint, b: bigint) => {
    let h = a;
    for (let i = 0n; i < 3n; i++) h = BigInt.asUintN(64, (h * 31n) ^ (b + i));
    return h & 0xffffn;
  };
  const checksum = (seed: bigint, rounds: number) => {
    let s = seed;
    for (let i = 0; i < 40 && i < rounds; i++) {
      s = (s * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffn;
      if ((s & 1n) === 1n) s ^= 0x5555n;
      else s += BigInt(i);
      s = s > 0x7fffffffffffn ? s >> 3n : s << 1n;
    }
    return s;
  };
  for (const len of [60, 99, 1500]) {
    assert.equal(coll.programs.get("calls")!.testRun({ data: new Uint8Array(len) }).retval, 2);
    const n = BigInt(len);
    const a = mix(n, 7n);
    const b = mix(a, n);
    assert.deepEqual([15, 16, 17, 18, 19].map(at), [
      mix(b, 15n) * 2n,
      a,
      b,
      checksum(n, 30),
      checksum(5n, 3),
    ]);
  }
});

test("comparisons: u64 operands compare unsigned, the rest signed", (t) => {
  if (!needsKernel(t)) return;
  using coll = Collection.load(compiled.elf);
  const at = outOf(coll);
  const Signs = struct("Signs", { big: u64, neg: i64, small: u32 });
  coll.maps
    .get("signs")!
    .set(
      u32.encode(0) as never,
      Signs.encode({ big: (1n << 63n) + 5n, neg: -1n, small: 7 }) as never,
    );
  assert.equal(coll.programs.get("compares")!.testRun({ data: new Uint8Array(64) }).retval, 2);
  assert.deepEqual([20, 21, 22, 23, 24].map(at), [1n, 1n, 1n, 0n, 0n]);
});
