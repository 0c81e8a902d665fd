import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  RingBufRing,
  type HeaderScan,
  type RecordCollect,
} from "../../../src/reader/ringbuf-ring.js";
import { native } from "../../../src/sys/native.js";
import { RingCorruptError } from "../../../src/reader/errors.js";
import { SynthRingBuf, payloadFor } from "./synthetic-rings.js";

const ALL = Number.MAX_SAFE_INTEGER;

function read(ring: RingBufRing, max = ALL, copy = false): Uint8Array[] {
  const out: Uint8Array[] = [];
  ring.read(max, copy, out);
  return out;
}

test("records come back in order with exact lengths, as views into the data area", () => {
  const rb = new SynthRingBuf(256);
  const ring = new RingBufRing(rb.memory(), "events");
  const lens = [1, 7, 8, 9, 16, 33];
  lens.forEach((len, i) => rb.write(payloadFor(i, len)));
  const got = read(ring);
  assert.deepEqual(
    got.map((v) => [...v]),
    lens.map((len, i) => [...payloadFor(i, len)]),
  );
  assert.equal(got[0]!.buffer, rb.data.buffer, "zero copy: a view of the mapping");
  assert.equal(rb.consumerPos[0], 0n, "the batch is not committed while its views are held");
  assert.deepEqual(read(ring), []);
  assert.equal(rb.consumerPos[0], rb.producerPos[0], "the next read committed the batch");
});

test("a record that wraps past the end is contiguous thanks to the double mapping", () => {
  const rb = new SynthRingBuf(64);
  const ring = new RingBufRing(rb.memory(), "events");
  rb.write(payloadFor(0, 40)); // 48 bytes: position 48 next
  assert.equal(read(ring).length, 1);
  ring.commit();
  const pos = rb.write(payloadFor(1, 30)); // 8 + 30 → 40 bytes from offset 48: wraps
  assert.equal(pos, 48n);
  const [v] = read(ring);
  assert.deepEqual([...v!], [...payloadFor(1, 30)]);
  assert.equal(v!.byteOffset, 56, "view starts in the first copy and runs into the second");
});

test("copy mode returns independent copies and commits at once", () => {
  const rb = new SynthRingBuf(128);
  const ring = new RingBufRing(rb.memory(), "events");
  rb.write(payloadFor(5, 12));
  const [v] = read(ring, ALL, true);
  assert.notEqual(v!.buffer, rb.data.buffer);
  assert.equal(rb.consumerPos[0], rb.producerPos[0]);
  rb.data.fill(0);
  assert.deepEqual([...v!], [...payloadFor(5, 12)]);
});

test("a BUSY record stops the batch until it is committed; DISCARD records are skipped", () => {
  const rb = new SynthRingBuf(256);
  const ring = new RingBufRing(rb.memory(), "events");
  rb.write(payloadFor(0, 10));
  const busy = rb.write(payloadFor(1, 10), { busy: true })!;
  rb.write(payloadFor(2, 10));
  rb.write(payloadFor(3, 10), { discard: true });
  assert.deepEqual(
    read(ring).map((v) => v[0]),
    [0],
  );
  assert.deepEqual(read(ring), [], "still busy");
  assert.equal(rb.consumerPos[0], 24n, "consumed up to the busy record");
  rb.publish(busy, 10, true); // the program discarded its reservation
  assert.deepEqual(
    read(ring).map((v) => v[0]),
    [2],
  );
  read(ring);
  assert.equal(rb.consumerPos[0], rb.producerPos[0], "discarded records are consumed too");
});

test("max bounds the batch; the rest stays for the next read", () => {
  const rb = new SynthRingBuf(1024);
  const ring = new RingBufRing(rb.memory(), "events");
  for (let i = 0; i < 10; i++) rb.write(payloadFor(i, 4));
  assert.deepEqual(
    read(ring, 3).map((v) => v[0]),
    [0, 1, 2],
  );
  assert.deepEqual(
    read(ring, 100).map((v) => v[0]),
    [3, 4, 5, 6, 7, 8, 9],
  );
});

