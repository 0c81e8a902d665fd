import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { MapData, mapDataHeader } from "../../../src/map/map-data.js";
import { struct, toC, u16, u32, u64, u8, type Infer } from "../../../src/types/index.js";
import { buildC, needsClang } from "../../support/fixtures.js";
import { typeArb } from "./gen.js";

const RequestInfo = struct("RequestInfo", { saddr: u32, daddr: u32, sport: u16, dport: u16 });
const Wide = struct("Wide", { ts: u64 });
const Tiny = struct("Tiny", { b: u8 });

/** A record as a probe sends it: header, then `packet` (of which `size` bytes count). */
function record<T>(
  type: { encode(v: T): Uint8Array },
  data: T,
  offset: number,
  size: number,
  packet: Uint8Array,
  headerSize: number,
): Uint8Array {
  const out = new Uint8Array(headerSize + packet.length);
  out.set(type.encode(data));
  const view = new DataView(out.buffer);
  view.setUint32(headerSize - 8, offset, true);
  view.setUint32(headerSize - 4, size, true);
  out.set(packet, headerSize);
  return out;
}

test("header layout is struct { T data; u32 offset; u32 size; } with natural alignment", () => {
  const h = mapDataHeader(RequestInfo);
  assert.equal(h, MapData.header(RequestInfo), "one header object per type");
  assert.deepEqual(
    h.fields.map((f) => [f.name, f.offset]),
    [
      ["data", 0],
      ["offset", 12],
      ["size", 16],
    ],
  );
  assert.equal(MapData.headerSize(RequestInfo), 20);
  assert.equal(MapData.headerSize(Wide), 16);
  assert.equal(MapData.headerSize(Tiny), 12);
  // A u64 struct of 8 bytes + 8 header bytes: no tail padding. With 12+8 = 20 → 24 for align 8.
  assert.equal(MapData.headerSize(struct("W12", { a: u64, b: u32 })), 24);
  assert.equal(MapData.headerSize(u16), 12);
  assert.equal(h.name, "MapData_RequestInfo");
});

test("decode: data, offset, size and the payload slice", () => {
  const info = { saddr: 0x0a000001, daddr: 0x0a000002, sport: 40000, dport: 80 };
  const packet = new TextEncoder().encode("xxxxxxxxGET / HTTP/1.1\r\n");
  const raw = record(RequestInfo, info, 8, packet.length, packet, 20);
  const r = MapData.decode(RequestInfo, raw);
  const data: Infer<typeof RequestInfo> = r.data;
  assert.deepEqual(data, info);
  assert.equal(r.offset, 8);
  assert.equal(r.size, packet.length);
  assert.equal(new TextDecoder().decode(r.payload), "GET / HTTP/1.1\r\n");
  assert.equal(r.truncated, false);
  assert.equal(r.payload.buffer, raw.buffer, "payload is a view, not a copy");
});

test("decode: trailing bytes past size (perf sample padding) are not payload", () => {
  const packet = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
  const raw = record(Tiny, { b: 1 }, 2, 5, packet, 12);
  const r = MapData.decode(Tiny, raw);
  assert.deepEqual([...r.payload], [3, 4, 5]);
  assert.equal(r.truncated, false);
});

test("decode: truncated input returns what is there and says so", () => {
  const packet = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
  const full = record(Tiny, { b: 9 }, 2, 8, packet, 12);
  const cut = MapData.decode(Tiny, full.subarray(0, 16));
  assert.deepEqual([...cut.payload], [3, 4]);
  assert.equal(cut.truncated, true);
  assert.equal(cut.size, 8);
  const headless = MapData.decode(Tiny, full.subarray(0, 3));
  assert.deepEqual(headless.data, { b: 9 });
  assert.equal(headless.offset, 0, "bytes that never arrived read as zero");
  assert.equal(headless.payload.length, 0);
  assert.equal(headless.truncated, true);
  const empty = MapData.decode(Tiny, new Uint8Array(0));
  assert.deepEqual(empty.data, { b: 0 });
  assert.equal(empty.truncated, true);
});

test("decode: offset past size gives an empty payload", () => {
  const raw = record(Tiny, { b: 1 }, 50, 4, new Uint8Array(4), 12);
  const r = MapData.decode(Tiny, raw);
  assert.equal(r.payload.length, 0);
  assert.equal(r.truncated, false);
});

test("property: decode never throws on random bytes and stays within the input", () => {
  fc.assert(
    fc.property(typeArb, fc.uint8Array({ maxLength: 96 }), fc.nat(8), (type, bytes, skip) => {
      // Also decode from a view that does not start at the buffer's beginning.
      const raw = bytes.subarray(Math.min(skip, bytes.length));
      const r = MapData.decode(type, raw);
      const hs = MapData.headerSize(type);
      assert.ok(r.payload.length <= Math.max(0, raw.length - hs));
      assert.ok(r.payload.length <= r.size);
      if (r.payload.length > 0) {
        assert.equal(r.payload.buffer, raw.buffer);
        assert.ok(r.payload.byteOffset >= raw.byteOffset + hs + Math.min(r.offset, r.size));
      }
      assert.equal(r.truncated, raw.length < hs + r.size);
    }),
    { numRuns: 1000 },
  );
});

test("clang agrees on the header layout", (t) => {
  if (!needsClang(t)) return;
  for (const type of [RequestInfo, Wide, Tiny]) {
    const h = mapDataHeader(type);
    const src =
      "#include <linux/types.h>\n" +
      toC(h) +
      `_Static_assert(sizeof(struct ${h.name}) == ${h.size}, "size");\n` +
      h.fields
        .map(
          (f) =>
            `_Static_assert(__builtin_offsetof(struct ${h.name}, ${f.name}) == ${f.offset}, "${f.name}");\n`,
        )
        .join("");
    buildC(src, `types-mapdata-${h.name}`);
  }
});
