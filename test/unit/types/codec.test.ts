import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  array,
  be16,
  be32,
  bytes,
  DecodeError,
  EncodeError,
  i16,
  i64,
  i8,
  struct,
  u16,
  u32,
  u64,
  u8,
  type Infer,
} from "../../../src/types/index.js";
import { allInts, dataBytes, structArb, typeArb, valueArb } from "./gen.js";

const RequestInfo = struct("RequestInfo", { saddr: u32, daddr: u32, sport: u16, dport: u16 });
type RequestInfo = Infer<typeof RequestInfo>;

// Compile-time checks: these lines fail the build if Infer stops producing the right types.
const _info: RequestInfo = { saddr: 1, daddr: 2, sport: 3, dport: 4 };
const _wide: Infer<typeof u64> = 1n;
const _bytes: Infer<ReturnType<typeof bytes>> = new Uint8Array(4);
const _signedBytes: Infer<ReturnType<typeof array<typeof i8>>> = new Int8Array(4);
const _words: Infer<ReturnType<typeof array<typeof u16>>> = [1, 2];
// @ts-expect-error u64 values are bigints
const _notNumber: Infer<typeof u64> = 1;
// @ts-expect-error every field is required
const _partial: RequestInfo = { saddr: 1 };
void [_info, _wide, _bytes, _signedBytes, _words, _notNumber, _partial];

test("RequestInfo encodes little-endian, fields in declaration order", () => {
  const out = RequestInfo.encode({ saddr: 0x01020304, daddr: 5, sport: 0x0708, dport: 80 });
  assert.deepEqual([...out], [4, 3, 2, 1, 5, 0, 0, 0, 8, 7, 80, 0]);
  assert.deepEqual(RequestInfo.decode(out), {
    saddr: 0x01020304,
    daddr: 5,
    sport: 0x0708,
    dport: 80,
  });
});

test("be16/be32 store network order and decode to the natural value", () => {
  const Tuple = struct("Tuple", { addr: be32, port: be16 });
  const out = Tuple.encode({ addr: 0x7f000001, port: 80 });
  assert.deepEqual([...out], [127, 0, 0, 1, 0, 80, 0, 0]);
  assert.deepEqual(Tuple.decode(out), { addr: 0x7f000001, port: 80 });
});

test("encode errors name the field and the problem", () => {
  const err = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      assert.ok(e instanceof EncodeError, `expected EncodeError, got ${String(e)}`);
      return e.message;
    }
    assert.fail("no error thrown");
  };
  const ok = { saddr: 1, daddr: 2, sport: 3, dport: 4 };
  assert.equal(
    err(() => RequestInfo.encode({ ...ok, sport: 70000 })),
    "RequestInfo.sport: 70000 does not fit in u16",
  );
  assert.match(
    err(() => RequestInfo.encode({ saddr: 1, daddr: 2, dport: 4 } as unknown as RequestInfo)),
    /^RequestInfo\.sport: missing field \(u16\)/,
  );
  assert.equal(
    err(() => RequestInfo.encode({ ...ok, saddr: 1.5 })),
    "RequestInfo.saddr: 1.5 is not an integer (u32)",
  );
  assert.equal(
    err(() => RequestInfo.encode({ ...ok, saddr: "1" as unknown as number })),
    'RequestInfo.saddr: expected a number for u32, got "1"',
  );
  assert.equal(
    err(() => RequestInfo.encode(null as unknown as RequestInfo)),
    "RequestInfo: expected an object, got null",
  );
  const Outer = struct("Outer", { reqs: array(RequestInfo, 2), ts: u64 });
  assert.equal(
    err(() => Outer.encode({ reqs: [ok, { ...ok, dport: -1 }], ts: 0n })),
    "Outer.reqs[1].dport: -1 does not fit in u16",
  );
  assert.equal(
    err(() => Outer.encode({ reqs: [ok], ts: 0n })),
    "Outer.reqs: expected 2 elements (RequestInfo[2]), got 1",
  );
  assert.equal(
    err(() => Outer.encode({ reqs: [ok, ok], ts: 1n << 64n })),
    "Outer.ts: 18446744073709551616n does not fit in u64",
  );
  assert.equal(
    err(() => Outer.encode({ reqs: [ok, ok], ts: 0.5 as unknown as bigint })),
    "Outer.ts: expected a bigint (or a safe integer number) for u64, got 0.5",
  );
  const e = new EncodeError("x");
  assert.equal(e.path, "");
  try {
    Outer.encode({ reqs: [ok, { ...ok, dport: -1 }], ts: 0n });
  } catch (x) {
    assert.ok(x instanceof EncodeError);
    assert.equal(x.path, "Outer.reqs[1].dport");
    assert.equal(x.detail, "-1 does not fit in u16");
  }
});