test("consume calls back with one shared DataView and commits everything", () => {
  const rb = new SynthRingBuf(256);
  const ring = new RingBufRing(rb.memory(), "events");
  for (let i = 0; i < 5; i++) rb.write(payloadFor(i, 6 + i));
  const views = new Set<DataView>();
  const seen: number[][] = [];
  const n = ring.consume((view, off, len) => {
    views.add(view);
    seen.push([...new Uint8Array(view.buffer, view.byteOffset + off, len)]);
  }, ALL);
  assert.equal(n, 5);
  assert.equal(views.size, 1);
  assert.deepEqual(
    seen,
    [0, 1, 2, 3, 4].map((i) => [...payloadFor(i, 6 + i)]),
  );
  assert.equal(rb.consumerPos[0], rb.producerPos[0]);
});

test("consume releases space as it goes, never the record in hand; read holds it all", () => {
  const rb = new SynthRingBuf(4096); // commits every 1024 bytes (a quarter ring)
  const ring = new RingBufRing(rb.memory(), "events");
  const starts: bigint[] = [];
  for (let i = 0; i < 70; i++) starts.push(rb.write(payloadFor(i, 48))!); // 56 bytes each
  let k = 0;
  const seenPos: bigint[] = [];
  ring.consume(() => {
    const pos = rb.consumerPos[0]!;
    seenPos.push(pos);
    assert.ok(pos <= starts[k]!, `record ${k} at ${starts[k]} released early (${pos})`);
    assert.ok(pos + 1024n + 56n > starts[k]!, `record ${k}: nothing released since ${pos}`);
    k++;
  }, ALL);
  assert.equal(k, 70);
  assert.ok(new Set(seenPos).size >= 3, "the position moved during the batch");
  assert.equal(rb.consumerPos[0], rb.producerPos[0]);
  // read(): views into the ring stay valid, so nothing is released until the next call.
  for (let i = 0; i < 70; i++) rb.write(payloadFor(i, 48));
  const before = rb.consumerPos[0];
  assert.equal(read(ring).length, 70);
  assert.equal(rb.consumerPos[0], before);
  assert.equal(read(ring).length, 0);
  assert.equal(rb.consumerPos[0], rb.producerPos[0]);
  // A throw after mid-batch commits still commits exactly through the record it threw on.
  const at: bigint[] = [];
  for (let i = 0; i < 40; i++) at.push(rb.write(payloadFor(i, 48))!);
  let calls = 0;
  assert.throws(
    () =>
      ring.consume(() => {
        if (calls++ === 30) throw new Error("boom");
      }, ALL),
    /boom/,
  );
  assert.equal(rb.consumerPos[0], at[30]! + 56n);
  assert.equal(ring.available(), 9 * 56);
  assert.equal(
    ring.consume(() => {}, ALL),
    9,
  );
});

test("a throwing consume callback keeps the records it saw consumed", () => {
  const rb = new SynthRingBuf(256);
  const ring = new RingBufRing(rb.memory(), "events");
  for (let i = 0; i < 4; i++) rb.write(payloadFor(i, 8));
  let calls = 0;
  assert.throws(
    () =>
      ring.consume(() => {
        if (++calls === 2) throw new Error("boom");
      }, ALL),
    /boom/,
  );
  assert.equal(rb.consumerPos[0], 32n, "two 16-byte records committed");
  assert.deepEqual(
    read(ring).map((v) => v[0]),
    [2, 3],
  );
});

test("many wraps: a producer/consumer run keeps every record in order", () => {
  const rb = new SynthRingBuf(128);
  const ring = new RingBufRing(rb.memory(), "events");
  let next = 0;
  let expect = 0;
  for (let round = 0; round < 200; round++) {
    while (rb.write(payloadFor(next, 1 + ((next * 13) % 40))) !== undefined) next++;
    for (const v of read(ring)) {
      assert.deepEqual([...v], [...payloadFor(expect, 1 + ((expect * 13) % 40))]);
      expect++;
    }
  }
  assert.equal(expect, next);
  assert.ok(rb.producerPos[0]! > 128n * 50n, "wrapped many times");
});

test("positions above 2^53 work (free-running 64-bit counters)", () => {
  const rb = new SynthRingBuf(64);
  const start = (1n << 60n) - 16n;
  rb.consumerPos[0] = start;
  rb.producerPos[0] = start;
  const ring = new RingBufRing(rb.memory(), "events");
  rb.write(payloadFor(1, 20));
  rb.write(payloadFor(2, 4));
  assert.deepEqual(
    read(ring).map((v) => v[0]),
    [1, 2],
  );
  ring.commit();
  assert.equal(rb.consumerPos[0], start + 32n + 16n);
});

