// Values through their BTF type (src/obj/btf-value.ts): bpftool's `formatted` shapes, the way
// back to bytes, and hostile BTF or bytes ending in BtfValueError/ObjectError, never a crash.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { BtfBuilder, parseBtf } from "../../../src/obj/btf.js";
import {
  BtfValueError,
  btfValueJson,
  btfValueText,
  decodeBtfValue,
  encodeBtfValue,
} from "../../../src/obj/btf-value.js";
import { ObjectError } from "../../../src/obj/errors.js";

function sample() {
  const b = new BtfBuilder();
  const u8 = b.addInt("unsigned char", 1, false);
  const char = b.addInt("char", 1, true);
  const u32 = b.addTypedef("__u32", b.addInt("unsigned int", 4, false));
  const s16 = b.addInt("short", 2, true);
  const u64 = b.addInt("unsigned long long", 8, false);
  const bool = b.addInt("_Bool", 1, false, { bool: true });
  const color = b.addEnum("color", [
    { name: "RED", value: 0 },
    { name: "BLUE", value: 2 },
  ]);
  const inner = b.addStruct(
    "",
    [
      { name: "lo", type: u8, bitOffset: 0 },
      { name: "hi", type: u8, bitOffset: 8 },
    ],
    2,
  );
  const key = b.addStruct(
    "key",
    [
      { name: "pid", type: u32, bitOffset: 0 },
      { name: "comm", type: b.addArray(char, 8), bitOffset: 32 },
      { name: "addr", type: b.addArray(u8, 4), bitOffset: 96 },
      { name: "delta", type: s16, bitOffset: 128 },
      { name: "", type: inner, bitOffset: 144 }, // anonymous: fields read as the parent's
      { name: "flag", type: u32, bitOffset: 160, bitfieldSize: 3 },
      { name: "neg", type: s16, bitOffset: 163, bitfieldSize: 5 },
      { name: "on", type: bool, bitOffset: 168 },
      { name: "color", type: color, bitOffset: 192 },
      { name: "big", type: u64, bitOffset: 256 },
    ],
    40,
  );
  // the builder sets kindFlag for bitfields; read it back as the kernel would hand it over
  const btf = parseBtf(b.encode());
  return { btf, key, u32 };
}

const VALUE = {
  pid: 4242,
  comm: "bash",
  addr: [10, 1, 2, 0],
  delta: -7,
  lo: 1,
  hi: 255,
  flag: 5,
  neg: -3,
  on: true,
  color: "BLUE",
  big: 18446744073709551615n,
};

test("a struct key: encode, then decode gives the same value (bpftool's shapes)", () => {
  const { btf, key } = sample();
  const bytes = encodeBtfValue(btf, key, VALUE);
  assert.equal(bytes.length, 40);
  assert.deepEqual(decodeBtfValue(btf, key, bytes), VALUE);
  // little-endian pid, then the NUL-padded comm
  assert.deepEqual([...bytes.subarray(0, 9)], [0x92, 0x10, 0, 0, 0x62, 0x61, 0x73, 0x68, 0]);
  assert.equal(
    btfValueJson(decodeBtfValue(btf, key, bytes)),
    '{"pid":4242,"comm":"bash","addr":[10,1,2,0],"delta":-7,"lo":1,"hi":255,"flag":5,"neg":-3,"on":true,"color":"BLUE","big":18446744073709551615}',
  );
  assert.equal(
    btfValueText(decodeBtfValue(btf, key, bytes)),
    '{ pid: 4242, comm: "bash", addr: [10, 1, 2, 0], delta: -7, lo: 1, hi: 255, flag: 5, neg: -3, on: true, color: "BLUE", big: 18446744073709551615 }',
  );
});