test("64-bit ints take safe integer numbers and decode to bigint", () => {
  const T = struct("T", { a: u64, b: i64 });
  assert.deepEqual(T.decode(T.encode({ a: 5 as unknown as bigint, b: -5n })), { a: 5n, b: -5n });
  assert.throws(() => T.encode({ a: -1n, b: 0n }), /T\.a: -1n does not fit in u64/);
  assert.throws(
    () => T.encode({ a: 0n, b: 1n << 63n }),
    /T\.b: 9223372036854775808n does not fit in i64/,
  );
});

test("byte arrays take typed arrays or arrays of numbers and decode to copies", () => {
  const T = struct("T", { tag: bytes(4), s: array(i8, 2), w: array(i16, 2) });
  const buf = T.encode({
    tag: new Uint8Array([1, 2, 3, 4]),
    s: new Int8Array([-1, 1]),
    w: [-2, 2],
  });
  const back = T.decode(buf);
  assert.ok(back.tag instanceof Uint8Array);
  assert.ok(back.s instanceof Int8Array);
  assert.deepEqual([...back.tag], [1, 2, 3, 4]);
  assert.deepEqual([...back.s], [-1, 1]);
  assert.deepEqual(back.w, [-2, 2]);
  buf[0] = 99; // the decoded value must not alias the input
  assert.equal(back.tag[0], 1);
  const fromList = T.encode({
    tag: [9, 8, 7, 6] as unknown as Uint8Array,
    s: new Int8Array(2),
    w: [0, 0],
  });
  assert.deepEqual([...fromList.subarray(0, 4)], [9, 8, 7, 6]);
  assert.throws(
    () =>
      T.encode({ tag: [256, 0, 0, 0] as unknown as Uint8Array, s: new Int8Array(2), w: [0, 0] }),
    /T\.tag\[0\]: 256 does not fit in u8/,
  );
  assert.throws(
    () => T.encode({ tag: new Uint8Array(5), s: new Int8Array(2), w: [0, 0] }),
    /T\.tag: expected 4 elements \(u8\[4\]\), got 5/,
  );
});

test("encode writes into a given buffer; decode reads a prefix; short input throws DecodeError", () => {
  const out = new Uint8Array(20).fill(0xee);
  const written = RequestInfo.encode({ saddr: 1, daddr: 2, sport: 3, dport: 4 }, out);
  assert.equal(written.length, 12);
  assert.equal(written.buffer, out.buffer);
  assert.equal(out[12], 0xee, "bytes past the value are left alone");
  assert.deepEqual(RequestInfo.decode(out), { saddr: 1, daddr: 2, sport: 3, dport: 4 });
  assert.throws(
    () => RequestInfo.decode(new Uint8Array(11)),
    (e: unknown) => {
      assert.ok(e instanceof DecodeError);
      assert.equal(e.message, "RequestInfo: need 12 bytes to decode, got 11");
      return true;
    },
  );
  assert.throws(
    () => RequestInfo.encode({ saddr: 1, daddr: 2, sport: 3, dport: 4 }, new Uint8Array(8)),
    /RequestInfo: output buffer of 8 bytes is smaller than its 12 bytes/,
  );
});

