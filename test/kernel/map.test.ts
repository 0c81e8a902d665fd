import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { needsKernel } from "../support/kernel.js";
import { BpfMap, MapError, PerCpuMap } from "../../src/map/map.js";
import { MapType } from "../../src/obj/consts.js";
import { SysError, Errno } from "../../src/sys/errors.js";
import { possibleCpuCount } from "../../src/sys/cpus.js";
import { openBpfOutput } from "../../src/sys/perf-event.js";
import { progInfo } from "../../src/sys/info.js";
import { mapInfo } from "../../src/sys/info.js";
import { struct, u32, u64, array, u8 } from "../../src/types/index.js";
import { loadCounter } from "../support/programs.js";

const le32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);

function throwsSys(f: () => unknown, errno: number): void {
  assert.throws(f, (e: unknown) => e instanceof SysError && e.errno === errno);
}

test("hash map: set/get/has/delete with codecs, update modes, missing keys", (t) => {
  if (!needsKernel(t)) return;
  using m = BpfMap.create(
    { type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 8, name: "t_hash" },
    { key: u32, value: u64 },
  );
  assert.equal(m.name, "t_hash");
  assert.equal(m.type, MapType.HASH);
  assert.ok(m.id > 0);
  assert.equal(m.get(1), undefined);
  assert.equal(m.has(1), false);
  m.set(1, 10n);
  m.set(2, 20n, "noexist");
  assert.equal(m.get(1), 10n);
  assert.equal(m.has(2), true);
  throwsSys(() => m.set(2, 21n, "noexist"), Errno.EEXIST);
  throwsSys(() => m.set(3, 30n, "exist"), Errno.ENOENT);
  m.set(2, 22n, "exist");
  assert.equal(m.get(2), 22n);
  assert.equal(m.delete(1), true);
  assert.equal(m.delete(1), false);
  assert.deepEqual([...m.keysSync()].sort(), [2]);
  assert.equal(m.take(2), 22n);
  assert.equal(m.get(2), undefined);
});

test("hash map: full map reports ENOSPC-free E2BIG with the map named", (t) => {
  if (!needsKernel(t)) return;
  using m = BpfMap.create(
    { type: MapType.HASH, keySize: 4, valueSize: 4, maxEntries: 2, name: "t_full" },
    { key: u32, value: u32 },
  );
  m.set(1, 1);
  m.set(2, 2);
  assert.throws(
    () => m.set(3, 3),
    (e: unknown) =>
      e instanceof SysError && e.errno === Errno.E2BIG && /map "t_full"/.test(e.message),
  );
});

test("raw Uint8Array keys and values; wrong sizes fail before the syscall, naming the map", (t) => {
  if (!needsKernel(t)) return;
  using m = BpfMap.create({
    type: MapType.HASH,
    keySize: 4,
    valueSize: 2,
    maxEntries: 4,
    name: "t_raw",
  });
  m.set(le32(7), new Uint8Array([1, 2]));
  const v = m.get(le32(7))!;
  assert.deepEqual([...v], [1, 2]);
  m.set(le32(7), new Uint8Array([3, 4]));
  assert.deepEqual([...v], [1, 2], "returned values are copies, not the scratch buffer");
  assert.throws(
    () => m.get(new Uint8Array(8)),
    (e: unknown) => e instanceof MapError && /t_raw.*key must be 4 bytes, got 8/.test(e.message),
  );
  assert.throws(
    () => m.set(le32(1), new Uint8Array(3)),
    (e: unknown) => e instanceof MapError && /value must be 2 bytes, got 3/.test(e.message),
  );
  assert.throws(
    () => m.withCodecs({ key: u64 }),
    (e: unknown) => e instanceof MapError && /key codec encodes 8 bytes/.test(e.message),
  );
});

test("array map: zeroed slots, iteration in index order, no deletion", (t) => {
  if (!needsKernel(t)) return;
  using m = BpfMap.create(
    { type: MapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 5, name: "t_array" },
    { key: u32, value: u32 },
  );
  assert.equal(m.get(4), 0);
  assert.equal(m.get(5), undefined);
  m.set(3, 33);
  assert.deepEqual(
    [...m.entriesSync()],
    [
      [0, 0],
      [1, 0],
      [2, 0],
      [3, 33],
      [4, 0],
    ],
  );
  throwsSys(() => m.delete(1), Errno.EINVAL);
  throwsSys(() => m.set(1, 1, "noexist"), Errno.EEXIST);
});

