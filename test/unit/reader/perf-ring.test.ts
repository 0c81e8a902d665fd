import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { PerfRing } from "../../../src/reader/perf-ring.js";
import { RingCorruptError } from "../../../src/reader/errors.js";
import { PAGE, SynthPerfRing, payloadFor } from "./synthetic-rings.js";

const ALL = Number.MAX_SAFE_INTEGER;

function read(ring: PerfRing, max = ALL, copy = false) {
  const events: Uint8Array[] = [];
  const { lost } = ring.read(max, copy, events);
  return { events, lost };
}

test("samples come back with the kernel's padded raw size, zero copy", () => {
  const pr = new SynthPerfRing(256);
  const ring = new PerfRing(pr.mapping, PAGE, "events", 0);
  pr.output(payloadFor(1, 16)); // 4 + 16 = 20 → padded to 24 → raw size 20
  pr.output(payloadFor(2, 4)); // 4 + 4 = 8 → raw size 4, no padding
  pr.output(payloadFor(3, 5)); // 4 + 5 = 9 → 16 → raw size 12
  const { events, lost } = read(ring);
  assert.equal(lost, 0);
  assert.deepEqual(
    events.map((e) => e.length),
    [20, 4, 12],
  );
  assert.deepEqual([...events[0]!.subarray(0, 16)], [...payloadFor(1, 16)]);
  assert.deepEqual([...events[0]!.subarray(16)], [0, 0, 0, 0], "padding is zero");
  assert.deepEqual([...events[2]!.subarray(0, 5)], [...payloadFor(3, 5)]);
  assert.equal(events[0]!.buffer, pr.mapping, "a view into the mapping");
  assert.equal(pr.tail, 0n, "not committed while views are held");
  read(ring);
  assert.equal(pr.tail, pr.head);
});

test("a sample that wraps the ring end is copied into scratch, others stay views", () => {
  const pr = new SynthPerfRing(64);
  const ring = new PerfRing(pr.mapping, PAGE, "events", 3);
  pr.output(payloadFor(0, 28)); // 8 + 4 + 28 = 40 bytes
  read(ring);
  ring.commit();
  pr.output(payloadFor(1, 20)); // 8 + 4 + 20 = 32 bytes at 40: body wraps at 64
  const { events } = read(ring);
  assert.equal(events.length, 1);
  assert.deepEqual([...events[0]!], [...payloadFor(1, 20)]);
  assert.notEqual(events[0]!.buffer, pr.mapping, "copied: the ring is mapped once");
});

test("a header at the very end and a raw size that wraps are read correctly", () => {
  const pr = new SynthPerfRing(64);
  const ring = new PerfRing(pr.mapping, PAGE, "events", 0);
  pr.head = pr.tail = 56n; // the next header occupies the last 8 bytes
  pr.output(payloadFor(7, 12));
  const { events } = read(ring);
  assert.deepEqual([...events[0]!], [...payloadFor(7, 12)]);
});

test("LOST and LOST_SAMPLES records are counted, never dropped silently", () => {
  const pr = new SynthPerfRing(256);
  const ring = new PerfRing(pr.mapping, PAGE, "events", 0);
  pr.output(payloadFor(0, 8));
  pr.lostRecord(5);
  pr.lostRecord(2, 13);
  pr.raw(5, new Uint8Array(16)); // PERF_RECORD_THROTTLE: skipped
  pr.output(payloadFor(1, 8));
  const { events, lost } = read(ring);
  assert.equal(events.length, 2);
  assert.equal(lost, 7);
});

test("an overflowing ring: received + lost == sent once the next sample lands", () => {
  const pr = new SynthPerfRing(128);
  const ring = new PerfRing(pr.mapping, PAGE, "events", 0);
  const sent = 20;
  for (let i = 0; i < sent; i++) pr.output(payloadFor(i, 16));
  let { events, lost } = read(ring);
  let received = events.length;
  assert.ok(received > 0 && received < sent);
  assert.equal(lost, 0, "the kernel reports drops only with its next output");
  ring.commit();
  pr.output(payloadFor(sent, 16));
  ({ events, lost } = read(ring));
  received += events.length;
  assert.equal(received + lost, sent + 1);
});

test("max bounds the number of samples per batch", () => {
  const pr = new SynthPerfRing(512);
  const ring = new PerfRing(pr.mapping, PAGE, "events", 0);
  for (let i = 0; i < 6; i++) pr.output(payloadFor(i, 8));
  assert.deepEqual(
    read(ring, 4).events.map((e) => e[0]),
    [0, 1, 2, 3],
  );
  assert.deepEqual(
    read(ring, 4).events.map((e) => e[0]),
    [4, 5],
  );
});