test("fields left out are zero; a char array that is no string reads as numbers", () => {
  const { btf, key } = sample();
  const bytes = encodeBtfValue(btf, key, { pid: 1 });
  const v = decodeBtfValue(btf, key, bytes) as Record<string, unknown>;
  assert.equal(v.pid, 1);
  assert.equal(v.comm, ""); // all NUL: the empty string
  assert.equal(v.color, "RED");
  bytes.fill(0x01, 4, 12); // no NUL, not printable
  assert.deepEqual(
    (decodeBtfValue(btf, key, bytes) as Record<string, unknown>).comm,
    [1, 1, 1, 1, 1, 1, 1, 1],
  );
});

test("values that do not fit name the field and what it takes", () => {
  const { btf, key, u32 } = sample();
  const bad: [unknown, RegExp][] = [
    [
      { pidd: 1 },
      /struct key has no field "pidd" \(it has pid, comm, addr, delta, lo, hi, flag, neg, on, color, big\)/,
    ],
    [{ pid: -1 }, /value\.pid: -1 does not fit an unsigned 32-bit integer/],
    [{ flag: 8 }, /value\.flag: 8 does not fit an unsigned 3-bit integer/],
    [{ comm: "much too long" }, /value\.comm: "much too long" is 13 bytes, the array holds 8/],
    [{ color: "GREEN" }, /enum color has no value named "GREEN" \(it has RED, BLUE\)/],
    [{ addr: [1, 2, 3, 4, 5] }, /value\.addr: 5 elements, the array holds 4/],
    [[1], /expected an object with the fields of struct key/],
  ];
  for (const [v, re] of bad)
    assert.throws(
      () => encodeBtfValue(btf, key, v),
      (e: Error) => e instanceof BtfValueError && re.test(e.message),
      String(v),
    );
  assert.throws(() => encodeBtfValue(btf, u32, "x"), /expected an integer, got "x"/);
  assert.deepEqual([...encodeBtfValue(btf, u32, "0x10")], [16, 0, 0, 0]);
  assert.throws(() => decodeBtfValue(btf, key, new Uint8Array(10)), BtfValueError);
});

test("a DATASEC reads as bpftool's {section: [{var: value}]} and encodes from either shape", () => {
  const b = new BtfBuilder();
  const u32 = b.addInt("unsigned int", 4, false);
  const runs = b.addVar("runs", u32);
  const hits = b.addVar("hits", u32);
  const sec = b.addDatasec(
    ".bss",
    [
      { type: runs, offset: 0, size: 4 },
      { type: hits, offset: 4, size: 4 },
    ],
    8,
  );
  const btf = parseBtf(b.encode());
  const bytes = encodeBtfValue(btf, sec, { runs: 3, hits: 4 });
  assert.deepEqual(decodeBtfValue(btf, sec, bytes), { ".bss": [{ runs: 3 }, { hits: 4 }] });
  assert.deepEqual(encodeBtfValue(btf, sec, { ".bss": [{ runs: 3 }, { hits: 4 }] }), bytes);
  assert.throws(
    () => encodeBtfValue(btf, sec, { nope: 1 }),
    /\.bss has no variable nope \(it has runs, hits\)/,
  );
});

test("fuzz: any BTF and any bytes decode or fail with a typed error; encode(decode(x)) = x for ints and structs", () => {
  const { btf, key } = sample();
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 40, maxLength: 40 }), (bytes) => {
      // clear the padding and the unused bits so a round trip can be exact
      const v = decodeBtfValue(btf, key, bytes);
      const again = encodeBtfValue(btf, key, v);
      assert.deepEqual(decodeBtfValue(btf, key, again), v);
    }),
  );
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 24, maxLength: 400 }),
      fc.uint8Array({ maxLength: 64 }),
      fc.nat(40),
      (blob, bytes, id) => {
        let parsed;
        try {
          parsed = parseBtf(blob);
        } catch (e) {
          assert.ok(e instanceof ObjectError);
          return;
        }
        try {
          decodeBtfValue(parsed, id, bytes);
        } catch (e) {
          assert.ok(e instanceof BtfValueError || e instanceof ObjectError, String(e));
        }
      },
    ),
  );
});
