import { test } from "node:test";
import assert from "node:assert/strict";
import { needsKernel } from "../../support/kernel.js";
import { RingBufReader } from "../../../src/reader/ringbuf.js";
import { ReaderClosedError } from "../../../src/reader/errors.js";
import type { EventBatch } from "../../../src/reader/batch.js";
import { struct, u64 } from "../../../src/types/index.js";
import { Emitter, MAGIC, decodeRecord, ringbufMap } from "./programs.js";

const RECORD = 16;
const SLOT = RECORD + 8; // header + payload, 8-aligned

function seqs(events: Uint8Array[]): number[] {
  return events.map((e) => {
    assert.equal(e.length, RECORD);
    const r = decodeRecord(e);
    assert.equal(r.magic, MAGIC);
    return r.seq;
  });
}

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

test("ring buffer: every record arrives exactly, as zero-copy views", (t) => {
  if (!needsKernel(t)) return;
  const map = ringbufMap("rb_exact", 1 << 16);
  using emitter = Emitter.create(map);
  using reader = RingBufReader.open(map);
  map.fd.close(); // the reader holds its own fd and mappings
  assert.deepEqual(reader.readBatch(), []);
  emitter.run(100);
  const events = reader.readBatch();
  assert.deepEqual(seqs(events), range(0, 100));
  assert.ok(events[0]!.buffer.byteLength > reader.size, "a view into the double mapping");
  assert.deepEqual(reader.readBatch(), []);
});

test("ring buffer: many wraps of a one-page ring keep order and content", (t) => {
  if (!needsKernel(t)) return;
  const map = ringbufMap("rb_wrap", 4096);
  using emitter = Emitter.create(map);
  using reader = RingBufReader.open(map);
  map.fd.close();
  const got: number[] = [];
  for (let round = 0; round < 25; round++) {
    emitter.run(97); // 97 × 24 bytes: positions drift so records straddle the end
    got.push(...seqs(reader.readBatch()));
    reader.commit(); // hand the space back before the next round
  }
  assert.deepEqual(got, range(0, 25 * 97));
  assert.ok(25 * 97 * SLOT > 10 * 4096, "wrapped the ring many times");
});

test("ring buffer: a full ring drops at the producer; held batches keep their space", (t) => {
  if (!needsKernel(t)) return;
  const map = ringbufMap("rb_full", 4096);
  using emitter = Emitter.create(map);
  using reader = RingBufReader.open(map);
  map.fd.close();
  emitter.run(200);
  const capacity = Math.floor((4096 - 1) / SLOT); // the kernel keeps used ≤ size - 1
  const first = reader.readBatch();
  assert.deepEqual(seqs(first), range(0, capacity));
  emitter.run(10); // the batch is still held: no space yet
  assert.equal(reader.readBatch().length, 0, "released the first batch, nothing new fit");
  emitter.run(10);
  assert.deepEqual(seqs(reader.readBatch()), range(210, 10));
  assert.equal(emitter.sent(), 220);
});

test("ring buffer: copy mode and the allocation-free consume path", (t) => {
  if (!needsKernel(t)) return;
  const map = ringbufMap("rb_copy", 8192);
  using emitter = Emitter.create(map);
  using copying = RingBufReader.open(map, { copy: true });
  emitter.run(5);
  const copies = copying.readBatch();
  assert.equal(copies[0]!.buffer.byteLength, RECORD, "an independent copy");
  assert.deepEqual(seqs(copies), range(0, 5));
  copying.close();
  using reader = RingBufReader.open(map);
  map.fd.close();
  emitter.run(300);
  const got: number[] = [];
  let view0: DataView | undefined;
  const n = reader.consume((view, off, len) => {
    view0 ??= view;
    assert.equal(view, view0);
    assert.equal(len, RECORD);
    assert.equal(view.getBigUint64(off, true), MAGIC);
    got.push(Number(view.getBigUint64(off + 8, true)));
  });
  assert.equal(n, 300);
  assert.deepEqual(got, range(5, 300));
  assert.equal(reader.available(), 0, "consume committed");
});

test("ring buffer: readRecords hands out batches of offsets over a real ring, wrapping and held until the next read", (t) => {
  if (!needsKernel(t)) return;
  const map = ringbufMap("rb_records", 4096);
  using emitter = Emitter.create(map);
  using reader = RingBufReader.open(map, { recordBatch: 50 });
  map.fd.close();
  const got: number[] = [];
  for (let round = 0; round < 20; round++) {
    emitter.run(97); // records straddle the ring end as positions drift
    for (;;) {
      const b = reader.readRecords();
      assert.ok(b.count <= 50, "at most recordBatch per batch");
      if (b.count === 0) break;
      for (let i = 0; i < b.count; i++) {
        assert.equal(b.lengths[i], RECORD);
        assert.equal(b.view.getBigUint64(b.offsets[i]!, true), MAGIC);
        got.push(Number(b.view.getBigUint64(b.offsets[i]! + 8, true)));
      }
    }
  }
  assert.deepEqual(got, range(0, 20 * 97));
  assert.equal(reader.available(), 0, "the empty read committed the last batch");
  emitter.run(3);
  assert.equal(reader.readRecords(2).count, 2, "max bounds a batch");
  assert.ok(reader.available() > 0, "held: not committed while it may be read");
  assert.equal(reader.readRecords().count, 1);
});