test("struct codecs (types/struct) as values", (t) => {
  if (!needsKernel(t)) return;
  const Point = struct("Point", { x: u32, y: u32, tag: array(u8, 4) });
  using m = BpfMap.create(
    { type: MapType.HASH, keySize: 4, valueSize: Point.size, maxEntries: 4, name: "t_struct" },
    { key: u32, value: Point },
  );
  m.set(1, { x: 5, y: 6, tag: Uint8Array.of(1, 2, 3, 4) });
  assert.deepEqual(m.get(1), { x: 5, y: 6, tag: Uint8Array.of(1, 2, 3, 4) });
});

test("async keys/entries/values and deletion while iterating", async (t) => {
  if (!needsKernel(t)) return;
  using m = BpfMap.create(
    { type: MapType.HASH, keySize: 4, valueSize: 4, maxEntries: 64, name: "t_iter" },
    { key: u32, value: u32 },
  );
  for (let i = 0; i < 50; i++) m.set(i, i * 2);
  const seen = new Map<number, number>();
  for await (const [k, v] of m.entries()) seen.set(k, v);
  assert.equal(seen.size, 50);
  for (const [k, v] of seen) assert.equal(v, k * 2);
  const keys: number[] = [];
  for await (const k of m.keys()) keys.push(k);
  assert.deepEqual(
    keys.sort((a, b) => a - b),
    [...Array(50).keys()],
  );
  let sum = 0;
  for await (const v of m.values()) sum += v;
  assert.equal(sum, 2 * ((49 * 50) / 2));
  // get/delete inside the loop must not disturb the iteration's own buffers
  let visited = 0;
  for (const [k] of m) {
    assert.equal(m.get(k), k * 2);
    m.delete(k);
    visited++;
  }
  assert.ok(visited >= 50);
  assert.equal([...m.keysSync()].length, 0);
});

test("batch ops: setBatch, getBatch in small steps, andDelete, deleteBatch; arrays cannot delete", (t) => {
  if (!needsKernel(t)) return;
  using m = BpfMap.create(
    { type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 256, name: "t_batch" },
    { key: u32, value: u64 },
  );
  const entries = Array.from({ length: 100 }, (_, i) => [i, BigInt(i) * 3n] as const);
  assert.equal(m.setBatch(entries), 100);
  const got = m.getBatch({ batchSize: 7 });
  assert.equal(got.length, 100);
  assert.deepEqual(new Map(got), new Map(entries));
  assert.equal(m.deleteBatch([...Array(50).keys()]), 50);
  assert.equal(m.get(10), undefined);
  assert.equal(m.get(60), 180n);
  const drained = m.getBatch({ andDelete: true });
  assert.equal(drained.length, 50);
  assert.equal([...m.keysSync()].length, 0);

  using arr = BpfMap.create(
    { type: MapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 10, name: "t_batch_a" },
    { key: u32, value: u32 },
  );
  arr.setBatch([
    [1, 11],
    [9, 99],
  ]);
  const all = arr.getBatch({ batchSize: 3 });
  assert.equal(all.length, 10);
  assert.deepEqual(all[9], [9, 99]);
  assert.throws(
    () => arr.deleteBatch([1]),
    (e: unknown) => e instanceof SysError && /batch delete is not supported/.test(e.message),
  );
});

