// Compiled record decoders (StructType.decoder(), src/types/decoder*.ts) against the struct
// codec they replace on the hot path: on random structs and random bytes at random offsets
// (every alignment class), the same values as decodeFrom / decode, the same 64-bit rules as
// view({ int64: "number" }), and the same failures.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { DecodeError, struct, u32, u64, i64, be32, u16 } from "../../../src/types/index.js";
import { structArb } from "./gen.js";

const placed = structArb.chain((t) =>
  fc.record({
    t: fc.constant(t),
    offset: fc.nat(17),
    tail: fc.nat(9),
    lead: fc.nat(3),
    seed: fc.uint8Array({ minLength: 1, maxLength: 64 }),
  }),
);

/** `n` pseudo-random bytes from a seed (fast-check's arrays would be too slow at this size). */
function fill(n: number, seed: Uint8Array): Uint8Array {
  const out = new Uint8Array(n);
  let x = 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x ^ seed[i % seed.length]!, 0x85ebca6b) + i) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

test("decoder().at / decode give decodeFrom's values on random structs, bytes and offsets", () => {
  fc.assert(
    fc.property(placed, fc.boolean(), ({ t, offset, tail, lead, seed }, big) => {
      // Small buffers (event copies) get the byte-aligned code, large ones every variant.
      const buf = fill(lead + offset + t.size + tail + (big ? 5000 : 0), seed);
      // A DataView that does not start at the buffer's start: absolute alignment differs.
      const view = new DataView(buf.buffer, lead);
      const want = t.decodeFrom(view, offset);
      const dec = t.decoder();
      assert.deepStrictEqual(dec.at(view, offset), want);
      assert.deepStrictEqual(dec.decode(buf.subarray(lead + offset)), want);
      assert.deepStrictEqual(dec.decode(buf.subarray(lead), offset), want);
      assert.deepStrictEqual(dec.at(view, offset), want); // back to the view after decode
      const fresh = t.decoder(); // decode first (a small buffer's cheap binding), then at()
      assert.deepStrictEqual(fresh.decode(buf.subarray(lead), offset), want);
      assert.deepStrictEqual(fresh.at(view, offset), want);
    }),
    { numRuns: 400 },
  );
});

test("decoder({ int64: 'number' }) reads like view({ int64: 'number' }), throwing where it throws", () => {
  fc.assert(
    fc.property(placed, fc.boolean(), ({ t, offset, tail, lead, seed }, small) => {
      const buf = fill(lead + offset + t.size + tail, seed);
      // Half the runs clear the high bytes of every 64-bit field so most values fit 2^53.
      if (small)
        for (const f of t.fields)
          if (f.type.kind === "int" && f.type.bits === 64)
            buf[lead + offset + f.offset + 7] = buf[lead + offset + f.offset + 6]! & 0x0f;
      const view = new DataView(buf.buffer, lead);
      const v = t.view({ int64: "number" }).at(view, offset) as Record<string, unknown>;
      let want: Record<string, unknown> | Error;
      try {
        want = Object.fromEntries(t.fields.map((f) => [f.name, v[f.name]]));
      } catch (e) {
        want = e as Error;
      }
      const dec = t.decoder({ int64: "number" });
      if (want instanceof Error) {
        assert.throws(() => dec.at(view, offset), DecodeError);
      } else assert.deepStrictEqual(dec.at(view, offset), want);
    }),
    { numRuns: 400 },
  );
});

test("decoder rejects records that do not fit, non-integer offsets and detached memory", () => {
  const T = struct("T", { a: u32, b: u64 });
  const dec = T.decoder();
  const buf = new ArrayBuffer(24);
  const view = new DataView(buf);
  assert.throws(() => dec.at(view, 9), RangeError);
  assert.throws(() => dec.at(view, -1), RangeError);
  assert.throws(() => dec.at(view, 1.5), RangeError);
  assert.throws(() => dec.decode(new Uint8Array(15)), DecodeError);
  assert.deepStrictEqual(dec.at(view, 8), { a: 0, b: 0n });
  const moved = structuredClone(buf, { transfer: [buf] });
  assert.equal(moved.byteLength, 24);
  assert.throws(() => dec.at(view, 0), TypeError); // not a silent read of nothing
});

test("decoder().batch decodes a readRecords batch and refuses short records", () => {
  const E = struct("E", { saddr: be32, sport: u16, n: i64 });
  const buf = new ArrayBuffer(64);
  const view = new DataView(buf);
  const values = [
    { saddr: 0x7f000001, sport: 80, n: -5n },
    { saddr: 0x0a000002, sport: 443, n: 1n << 60n },
  ];
  E.encodeInto(view, 8, values[0]!);
  E.encodeInto(view, 36, values[1]!);
  const dec = E.decoder();
  const b = { view, count: 2, offsets: Uint32Array.of(8, 36), lengths: Uint32Array.of(16, 20) };
  assert.deepStrictEqual(dec.batch(b), values);
  const out = [values[0]!];
  assert.equal(dec.batch({ ...b, count: 1 }, out), out);
  assert.deepStrictEqual(out, [values[0]]);
  assert.throws(() => dec.batch({ ...b, lengths: Uint32Array.of(16, 12) }), DecodeError);
});