test("copy mode commits at once and returns fresh arrays, wrapped or not", () => {
  const pr = new SynthPerfRing(64);
  const ring = new PerfRing(pr.mapping, PAGE, "events", 0);
  let expect = 0;
  for (let i = 0; i < 50; i++) {
    pr.output(payloadFor(i, 9));
    const { events } = read(ring, ALL, true);
    assert.equal(pr.tail, pr.head);
    for (const e of events) {
      assert.notEqual(e.buffer, pr.mapping);
      assert.deepEqual([...e.subarray(0, 9)], [...payloadFor(expect++, 9)]);
    }
  }
  assert.equal(expect, 50);
});

test("corrupt heads and records raise RingCorruptError naming map and cpu", () => {
  const pr = new SynthPerfRing(64);
  const ring = new PerfRing(pr.mapping, PAGE, "events", 1);
  pr.tail = 16n;
  pr.head = 8n;
  assert.throws(
    () => read(ring),
    (e: unknown) => {
      assert.ok(e instanceof RingCorruptError);
      assert.equal(e.cpu, 1);
      assert.match(e.message, /"events" cpu 1.*behind data_tail/);
      return true;
    },
  );
  pr.head = 16n + 72n;
  assert.throws(() => read(ring), /more than the 64-byte ring/);
  pr.head = 16n;
  pr.raw(9, new Uint8Array(0), 0); // zero-size record would loop forever
  pr.head = 24n;
  assert.throws(() => read(ring), /claims 0 bytes/);
  pr.head = pr.tail = 0n;
  const body = new Uint8Array(8);
  new DataView(body.buffer).setUint32(0, 1000, true);
  pr.raw(9, body);
  assert.throws(() => read(ring), /raw size of 1000/);
});

test("constructor checks the data area against the mapping", () => {
  const pr = new SynthPerfRing(64);
  pr.meta[131] = 4096n;
  assert.throws(() => new PerfRing(pr.mapping, PAGE, "events", 0), /does not fit/);
  pr.meta[131] = 48n;
  assert.throws(() => new PerfRing(pr.mapping, PAGE, "events", 0), /power of two/);
  pr.meta[130] = 0n;
  pr.meta[131] = 0n; // pre-4.1 kernels: data right after the first page
  assert.equal(new PerfRing(pr.mapping, PAGE, "events", 0).dataSize, 64);
});

test("property: arbitrary perf ring contents never crash, hang or over-read", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(64, 256, 1024),
      fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      fc.uint8Array({ maxLength: 1024 }),
      fc.integer({ min: 1, max: 100 }),
      fc.boolean(),
      (size, tail, head, junk, max, copy) => {
        const pr = new SynthPerfRing(size);
        pr.tail = tail;
        pr.head = head;
        pr.bytes.set(junk.subarray(0, size));
        const ring = new PerfRing(pr.mapping, PAGE, "fuzz", 0);
        for (let pass = 0; pass < 3; pass++) {
          try {
            const { events, lost } = read(ring, max, copy);
            assert.ok(events.length <= max);
            assert.ok(Number.isFinite(lost) && lost >= 0);
            assert.ok(events.reduce((s, e) => s + e.length + 12, 0) <= size);
          } catch (e) {
            if (!(e instanceof RingCorruptError)) throw e;
          }
        }
        assert.ok(pr.tail >= tail && pr.tail - tail <= BigInt(size));
      },
    ),
    { numRuns: 2000 },
  );
});

test("property: samples and drops are all accounted for across wraps", () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ len: fc.integer({ min: 0, max: 40 }), read: fc.boolean() }), {
        maxLength: 300,
      }),
      (ops) => {
        const pr = new SynthPerfRing(128);
        const ring = new PerfRing(pr.mapping, PAGE, "p", 0);
        let received = 0;
        let lost = 0;
        const sentOk: number[][] = [];
        const got: number[][] = [];
        const drain = () => {
          const r = read(ring);
          received += r.events.length;
          lost += r.lost;
          for (const e of r.events) got.push([...e]);
        };
        ops.forEach((op, i) => {
          const p = payloadFor(i, op.len);
          if (pr.output(p))
            sentOk.push([...p, ...new Uint8Array(((op.len + 11) & ~7) - 4 - op.len)]);
          if (op.read) drain();
        });
        drain();
        ring.commit();
        // Report pending drops with one final sample, as the kernel would.
        pr.output(new Uint8Array(4));
        sentOk.push([0, 0, 0, 0]);
        drain();
        assert.deepEqual(got, sentOk);
        assert.equal(received + lost, ops.length + 1);
      },
    ),
  );
});