test("per-CPU hash and array: one value per possible CPU, 8-byte slot padding hidden", (t) => {
  if (!needsKernel(t)) return;
  const cpus = possibleCpuCount();
  using h = BpfMap.create({
    type: MapType.PERCPU_HASH,
    keySize: 4,
    valueSize: 4,
    maxEntries: 8,
    name: "t_pc_hash",
  });
  assert.throws(
    () => h.get(le32(0)),
    (e: unknown) => e instanceof MapError && /perCpu\(\)/.test(e.message),
  );
  const pc = h.perCpu({ key: u32, value: u32 });
  assert.equal(pc.cpus, cpus);
  const vals = Array.from({ length: cpus }, (_, i) => 100 + i);
  pc.set(1, vals);
  assert.deepEqual(pc.get(1), vals);
  pc.set(2, 7); // one value for every CPU
  assert.deepEqual(pc.get(2), Array(cpus).fill(7));
  assert.throws(
    () => pc.set(3, [1]),
    (e: unknown) => e instanceof MapError && new RegExp(`expected ${cpus} values`).test(e.message),
  );
  assert.deepEqual(
    new Map(pc.entriesSync()),
    new Map([
      [1, vals],
      [2, Array(cpus).fill(7)],
    ]),
  );
  assert.deepEqual(
    new Map(pc.getBatch()),
    new Map([
      [1, vals],
      [2, Array(cpus).fill(7)],
    ]),
  );

  using a = PerCpuMap.create(
    { type: MapType.PERCPU_ARRAY, keySize: 4, valueSize: 12, maxEntries: 2, name: "t_pc_array" },
    { key: u32 },
  );
  const raw = Array.from({ length: cpus }, (_, i) => new Uint8Array(12).fill(i + 1));
  a.set(1, raw);
  assert.deepEqual(a.get(1), raw);
  assert.deepEqual(
    a.get(0),
    Array.from({ length: cpus }, () => new Uint8Array(12)),
  );
  assert.throws(
    () => PerCpuMap.create({ type: MapType.HASH, keySize: 4, valueSize: 4, maxEntries: 1 }),
    MapError,
  );
});

test("LRU hash evicts instead of failing when full", (t) => {
  if (!needsKernel(t)) return;
  using m = BpfMap.create(
    { type: MapType.LRU_HASH, keySize: 4, valueSize: 4, maxEntries: 16, name: "t_lru" },
    { key: u32, value: u32 },
  );
  for (let i = 0; i < 200; i++) m.set(i, i);
  const n = [...m.keysSync()].length;
  assert.ok(n > 0 && n <= 200, `LRU holds ${n}`);
  assert.equal(m.get(199), 199, "the newest entry survives");
});

test("LPM trie: longest prefix match on (prefixlen, address) keys", (t) => {
  if (!needsKernel(t)) return;
  const Key = struct("LpmKey", { prefixlen: u32, addr: array(u8, 4) });
  using m = BpfMap.create(
    { type: MapType.LPM_TRIE, keySize: Key.size, valueSize: 4, maxEntries: 16, name: "t_lpm" },
    { key: Key, value: u32 },
  );
  m.set({ prefixlen: 8, addr: Uint8Array.of(10, 0, 0, 0) }, 8);
  m.set({ prefixlen: 24, addr: Uint8Array.of(10, 1, 2, 0) }, 24);
  assert.equal(m.get({ prefixlen: 32, addr: Uint8Array.of(10, 1, 2, 3) }), 24);
  assert.equal(m.get({ prefixlen: 32, addr: Uint8Array.of(10, 9, 9, 9) }), 8);
  assert.equal(m.get({ prefixlen: 32, addr: Uint8Array.of(11, 0, 0, 1) }), undefined);
  assert.equal([...m.keysSync()].length, 2);
});

test("perf event array: one slot per possible CPU, holding BPF_OUTPUT events", (t) => {
  if (!needsKernel(t)) return;
  using m = BpfMap.create(
    { type: MapType.PERF_EVENT_ARRAY, keySize: 4, valueSize: 4, maxEntries: 0, name: "t_perf" },
    { key: u32, value: u32 },
  );
  assert.equal(m.maxEntries, possibleCpuCount());
  using ev = openBpfOutput(0);
  m.set(0, ev.fd);
  assert.equal(m.delete(0), true);
});

test("ring buffer map: created with its size; no element access", (t) => {
  if (!needsKernel(t)) return;
  using m = BpfMap.create({
    type: MapType.RINGBUF,
    keySize: 0,
    valueSize: 0,
    maxEntries: 1 << 14,
    name: "t_ringbuf",
  });
  assert.equal(m.maxEntries, 1 << 14);
  assert.equal(m.keySize, 0);
  throwsSys(() => [...m.keysSync()], Errno.ENOTSUPP);
});

