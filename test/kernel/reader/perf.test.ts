import { test } from "node:test";
import assert from "node:assert/strict";
import { needsKernel } from "../../support/kernel.js";
import { PerfReader } from "../../../src/reader/perf.js";
import { ReaderClosedError } from "../../../src/reader/errors.js";
import type { EventBatch } from "../../../src/reader/batch.js";
import { possibleCpus } from "../../../src/sys/cpus.js";
import { Emitter, MAGIC, decodeRecord, perfArrayMap, pinMainThread } from "./programs.js";

// A 16-byte output arrives as 20 bytes: the kernel pads 4 (size) + 16 to 24 and reports 20.
const SAMPLE = 20;
const RECORD_BYTES = 8 + 4 + SAMPLE; // perf header + size + padded data = 32
const PAGE = 4096;

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

function seqs(batches: EventBatch[]): number[] {
  return batches.flatMap((b) =>
    b.events.map((e) => {
      assert.equal(e.length, SAMPLE);
      assert.deepEqual([...e.subarray(16)], [0, 0, 0, 0], "kernel padding is zero");
      const r = decodeRecord(e);
      assert.equal(r.magic, MAGIC);
      return r.seq;
    }),
  );
}

function cpuCount(): number {
  return Math.max(...possibleCpus()) + 1;
}

test("perf: every sample arrives with the kernel's padded size, on the CPU that wrote it", (t) => {
  if (!needsKernel(t)) return;
  const map = perfArrayMap("pa_exact", cpuCount());
  using emitter = Emitter.create(map);
  using reader = PerfReader.open(map);
  map.fd.close(); // the reader keeps its own reference
  assert.deepEqual(reader.cpus, possibleCpus());
  assert.deepEqual(reader.readBatch(), []);
  emitter.run(100);
  const batches = reader.readBatch();
  assert.deepEqual(
    seqs(batches).sort((a, b) => a - b),
    range(0, 100),
  );
  for (const b of batches) {
    assert.equal(b.map, "pa_exact");
    assert.equal(b.lost, 0);
    assert.ok(reader.cpus.includes(b.cpu!));
  }
  assert.deepEqual(reader.readBatch(), []);
});

test("perf: samples straddling the end of a one-page ring come back intact", (t) => {
  if (!needsKernel(t)) return;
  const map = perfArrayMap("pa_wrap", cpuCount());
  using emitter = Emitter.create(map, 24); // 24 bytes → raw 28 → 40-byte records
  using reader = PerfReader.open(map, { pageCount: 1 });
  map.fd.close();
  const got: number[] = [];
  let copied = 0;
  for (let round = 0; round < 40; round++) {
    emitter.run(37); // 37 × 40 bytes per round; the 4096-byte ring is no multiple of 40
    const batches = reader.readBatch();
    assert.ok(batches.every((b) => b.lost === 0));
    for (const b of batches) {
      for (const e of b.events) {
        assert.equal(e.length, 28);
        const r = decodeRecord(e);
        assert.equal(r.magic, MAGIC);
        assert.equal(new DataView(e.buffer, e.byteOffset + 16).getBigUint64(0, true), MAGIC);
        got.push(r.seq);
        if (e.buffer.byteLength !== 2 * PAGE) copied++; // not the mapping: the scratch copy
      }
    }
    reader.commit();
  }
  assert.deepEqual(
    got.sort((a, b) => a - b),
    range(0, 40 * 37),
  );
  assert.ok(copied > 5, `${copied} samples wrapped the ring end`);
});

test("perf: an overflowing ring reports lost samples; received + lost == sent", (t) => {
  if (!needsKernel(t)) return;
  const cpus = cpuCount();
  const map = perfArrayMap("pa_lost", cpus);
  using emitter = Emitter.create(map);
  using reader = PerfReader.open(map, { pageCount: 1 });
  map.fd.close();
  // Drops are counted per CPU ring: stay on one CPU.
  const unpin = pinMainThread(reader.cpus[0]!);
  t.after(unpin);
  emitter.run(500); // 500 × 32 bytes into a 4096-byte ring: most are dropped
  let batches = reader.readBatch();
  let received = seqs(batches).length;
  let lost = batches.reduce((s, b) => s + b.lost, 0);
  assert.ok(received > 0 && received <= PAGE / RECORD_BYTES, `received ${received}`);
  assert.equal(lost, 0, "no LOST record in the ring yet: nothing fitted after the drops");
  reader.commit();
  if (reader.lossExact) {
    // Caught up: the kernel's own count (PERF_FORMAT_LOST) reports the drops now.
    batches = reader.readBatch();
    assert.equal(batches.length, 1);
    assert.deepEqual(batches[0]!.events, []);
    assert.equal(batches[0]!.cpu, reader.cpus[0]);
    lost += batches[0]!.lost;
    assert.equal(received + lost, 500, "exact before any further sample");
    assert.deepEqual(reader.readBatch(), [], "reported once");
  }
  // One more run: the kernel first writes a LOST record with the count, then the sample.
  emitter.run(1);
  batches = reader.readBatch();
  received += seqs(batches).length;
  lost += batches.reduce((s, b) => s + b.lost, 0);
  assert.ok(lost > 0);
  assert.equal(received + lost, 501, "the LOST record is not counted twice");
  assert.ok(batches.every((b) => b.cpu === reader.cpus[0]));
  assert.equal(reader.totalLost, lost);
  assert.equal(emitter.sent(), 501);
});

