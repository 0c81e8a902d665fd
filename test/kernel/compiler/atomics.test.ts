// Atomics.add/sub/and/or/xor/exchange/compareExchange (src/probe/atomics.ts) in the kernel:
// exact old values and results on u64/u32/i32 fields of a map value and on a global, and the
// same counters hammered from two processes on both CPUs at once (bpftool prog run on a pin),
// where every increment must be counted exactly once.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { needsKernel } from "../../support/kernel.js";
import { compileProbe } from "../../../src/compiler/index.js";
import { Collection } from "../../../src/load/collection.js";
import { ensureBpffs } from "../../../src/sys/bpffs.js";
import { i32, struct, u32, u64 } from "../../../src/types/index.js";
import { HEADER, virtualPath } from "../../unit/compiler/support.js";

const compile = (src: string): Uint8Array => {
  const path = virtualPath("atomics");
  return compileProbe(path, { sources: new Map([[path, src]]) }).elf;
};

const V = struct("V", { a: u64, b: u32, s: i32, x: u64, y: u32, pad: u32 });

const SEQUENTIAL =
  HEADER.replace("import {", "import { Atomics, global,") +
  `const V = struct("V", { a: u64, b: u32, s: i32, x: u64, y: u32, pad: u32 });
const vals = map("vals", new ArrayMap(V, { maxEntries: 1 }));
const out = map("out", new ArrayMap(u64, { maxEntries: 8 }));
const g = global("g", u64);
export const q = xdp(() => {
  const v = vals.get(0);
  if (v === null) return XdpAction.Aborted;
  out.set(0, Atomics.add(v, "a", 5n));
  out.set(1, toBigInt(Atomics.sub(v, "b", 3)));
  out.set(2, toBigInt(Atomics.add(v, "s", 1)));
  out.set(3, toBigInt(Atomics.and(v, "y", 0xf0)));
  out.set(4, Atomics.exchange(v, "x", 77n));
  out.set(5, Atomics.compareExchange(v, "a", 0n, 1n));
  out.set(6, toBigInt(Atomics.compareExchange(v, "b", 7, 9)));
  Atomics.xor(v, "y", 0xff);
  out.set(7, Atomics.or(g, "value", 6n));
  Atomics.add(g, "value", 0x100n);
  return XdpAction.Pass;
});
`;

test("Atomics: each operation returns the old value and leaves the documented result", (t) => {
  if (!needsKernel(t)) return;
  using coll = Collection.load(compile(SEQUENTIAL));
  const vals = coll.maps.get("vals")!;
  const out = coll.maps.get("out")!;
  const key = u32.encode(0) as never;
  vals.set(key, V.encode({ a: 10n, b: 10, s: -5, x: 1n, y: 0x3c, pad: 0 }) as never);
  const q = coll.programs.get("q")!;
  assert.equal(q.testRun({ data: new Uint8Array(64) }).retval, 2);
  const got = (k: number) => u64.decode(out.get(u32.encode(k) as never) as Uint8Array);
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 6, 7].map(got),
    [10n, 10n, (1n << 64n) - 5n, 0x3cn, 1n, 15n, 7n, 0n],
    "old values: u64 add, u32 sub, i32 add (sign-extended), u32 and, xchg, failed cas, cas, global or",
  );
  assert.deepEqual(V.decode(vals.get(key) as Uint8Array), {
    a: 15n,
    b: 9,
    s: -4,
    x: 77n,
    y: 0x30 ^ 0xff,
    pad: 0,
  });
  // Second run: u32 wrap-around and zero-extension of a fetched u32 (b: 9 → 6, then 0 - 3)
  vals.set(key, V.encode({ a: 0n, b: 0, s: 0x7fffffff, x: 5n, y: 0, pad: 0 }) as never);
  q.testRun({ data: new Uint8Array(64) });
  assert.deepEqual(
    [0, 1, 2, 5, 6, 7].map(got),
    [0n, 0n, 0x7fffffffn, 5n, 0xfffffffdn, 0x106n],
    "b = 0 - 3 wraps to 0xfffffffd and is fetched zero-extended; the cas on a (now 5) fails",
  );
  const after = V.decode(vals.get(key) as Uint8Array);
  assert.equal(after.b, 0xfffffffd);
  assert.equal(after.s, -0x80000000, "i32 0x7fffffff + 1 wraps to -2^31");
});

const CONCURRENT =
  HEADER.replace("import {", "import { Atomics,") +
  `const C = struct("C", { n: u64, m: u64, fails: u64, bits: u64 });
const stats = map("stats", new ArrayMap(C, { maxEntries: 1 }));
export const hammer = xdp(() => {
  const c = stats.get(0);
  if (c === null) return XdpAction.Aborted;
  const before = Atomics.add(c, "n", 1n);
  // an increment by compare-and-swap, retried while another CPU got there first
  let done = 0;
  for (let i = 0; i < 32; i++) {
    const old = c.m;
    if (Atomics.compareExchange(c, "m", old, old + 1n) === old) {
      done = 1;
      break;
    }
  }
  if (done === 0) Atomics.add(c, "fails", 1n);
  Atomics.or(c, "bits", 1n << (before & 63n));
  return XdpAction.Pass;
});
`;

test("Atomics: fetch-add and a compare-and-swap loop count exactly from two CPUs at once", async (t) => {
  if (!needsKernel(t)) return;
  ensureBpffs();
  using coll = Collection.load(compile(CONCURRENT));
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-atomics-"));
  const pin = `/sys/fs/bpf/tsbpf-atomics-${process.pid}`;
  try {
    coll.programs.get("hammer")!.pin(pin);
    writeFileSync(join(dir, "frame"), new Uint8Array(64));
    const REPEAT = 2_000_000;
    const run = () =>
      new Promise<void>((resolve, reject) => {
        const p = spawn("bpftool", [
          "prog",
          "run",
          "pinned",
          pin,
          "data_in",
          join(dir, "frame"),
          "repeat",
          String(REPEAT),
        ]);
        let err = "";
        p.stderr.on("data", (d: Buffer) => (err += d.toString()));
        p.on("error", reject);
        p.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`bpftool: ${err}`))));
      });
    await Promise.all([run(), run()]);
    const C = struct("C", { n: u64, m: u64, fails: u64, bits: u64 });
    const c = C.decode(coll.maps.get("stats")!.get(u32.encode(0) as never) as Uint8Array);
    assert.equal(c.n, BigInt(2 * REPEAT), "every fetch-add counted once");
    assert.equal(c.m + c.fails, BigInt(2 * REPEAT), "every run either swapped once or gave up");
    assert.equal(c.bits, (1n << 64n) - 1n, "the fetched values cover 0…63 modulo 64");
  } finally {
    rmSync(pin, { force: true });
    rmSync(dir, { recursive: true, force: true });
  }
});