test("corrupt positions and lengths raise RingCorruptError naming the map", () => {
  const rb = new SynthRingBuf(64);
  const ring = new RingBufRing(rb.memory(), "events");
  rb.consumerPos[0] = 96n;
  rb.producerPos[0] = 50n;
  assert.throws(
    () => read(ring),
    (e: unknown) => {
      assert.ok(e instanceof RingCorruptError);
      assert.match(e.message, /"events".*behind consumer/);
      return true;
    },
  );
  rb.producerPos[0] = 96n + 65n;
  assert.throws(() => read(ring), /more than the 64-byte ring/);
  rb.producerPos[0] = 96n + 16n;
  rb.pokeU32(96n, 200);
  assert.throws(() => read(ring), /record of 200 bytes exceeds the 16 bytes/);
  rb.consumerPos[0] = 100n;
  assert.throws(() => read(ring), /unaligned/);
});

test("a corrupt record after good ones ends the batch; the next read reports it", () => {
  const rb = new SynthRingBuf(128);
  const ring = new RingBufRing(rb.memory(), "events");
  rb.write(payloadFor(0, 8));
  const bad = rb.write(payloadFor(1, 8))!;
  rb.pokeU32(bad, 0x3fffffff);
  assert.deepEqual(
    read(ring).map((v) => v[0]),
    [0],
  );
  assert.throws(() => read(ring), RingCorruptError);
  assert.equal(rb.consumerPos[0], 16n, "never advanced past the bad record");
});

test("constructor rejects impossible geometry", () => {
  const rb = new SynthRingBuf(64);
  assert.throws(() => new RingBufRing({ ...rb.memory(), size: 48 }, "x"), /power of two/);
  assert.throws(
    () => new RingBufRing({ ...rb.memory(), data: rb.data.subarray(0, 64) }, "x"),
    /2 × 64 bytes/,
  );
});

test("property: arbitrary ring contents never crash, hang or over-read", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(8, 16, 64, 256),
      fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      fc.uint8Array({ minLength: 0, maxLength: 256 }),
      fc.integer({ min: 1, max: 1000 }),
      (size, cons, prod, junk, max) => {
        const rb = new SynthRingBuf(size);
        rb.consumerPos[0] = cons;
        rb.producerPos[0] = prod;
        rb.poke(0n, junk.subarray(0, size));
        const ring = new RingBufRing(rb.memory(), "fuzz");
        for (let pass = 0; pass < 3; pass++) {
          try {
            const out: Uint8Array[] = [];
            ring.read(max, pass === 1, out);
            assert.ok(out.length <= max);
            const bytes = out.reduce((s, v) => s + v.length + 8, 0);
            assert.ok(bytes <= size, "never returns more than the ring holds");
            for (const v of out) assert.ok(v.byteOffset + v.length <= rb.data.byteLength);
          } catch (e) {
            if (!(e instanceof RingCorruptError)) throw e;
          }
        }
        const cur = rb.consumerPos[0]!;
        assert.ok(cur >= cons && cur - cons <= BigInt(size), "consumer moves forward, boundedly");
      },
    ),
    { numRuns: 2000 },
  );
});

test("property: well-formed producer sequences are read back exactly", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          len: fc.integer({ min: 0, max: 60 }),
          discard: fc.boolean(),
          readAfter: fc.boolean(),
        }),
        { maxLength: 200 },
      ),
      (ops) => {
        const rb = new SynthRingBuf(128);
        const ring = new RingBufRing(rb.memory(), "p");
        const expected: number[][] = [];
        const got: number[][] = [];
        const drain = () => {
          for (const v of read(ring)) got.push([...v]);
          ring.commit();
        };
        ops.forEach((op, i) => {
          const p = payloadFor(i, op.len);
          if (rb.write(p, { discard: op.discard }) === undefined) {
            drain();
            assert.notEqual(rb.write(p, { discard: op.discard }), undefined);
          }
          if (!op.discard) expected.push([...p]);
          if (op.readAfter) drain();
        });
        drain();
        assert.deepEqual(got, expected);
      },
    ),
  );
});

/**
 * A ring for the differential property tests: well-formed records (some busy or discarded)
 * from a consumer position, then corruption — poked bytes and a producer position moved by
 * `extra` bytes.
 */
