// Struct views: in-place field getters must read exactly what decodeFrom reads, 64-bit fields
// as numbers must be exact or throw, and `at` must refuse ranges that do not fit.
import { test } from "node:test";
import assert from "node:assert/strict";
import { inspect } from "node:util";
import fc from "fast-check";
import {
  array,
  DecodeError,
  i64,
  struct,
  u16,
  u32,
  u64,
  u8,
  type ViewFields,
} from "../../../src/types/index.js";
import { structArb, valueArb } from "./gen.js";

const Event = struct("view_event", { seq: u64, delta: i64, cpu: u32, port: u16, tag: u8 });

// Compile-time checks: the field types follow the int64 option.
const _big: ViewFields<typeof Event.shape> = Event.view().at(new DataView(new ArrayBuffer(32)), 0);
const _seqBig: bigint = _big.seq;
const _num = Event.view({ int64: "number" }).at(new DataView(new ArrayBuffer(32)), 0);
const _seqNum: number = _num.seq;
const _cpu: number = _num.cpu;
function _readOnly(): void {
  // @ts-expect-error fields of a view are read-only
  _num.cpu = 1;
}
void [_seqBig, _seqNum, _cpu, _readOnly];

test("a view reads every field in place, as decodeFrom does, for random structs", () => {
  fc.assert(
    fc.property(
      structArb.chain((t) => fc.tuple(fc.constant(t), valueArb(t), fc.nat(16))),
      ([t, value, pad]) => {
        const dv = new DataView(new ArrayBuffer(t.size + pad + 8));
        t.encodeInto(dv, pad, value as never);
        const got = t.view().at(dv, pad) as Record<string, unknown>;
        const want = t.decodeFrom(dv, pad) as Record<string, unknown>;
        for (const f of t.fields) assert.deepEqual(got[f.name], want[f.name], f.name);
      },
    ),
    { numRuns: 300 },
  );
});

test("int64: number reads 64-bit fields exactly within ±2^53", () => {
  const values = [0n, 1n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n - 1n];
  const signed = [0n, -1n, -(2n ** 32n), 2n ** 53n - 1n, -(2n ** 53n)];
  const dv = new DataView(new ArrayBuffer(Event.size));
  const v = Event.view({ int64: "number" });
  for (let i = 0; i < values.length; i++) {
    Event.encodeInto(dv, 0, { seq: values[i]!, delta: signed[i]!, cpu: 7, port: 80, tag: 1 });
    const e = v.at(dv, 0);
    assert.equal(e.seq, Number(values[i]));
    assert.equal(e.delta, Number(signed[i]));
    assert.equal(e.cpu, 7);
  }
  fc.assert(
    fc.property(
      fc.bigInt({ min: 0n, max: 2n ** 53n - 1n }),
      fc.bigInt({ min: -(2n ** 53n), max: 2n ** 53n - 1n }),
      (a, b) => {
        Event.encodeInto(dv, 0, { seq: a, delta: b, cpu: 0, port: 0, tag: 0 });
        const e = v.at(dv, 0);
        assert.equal(e.seq, Number(a));
        assert.equal(e.delta, Number(b));
      },
    ),
  );
});

test("int64: number throws DecodeError naming the field instead of rounding", () => {
  const dv = new DataView(new ArrayBuffer(Event.size));
  const v = Event.view({ int64: "number" });
  Event.encodeInto(dv, 0, { seq: 2n ** 53n, delta: 0n, cpu: 0, port: 0, tag: 0 });
  assert.throws(
    () => v.at(dv, 0).seq,
    (e: unknown) => {
      assert.ok(e instanceof DecodeError);
      assert.match(e.message, /view_event\.seq: 9007199254740992n is outside ±2\^53/);
      return true;
    },
  );
  assert.equal(v.at(dv, 0).delta, 0, "other fields still read");
  Event.encodeInto(dv, 0, { seq: 0n, delta: -(2n ** 53n) - 1n, cpu: 0, port: 0, tag: 0 });
  assert.throws(() => v.at(dv, 0).delta, /view_event\.delta: -9007199254740993n/);
  Event.encodeInto(dv, 0, { seq: 2n ** 64n - 1n, delta: 0n, cpu: 0, port: 0, tag: 0 });
  assert.equal(Event.view().at(dv, 0).seq, 2n ** 64n - 1n, "the bigint view reads it all");
});

test("at() returns one reusable object and refuses ranges that do not fit", () => {
  const dv = new DataView(new ArrayBuffer(Event.size * 2));
  Event.encodeInto(dv, 0, { seq: 1n, delta: 0n, cpu: 1, port: 0, tag: 0 });
  Event.encodeInto(dv, Event.size, { seq: 2n, delta: 0n, cpu: 2, port: 0, tag: 0 });
  const v = Event.view({ int64: "number" });
  const a = v.at(dv, 0);
  assert.equal(a.cpu, 1);
  const b = v.at(dv, Event.size);
  assert.equal(a, b, "the same object");
  assert.equal(a.cpu, 2, "rebinding moves every reference");
  assert.equal(v.type, Event);
  for (const bad of [-1, Event.size + 1, 0.5, NaN]) {
    assert.throws(() => v.at(dv, bad), RangeError, String(bad));
  }
  // The length is remembered per DataView: another, shorter view is checked against its own.
  const short = new DataView(dv.buffer, 0, Event.size);
  assert.throws(() => v.at(short, Event.size), RangeError);
  assert.equal(v.at(dv, Event.size).cpu, 2, "a failed at() leaves the previous binding usable");
  assert.equal(v.at(short, 0).cpu, 1);
});

test("view() validates its option; nested fields decode; inspection shows fields", () => {
  assert.throws(() => Event.view({ int64: "string" as never }), /view\(\{ int64 \}\) must be/);
  const Outer = struct("view_outer", { id: u32, raw: array(u8, 3), inner: Event });
  const dv = new DataView(new ArrayBuffer(Outer.size));
  const inner = { seq: 5n, delta: -5n, cpu: 1, port: 2, tag: 3 };
  Outer.encodeInto(dv, 0, { id: 9, raw: new Uint8Array([1, 2, 3]), inner });
  const o = Outer.view().at(dv, 0);
  assert.deepEqual(o.raw, new Uint8Array([1, 2, 3]));
  assert.deepEqual(o.inner, inner);
  const shown = inspect(o);
  assert.match(shown, /id: 9/);
});