test("perf: drops after the last sample that fitted are exact at idle and after close() (Linux ≥ 6.0)", (t) => {
  if (!needsKernel(t, { minKernel: "6.0" })) return;
  const map = perfArrayMap("pa_burst", cpuCount());
  using emitter = Emitter.create(map);
  const reader = PerfReader.open(map, { pageCount: 1 });
  map.fd.close();
  const unpin = pinMainThread(reader.cpus[0]!);
  t.after(unpin);
  assert.equal(reader.lossExact, true);
  // A burst nobody reads, then close() without reading: totalLost is still exact.
  emitter.run(20_000);
  let received = 0;
  for (const b of reader.readBatch()) received += b.events.length;
  reader.commit();
  reader.close();
  assert.equal(received + reader.totalLost, 20_000);
  assert.ok(reader.totalLost > 19_000);
});

test("perf: copy mode returns independent arrays", (t) => {
  if (!needsKernel(t)) return;
  const map = perfArrayMap("pa_copy", cpuCount());
  using emitter = Emitter.create(map);
  using reader = PerfReader.open(map, { copy: true, pageCount: 1 });
  map.fd.close();
  emitter.run(3);
  const [b] = reader.readBatch();
  assert.equal(b!.events[0]!.buffer.byteLength, SAMPLE);
  assert.deepEqual(seqs([b!]), [0, 1, 2]);
});

test("perf: the iterator waits without blocking the loop and ends on close", async (t) => {
  if (!needsKernel(t)) return;
  const map = perfArrayMap("pa_iter", cpuCount());
  using emitter = Emitter.create(map);
  const reader = PerfReader.open(map);
  map.fd.close();
  let timerFired = false;
  setTimeout(() => {
    timerFired = true;
    emitter.run(4);
  }, 30);
  const seen: number[] = [];
  const held: EventBatch[] = [];
  for await (const batch of reader) {
    assert.ok(timerFired, "no batch before the timer produced one");
    held.push(batch);
    seen.push(...seqs([batch]));
    if (seen.length === 4) setTimeout(() => emitter.run(2), 10);
    if (seen.length === 6) setTimeout(() => reader.close(), 10);
  }
  assert.deepEqual(seen, range(0, 6));
  assert.equal(held.at(-1)!.events[0]!.byteLength, 0, "views are detached after close");
  assert.throws(() => reader.readBatch(), ReaderClosedError);
});

test("perf: close() removes the events from the map and ends a waiting iterator", async (t) => {
  if (!needsKernel(t)) return;
  const map = perfArrayMap("pa_close", cpuCount());
  using emitter = Emitter.create(map);
  const reader = PerfReader.open(map);
  emitter.run(1);
  assert.equal(emitter.lastResult(), 0, "the event for this CPU is installed");
  setTimeout(() => reader.close(), 20);
  let n = 0;
  for await (const _ of reader) n++;
  assert.equal(n, 1, "the pending sample, then the end");
  emitter.run(1);
  assert.equal(emitter.lastResult(), -2, "ENOENT: close() emptied the map slot");
  map.fd.close();
});

test("perf: bad options are refused with clear errors", (t) => {
  if (!needsKernel(t)) return;
  const map = perfArrayMap("pa_bad", 1);
  try {
    assert.throws(() => PerfReader.open(map, { pageCount: 3 }), /power of two/);
    assert.throws(
      () => PerfReader.open(map, { cpus: [1] }),
      /has 1 entries, so it cannot hold CPU 1/,
    );
    assert.throws(
      () => PerfReader.open({ ...map, type: 27 }),
      /needs a BPF_MAP_TYPE_PERF_EVENT_ARRAY map, but map "pa_bad" is BPF_MAP_TYPE_RINGBUF/,
    );
  } finally {
    map.fd.close();
  }
});

test("perf: samples written before libuv adds the epoll watch still wake the iterator", async (t) => {
  if (!needsKernel(t)) return;
  // perf_poll() clears the wakeup flag and epoll polls a new watch twice, so a watch added
  // after the wakeup would never report it; the reader must cope.
  const map = perfArrayMap("pa_early", cpuCount());
  using emitter = Emitter.create(map);
  using reader = PerfReader.open(map);
  map.fd.close();
  const it = reader[Symbol.asyncIterator]();
  const first = it.next(); // reads nothing, then waits
  emitter.run(3); // same tick: libuv has not touched epoll yet
  const timeout = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 3000).unref());
  const r = await Promise.race([first, timeout]);
  assert.notEqual(r, "timeout", "the iterator slept on data");
  assert.deepEqual(seqs([(r as IteratorResult<EventBatch>).value as EventBatch]), [0, 1, 2]);
  await it.return(undefined);
});