const arbitraryRing = fc.record({
  size: fc.constantFrom(8, 16, 64, 256),
  cons: fc.bigInt({ min: 0n, max: 600n }),
  extra: fc.integer({ min: -16, max: 300 }),
  records: fc.array(
    fc.record({ len: fc.integer({ min: 0, max: 40 }), busy: fc.boolean(), discard: fc.boolean() }),
    { maxLength: 30 },
  ),
  pokes: fc.array(fc.tuple(fc.nat(255), fc.nat(255)), { maxLength: 4 }),
});

function buildRing({
  size,
  cons,
  extra,
  records,
  pokes,
}: typeof arbitraryRing extends fc.Arbitrary<infer T> ? T : never): SynthRingBuf {
  const rb = new SynthRingBuf(size);
  rb.consumerPos[0] = rb.producerPos[0] = cons;
  records.forEach((r, i) => rb.write(payloadFor(i, r.len), r));
  for (const [at, v] of pokes) rb.poke(cons + BigInt(at % size), new Uint8Array([v]));
  const prod = rb.producerPos[0]! + BigInt(extra);
  rb.producerPos[0] = prod < 0n ? 0n : prod;
  return rb;
}

/** The addon's header scan, or undefined when the addon is not built here. */
function nativeScan(): HeaderScan | undefined {
  try {
    return (native() as { ringbufScan?: HeaderScan }).ringbufScan;
  } catch {
    return undefined;
  }
}

test("property: the native header scan walks exactly like Atomics.load, errors included", (t) => {
  const scan = nativeScan();
  if (scan === undefined) return t.skip("native addon not built (npm install)");
  fc.assert(
    fc.property(
      arbitraryRing,
      fc.integer({ min: 1, max: 50 }),
      fc.boolean(),
      (spec, max, useConsume) => {
        // Two identical rings: well-formed records (some busy or discarded), then corruption.
        const make = (): SynthRingBuf => buildRing(spec);
        const run = (rb: SynthRingBuf, s: HeaderScan | undefined) => {
          const ring = new RingBufRing(rb.memory(), "diff", s);
          const seen: number[][] = [];
          const errors: string[] = [];
          for (let pass = 0; pass < 3; pass++) {
            try {
              if (useConsume)
                ring.consume((v, o, l) => {
                  seen.push([...new Uint8Array(v.buffer, v.byteOffset + o, l)]);
                }, max);
              else for (const v of read(ring, max)) seen.push([...v]);
            } catch (e) {
              if (!(e instanceof RingCorruptError)) throw e;
              errors.push(e.message);
            }
          }
          ring.commit();
          return { seen, errors, cons: rb.consumerPos[0] };
        };
        assert.deepEqual(run(make(), scan), run(make(), undefined));
      },
    ),
    { numRuns: 1500 },
  );
});

test("native header scan: never reads past the area, stops at BUSY and when out is full", (t) => {
  const scan = nativeScan();
  if (scan === undefined) return t.skip("native addon not built (npm install)");
  const rb = new SynthRingBuf(64);
  for (let i = 0; i < 3; i++) rb.write(payloadFor(i, 4)); // 16 bytes each
  const busyAt = rb.write(payloadFor(3, 4), { busy: true })!;
  const out = new Uint32Array(8);
  assert.equal(scan(rb.data, 0, 64, out), 3, "stops at the BUSY record");
  assert.deepEqual([...out.subarray(0, 3)], [4, 4, 4]);
  assert.equal(scan(rb.data, 0, 64, new Uint32Array(2)), 2, "stops when out is full");
  rb.publish(busyAt, 4);
  assert.equal(scan(rb.data, 0, 64, out), 4);
  assert.equal(scan(rb.data, 0, 200, out), 0, "avail beyond the ring: nothing");
  assert.equal(scan(rb.data, -8, 64, out), 0);
  assert.equal(scan(rb.data.subarray(0, 24), 0, 8, out), 0, "not a power-of-two area");
  assert.throws(() => scan("x" as never, 0, 8, out), TypeError);
});