test("prog array: a slot takes a program fd and reads back its id", (t) => {
  if (!needsKernel(t)) return;
  using counter = BpfMap.create({
    type: MapType.ARRAY,
    keySize: 4,
    valueSize: 8,
    maxEntries: 1,
    name: "t_pa_cnt",
  });
  using prog = loadCounter(counter.fd);
  using m = BpfMap.create(
    { type: MapType.PROG_ARRAY, keySize: 4, valueSize: 4, maxEntries: 4, name: "t_progarray" },
    { key: u32, value: u32 },
  );
  m.set(2, prog.fd);
  assert.equal(m.get(2), progInfo(prog.fd).id);
  assert.equal(m.get(1), undefined);
  assert.equal(m.delete(2), true);
});

test("stack trace map: created, empty lookups are undefined", (t) => {
  if (!needsKernel(t)) return;
  using m = BpfMap.create(
    { type: MapType.STACK_TRACE, keySize: 4, valueSize: 8 * 127, maxEntries: 64, name: "t_stacks" },
    { key: u32 },
  );
  assert.equal(m.get(0), undefined);
  assert.deepEqual([...m.keysSync()], []);
});

test("queue is FIFO, stack is LIFO; pop/peek on empty give undefined", (t) => {
  if (!needsKernel(t)) return;
  using q = BpfMap.create(
    { type: MapType.QUEUE, keySize: 0, valueSize: 4, maxEntries: 4, name: "t_queue" },
    { value: u32 },
  );
  using s = BpfMap.create(
    { type: MapType.STACK, keySize: 0, valueSize: 4, maxEntries: 4, name: "t_stack" },
    { value: u32 },
  );
  assert.equal(q.pop(), undefined);
  assert.equal(s.peek(), undefined);
  for (const v of [1, 2, 3]) {
    q.push(v);
    s.push(v);
  }
  assert.equal(q.peek(), 1);
  assert.deepEqual([q.pop(), q.pop(), q.pop(), q.pop()], [1, 2, 3, undefined]);
  assert.deepEqual([s.pop(), s.pop(), s.pop(), s.pop()], [3, 2, 1, undefined]);
  for (const v of [1, 2, 3, 4]) q.push(v);
  throwsSys(() => q.push(5), Errno.E2BIG);
  q.push(5, "exist"); // BPF_EXIST: drop the oldest
  assert.equal(q.pop(), 2);
  assert.throws(() => q.get(0 as never), MapError);
  using h = BpfMap.create({ type: MapType.HASH, keySize: 4, valueSize: 4, maxEntries: 1 });
  assert.throws(
    () => h.pop(),
    (e: unknown) => e instanceof MapError && /QUEUE\/STACK/.test(e.message),
  );
});

test("bloom filter: push and contains", (t) => {
  if (!needsKernel(t)) return;
  using b = BpfMap.create(
    { type: MapType.BLOOM_FILTER, keySize: 0, valueSize: 4, maxEntries: 64, name: "t_bloom" },
    { value: u32 },
  );
  b.push(42);
  assert.equal(b.contains(42), true);
  assert.equal(b.contains(43), false);
});

test("hash of maps: inner map fds go in, inner map ids come out", (t) => {
  if (!needsKernel(t)) return;
  using template = BpfMap.create({
    type: MapType.ARRAY,
    keySize: 4,
    valueSize: 4,
    maxEntries: 1,
    name: "t_inner_tpl",
  });
  using outer = BpfMap.create(
    {
      type: MapType.HASH_OF_MAPS,
      keySize: 4,
      valueSize: 4,
      maxEntries: 4,
      name: "t_outer",
      innerMap: template,
    },
    { key: u32, value: u32 },
  );
  using inner = BpfMap.create(
    { type: MapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1, name: "t_inner" },
    { key: u32, value: u32 },
  );
  inner.set(0, 1234);
  outer.set(9, inner.fd);
  const id = outer.get(9)!;
  assert.equal(id, inner.id);
  using reopened = BpfMap.fromId(id, { key: u32, value: u32 });
  assert.equal(reopened.get(0), 1234);
  assert.equal(reopened.name, "t_inner");
});