test("ring buffer: records() yields batches as they arrive and ends on close", async (t) => {
  if (!needsKernel(t)) return;
  const map = ringbufMap("rb_records_iter", 8192);
  using emitter = Emitter.create(map);
  using reader = RingBufReader.open(map);
  const got: number[] = [];
  const timer = setTimeout(() => emitter.run(40), 20);
  for await (const b of reader.records()) {
    for (let i = 0; i < b.count; i++)
      got.push(Number(b.view.getBigUint64(b.offsets[i]! + 8, true)));
    if (got.length >= 40) reader.close();
  }
  clearTimeout(timer);
  assert.deepEqual(got, range(0, 40));
  assert.throws(() => reader.readRecords(), ReaderClosedError);
});

test("ring buffer: decoded() yields plain objects from a compiled decoder that outlive their batch", async (t) => {
  if (!needsKernel(t)) return;
  const map = ringbufMap("rb_decoded", 8192);
  using emitter = Emitter.create(map);
  using reader = RingBufReader.open(map);
  const Rec = struct("rec", { magic: u64, seq: u64 });
  const kept: { magic: bigint; seq: bigint }[] = [];
  const timer = setTimeout(() => emitter.run(200), 20);
  for await (const events of reader.decoded(Rec.decoder())) {
    kept.push(...events);
    if (kept.length === 200) emitter.run(100); // past the end of the 8 KiB ring: wraps
    if (kept.length >= 300) reader.close();
  }
  clearTimeout(timer);
  assert.deepEqual(
    kept.map((e) => e.seq),
    range(0, 300).map((n) => BigInt(n)),
  );
  assert.ok(kept.every((e) => e.magic === MAGIC));
});

test("ring buffer: the iterator waits without blocking the loop and ends on close", async (t) => {
  if (!needsKernel(t)) return;
  const map = ringbufMap("rb_iter", 8192);
  using emitter = Emitter.create(map);
  const reader = RingBufReader.open(map);
  map.fd.close();
  let timerFired = false;
  setTimeout(() => {
    timerFired = true; // the loop ran while the iterator waited
    emitter.run(3);
  }, 30);
  const batches: EventBatch[] = [];
  const seen: number[] = [];
  for await (const batch of reader) {
    assert.ok(timerFired, "no batch before the timer produced one");
    batches.push(batch);
    seen.push(...seqs(batch.events));
    if (seen.length === 3) setTimeout(() => emitter.run(2), 10);
    if (seen.length === 5) setTimeout(() => reader.close(), 10);
  }
  assert.deepEqual(seen, range(0, 5));
  assert.equal(batches[0]!.map, "rb_iter");
  assert.equal(batches[0]!.lost, 0);
  assert.equal(reader.isClosed, true);
  assert.equal(
    batches[0]!.events[0]!.byteLength,
    0,
    "views are detached after close, not dangling",
  );
  assert.throws(() => reader.readBatch(), ReaderClosedError);
  reader.close();
});

test("ring buffer: close() from outside ends a waiting iterator", async (t) => {
  if (!needsKernel(t)) return;
  const map = ringbufMap("rb_close", 4096);
  const reader = RingBufReader.open(map);
  map.fd.close();
  setTimeout(() => reader.close(), 20);
  let n = 0;
  for await (const _ of reader) n++;
  assert.equal(n, 0);
});

test("ring buffer: wrong map type and bad sizes are refused with a clear error", (t) => {
  if (!needsKernel(t)) return;
  assert.throws(
    () => RingBufReader.open({ fd: 0, maxEntries: 4096, name: "x", type: 4 }),
    /needs a BPF_MAP_TYPE_RINGBUF map, but map "x" is BPF_MAP_TYPE_PERF_EVENT_ARRAY/,
  );
  assert.throws(() => RingBufReader.open({ fd: 0, maxEntries: 5000, name: "y" }), /power of two/);
});

test("ring buffer: a producer that never pauses does not starve timers", async (t) => {
  if (!needsKernel(t)) return;
  const map = ringbufMap("rb_flood", 1 << 16);
  using emitter = Emitter.create(map);
  using reader = RingBufReader.open(map);
  map.fd.close();
  let timerFired = false;
  setTimeout(() => (timerFired = true), 5);
  emitter.run(10);
  let batches = 0;
  for await (const { events } of reader) {
    assert.ok(events.length > 0);
    emitter.run(10); // there is always more data when the loop asks for the next batch
    if (timerFired || ++batches > 20000) break;
  }
  assert.ok(timerFired, `the timer never ran during ${batches} back-to-back batches`);
});
