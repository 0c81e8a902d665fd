// The ring buffer bench's consumers check what the C consumer checks and agree on the sum:
// fed synthetic records laid out like struct bench_event, no kernel needed.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  BENCH_MAGIC,
  BenchEvent,
  BenchArgs,
  DataViewChecker,
  EventChecker,
  ViewChecker,
  encodeArgs,
  makeSink,
  type EventSink,
} from "../../../bench/ringbuf-events.js";
import { ringbufChecksum } from "../../../bench/report.js";

function records(n: number): DataView {
  const view = new DataView(new ArrayBuffer(n * BenchEvent.size));
  for (let i = 0; i < n; i++) {
    const seq = BigInt(i);
    BenchEvent.encodeInto(view, i * BenchEvent.size, {
      seq,
      value: seq * 3n,
      cpu: i % 2,
      magic: BENCH_MAGIC,
      pad: 0n,
    });
  }
  return view;
}

function feed(sink: EventSink, view: DataView, n: number, length = BenchEvent.size): void {
  for (let i = 0; i < n; i++) sink.onRecord(view, i * BenchEvent.size, length);
}

test("struct and DataView consumers accept the protocol and sum like the C side (past 2³²)", () => {
  const n = 100_000; // Σ 3·seq ≈ 1.5·10¹⁰: the DataView sink's low word must carry
  const view = records(n);
  for (const sink of [new ViewChecker(), new EventChecker(), new DataViewChecker()]) {
    feed(sink, view, n);
    assert.equal(sink.consumed, n);
    assert.equal(sink.bad, 0);
    assert.equal(sink.checksum, ringbufChecksum(n));
  }
  assert.equal(makeSink("none").checksum, undefined);
});

test("every field is checked: a wrong seq, value, magic, pad or length counts as bad", () => {
  const corrupt: [number, (v: DataView, o: number) => void][] = [
    [0, (v, o) => v.setUint32(o + 20, 0, true)], // magic
    [8, (v, o) => v.setUint32(o + 8, 1, true)], // value ≠ 3·seq
    [24, (v, o) => v.setUint8(o + 31, 1)], // pad, high byte
  ];
  for (const [, hurt] of corrupt) {
    const view = records(10);
    hurt(view, 5 * BenchEvent.size);
    for (const sink of [new ViewChecker(), new EventChecker(), new DataViewChecker()]) {
      feed(sink, view, 10);
      assert.equal(sink.bad, 1);
    }
  }
  // seq out of order: 0 1 2 4 3 5 … — 4, 3 and then 5 (after 3) are each not the expected next
  const view = records(10);
  const a = new Uint8Array(view.buffer, 3 * BenchEvent.size, BenchEvent.size).slice();
  new Uint8Array(view.buffer).copyWithin(
    3 * BenchEvent.size,
    4 * BenchEvent.size,
    5 * BenchEvent.size,
  );
  new Uint8Array(view.buffer).set(a, 4 * BenchEvent.size);
  for (const sink of [new ViewChecker(), new EventChecker(), new DataViewChecker()]) {
    feed(sink, view, 10);
    assert.equal(sink.bad, 3);
  }
  for (const sink of [new ViewChecker(), new EventChecker(), new DataViewChecker()]) {
    feed(sink, records(3), 3, 40);
    assert.equal(sink.bad, 3, "records of the wrong length");
  }
});

test("bench_args is 16 bytes: count, submit_flags, seq_start little-endian", () => {
  assert.equal(BenchArgs.size, 16);
  assert.equal(BenchEvent.size, 32);
  const out = new Uint8Array(16);
  encodeArgs(out, 4096, 1, 2 ** 40 + 5);
  const v = new DataView(out.buffer);
  assert.equal(v.getUint32(0, true), 4096);
  assert.equal(v.getUint32(4, true), 1);
  assert.equal(v.getBigUint64(8, true), 2n ** 40n + 5n);
});

test("the view consumer's number sum stays exact past 2^53", () => {
  const base = 2n ** 50n; // value = 3·seq ≈ 3.4·10¹⁵: three of them pass 2^53
  const n = 8;
  const view = new DataView(new ArrayBuffer(n * BenchEvent.size));
  let want = 0n;
  for (let i = 0; i < n; i++) {
    const seq = base + BigInt(i);
    want += seq * 3n;
    const e = { seq, value: seq * 3n, cpu: 0, magic: BENCH_MAGIC, pad: 0n };
    BenchEvent.encodeInto(view, i * BenchEvent.size, e);
  }
  const sink = new ViewChecker();
  sink.next = Number(base);
  feed(sink, view, n);
  assert.equal(sink.bad, 0);
  assert.equal(sink.checksum, want);
});