test("freeze makes the map read-only for user space", (t) => {
  if (!needsKernel(t)) return;
  using m = BpfMap.create(
    { type: MapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1, name: "t_frozen" },
    { key: u32, value: u32 },
  );
  m.set(0, 5);
  m.freeze();
  throwsSys(() => m.set(0, 6), Errno.EPERM);
  assert.equal(m.get(0), 5);
});

test("fromFd dups a plain number; close is idempotent and later use is a clear error", (t) => {
  if (!needsKernel(t)) return;
  const m = BpfMap.create(
    { type: MapType.HASH, keySize: 4, valueSize: 4, maxEntries: 1, name: "t_close" },
    { key: u32, value: u32 },
  );
  m.set(1, 1);
  const other = BpfMap.fromFd(m.fd, { key: u32, value: u32 });
  assert.notEqual(other.fd, m.fd);
  m.close();
  m.close();
  assert.equal(m.closed, true);
  assert.throws(
    () => m.get(1),
    (e: unknown) => e instanceof MapError && /t_close.*closed/.test(e.message),
  );
  assert.equal(other.get(1), 1, "the duplicate keeps the map alive");
  other.close();
});

test("pin, reopen from the pin in a child process, unpin", (t) => {
  if (!needsKernel(t)) return;
  const dir = `/sys/fs/bpf/tsbpf-test-${process.pid}`;
  const path = `${dir}/counts`;
  using m = BpfMap.create(
    { type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 4, name: "t_pinned" },
    { key: u32, value: u64 },
  );
  m.set(7, 0xdeadbeefn);
  m.pin(`/sys/fs/bpf/tsbpf-test-${process.pid}-flat`); // mounts bpffs if needed
  m.unpin();
  mkdirSync(dir, { recursive: true });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  m.pin(path);
  assert.equal(m.pinnedAt, path);
  const mapJs = fileURLToPath(new URL("../../src/map/map.js", import.meta.url));
  const typesJs = fileURLToPath(new URL("../../src/types/index.js", import.meta.url));
  const child = spawnSync(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      `import { BpfMap } from ${JSON.stringify(mapJs)};
       import { u32, u64 } from ${JSON.stringify(typesJs)};
       const m = BpfMap.fromPin(${JSON.stringify(path)}, { key: u32, value: u64 });
       console.log(JSON.stringify({ name: m.name, value: String(m.get(7)) }));
       m.set(8, 42n);
       m.close();`,
    ],
    { encoding: "utf8" },
  );
  assert.equal(child.status, 0, child.stderr);
  assert.deepEqual(JSON.parse(child.stdout), { name: "t_pinned", value: String(0xdeadbeefn) });
  assert.equal(m.get(8), 42n, "the child's write is visible to the parent");
  m.unpin();
  assert.equal(existsSync(path), false);
  assert.equal(m.pinnedAt, undefined);
  assert.equal(m.get(7), 0xdeadbeefn, "the map outlives its pin");
  throwsSys(() => BpfMap.fromPin(path), Errno.ENOENT);
  assert.throws(() => m.pin("/tmp/not-bpffs/x"), /not on a bpf file system/);
});

test("map info matches the creation attributes", (t) => {
  if (!needsKernel(t)) return;
  using m = BpfMap.create({
    type: MapType.HASH,
    keySize: 8,
    valueSize: 16,
    maxEntries: 32,
    flags: 1,
    name: "weird name!",
  });
  const info = mapInfo(m.fd);
  assert.deepEqual(
    {
      type: info.type,
      keySize: info.keySize,
      valueSize: info.valueSize,
      maxEntries: info.maxEntries,
      flags: info.flags,
      name: info.name,
    },
    {
      type: MapType.HASH,
      keySize: 8,
      valueSize: 16,
      maxEntries: 32,
      flags: 1,
      name: "weird_name_",
    },
  );
  assert.equal(m.name, "weird_name_");
});