test("native header scan: batches longer than one scan keep every record in order", (t) => {
  const scan = nativeScan();
  if (scan === undefined) return t.skip("native addon not built (npm install)");
  const rb = new SynthRingBuf(1 << 16);
  const ring = new RingBufRing(rb.memory(), "long", scan);
  const ids = [...Array(3000).keys()];
  for (let round = 0; round < 3; round++) {
    for (const i of ids) {
      const pos = rb.write(payloadFor(i, 1 + (i % 9)), { discard: i % 7 === 0 });
      assert.notEqual(pos, undefined, "the ring holds a whole round");
    }
    const got: number[][] = [];
    const n = ring.consume((v, o, l) => {
      got.push([...new Uint8Array(v.buffer, v.byteOffset + o, l)]);
    }, ALL);
    const want = ids.filter((i) => i % 7 !== 0).map((i) => [...payloadFor(i, 1 + (i % 9))]);
    assert.equal(n, want.length, "more records than one 1024-header scan");
    assert.deepEqual(got, want);
    assert.equal(rb.consumerPos[0], rb.producerPos[0]);
  }
});

/** The addon's batch record walk, or undefined when the addon is not built here. */
function nativeCollect(): RecordCollect | undefined {
  try {
    return (native() as { ringbufCollect?: RecordCollect }).ringbufCollect;
  } catch {
    return undefined;
  }
}

test("property: readRecords (native batch walk or JS walker) hands out what read() does, errors and positions included", (t) => {
  const collect = nativeCollect();
  if (collect === undefined) return t.skip("native addon not built (npm install)");
  fc.assert(
    fc.property(
      arbitraryRing,
      fc.integer({ min: 1, max: 50 }),
      fc.integer({ min: 1, max: 8 }),
      (spec, max, capacity) => {
        const make = (): SynthRingBuf => buildRing(spec);
        const viaRead = (rb: SynthRingBuf) => {
          const ring = new RingBufRing(rb.memory(), "diff");
          const seen: number[][] = [];
          const errors: string[] = [];
          for (let pass = 0; pass < 3; pass++) {
            try {
              for (const v of read(ring, Math.min(max, capacity))) seen.push([...v]);
            } catch (e) {
              if (!(e instanceof RingCorruptError)) throw e;
              errors.push(e.message);
            }
          }
          ring.commit();
          return { seen, errors, cons: rb.consumerPos[0] };
        };
        const viaRecords = (rb: SynthRingBuf, c: RecordCollect | undefined) => {
          const ring = new RingBufRing(rb.memory(), "diff", undefined, c);
          const seen: number[][] = [];
          const errors: string[] = [];
          for (let pass = 0; pass < 3; pass++) {
            try {
              const b = ring.readRecords(max, capacity);
              for (let i = 0; i < b.count; i++)
                seen.push([...b.bytes.subarray(b.offsets[i]!, b.offsets[i]! + b.lengths[i]!)]);
            } catch (e) {
              if (!(e instanceof RingCorruptError)) throw e;
              errors.push(e.message);
            }
          }
          ring.commit();
          return { seen, errors, cons: rb.consumerPos[0] };
        };
        const want = viaRead(make());
        assert.deepEqual(viaRecords(make(), collect), want, "native batch walk");
        assert.deepEqual(viaRecords(make(), undefined), want, "JS walker");
      },
    ),
    { numRuns: 1500 },
  );
});

test("readRecords: batches hold at most their capacity, stay valid until the next read, and are committed by it", (t) => {
  const collect = nativeCollect();
  if (collect === undefined) return t.skip("native addon not built (npm install)");
  const rb = new SynthRingBuf(1 << 12);
  const ring = new RingBufRing(rb.memory(), "batch", undefined, collect);
  for (let i = 0; i < 10; i++) rb.write(payloadFor(i, 5), { discard: i === 3 });
  const first = ring.readRecords(ALL, 4);
  assert.equal(first.count, 4);
  assert.deepEqual([...first.lengths.subarray(0, 4)], [5, 5, 5, 5]);
  assert.deepEqual(
    [...first.offsets.subarray(0, 4)].map((o) => first.bytes[o]),
    [0, 1, 2, 4],
    "the discarded record 3 is skipped",
  );
  assert.equal(rb.consumerPos[0], 0n, "held while the batch may be read");
  const second = ring.readRecords(ALL, 4);
  assert.equal(second, first, "the same batch object is reused");
  assert.equal(
    rb.consumerPos[0],
    5n * 16n,
    "the first batch (5 records incl. the discard) was committed",
  );
  assert.deepEqual(
    [...second.offsets.subarray(0, 4)].map((o) => second.bytes[o]),
    [5, 6, 7, 8],
  );
  assert.equal(ring.readRecords(ALL, 4).count, 1);
  assert.equal(ring.readRecords(ALL, 4).count, 0);
  assert.equal(rb.consumerPos[0], rb.producerPos[0]);
});