test("decodeFrom/encodeInto work at an offset and check bounds", () => {
  const buf = new Uint8Array(32);
  const view = new DataView(buf.buffer, 4, 24);
  RequestInfo.encodeInto(view, 8, { saddr: 7, daddr: 8, sport: 9, dport: 10 });
  assert.equal(buf[12], 7);
  assert.deepEqual(RequestInfo.decodeFrom(view, 8), { saddr: 7, daddr: 8, sport: 9, dport: 10 });
  assert.throws(() => RequestInfo.decodeFrom(view, 13), /RequestInfo: 12 bytes at offset 13/);
  assert.throws(() => RequestInfo.decodeFrom(view, -1), RangeError);
  assert.throws(() => u8.decodeFrom(view, 0.5), RangeError);
});

test("padding is zeroed on encode", () => {
  const P = struct("Padded", { a: u8, b: u64, c: u16 });
  const out = new Uint8Array(P.size).fill(0xff);
  P.encode({ a: 1, b: 2n, c: 3 }, out);
  assert.deepEqual(
    [...out],
    [1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0],
  );
});

test("property: values round-trip through encode/decode and encodeInto/decodeFrom", () => {
  fc.assert(
    fc.property(
      typeArb.chain((t) => fc.tuple(fc.constant(t), valueArb(t), fc.nat(16))),
      ([t, v, at]) => {
        assert.deepEqual(t.decode(t.encode(v as never)), v);
        const buf = new Uint8Array(at + t.size + 3).fill(0xa5);
        const view = new DataView(buf.buffer);
        t.encodeInto(view, at, v as never);
        assert.deepEqual(t.decodeFrom(view, at), v);
        const used = dataBytes(t);
        for (let i = 0; i < buf.length; i++) {
          const inside = i >= at && i < at + t.size;
          if (!inside) assert.equal(buf[i], 0xa5, `byte ${i} outside the value was touched`);
          else if (!used[i - at]) assert.equal(buf[i], 0, `padding byte ${i - at} not zeroed`);
        }
      },
    ),
    { numRuns: 300 },
  );
});

test("property: any bytes of the right size decode, and re-encode to the same bytes minus padding", () => {
  fc.assert(
    fc.property(
      structArb.chain((t) =>
        fc.tuple(fc.constant(t), fc.uint8Array({ minLength: t.size, maxLength: t.size + 8 })),
      ),
      ([t, raw]) => {
        const value = t.decode(raw);
        const again = t.encode(value);
        const used = dataBytes(t);
        for (let i = 0; i < t.size; i++) assert.equal(again[i], used[i] ? raw[i] : 0);
      },
    ),
    { numRuns: 300 },
  );
});

test("property: a struct field accepts exactly the values its int type accepts alone", () => {
  const edge = (t: (typeof allInts)[number]): fc.Arbitrary<unknown> => {
    const lo = t.min as number | bigint;
    const hi = t.max as number | bigint;
    const near = (x: number | bigint): unknown[] =>
      typeof x === "bigint" ? [x, x - 1n, x + 1n, Number(x)] : [x, x - 1, x + 1, x + 0.5];
    return fc.oneof(
      fc.constantFrom(...near(lo), ...near(hi), 0, -0, NaN, Infinity, "1", null, 1n, 2 ** 53),
      fc.double(),
      fc.integer(),
      fc.bigInt({ min: -(1n << 65n), max: 1n << 65n }),
    );
  };
  fc.assert(
    fc.property(
      fc.constantFrom(...allInts).chain((t) => fc.tuple(fc.constant(t), edge(t))),
      ([t, x]) => {
        const S = struct("One", { pad: u8, v: t });
        let alone: unknown;
        let inStruct: unknown;
        try {
          alone = t.decode(t.encode(x as never));
        } catch (e) {
          assert.ok(e instanceof EncodeError);
          alone = "error";
        }
        try {
          inStruct = S.decode(S.encode({ pad: 0, v: x as never })).v;
        } catch (e) {
          assert.ok(e instanceof EncodeError);
          assert.match(e.message, /^One\.v: /);
          inStruct = "error";
        }
        assert.equal(inStruct, alone);
      },
    ),
    { numRuns: 2000 },
  );
});
