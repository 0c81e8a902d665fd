import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Attr, cString, objName, readCString } from "../../../src/sys/attr.js";
import { encodeMapCreate, cmdName, Cmd } from "../../../src/sys/bpf.js";
import { encodePerfEventAttr, PERF_ATTR_SIZE, PerfType } from "../../../src/sys/perf-event.js";

test("objName keeps kernel-legal names and repairs the rest", () => {
  assert.equal(objName("events"), "events");
  assert.equal(objName(".rodata"), ".rodata");
  assert.equal(objName("my-map/x"), "my_map_x");
  assert.equal(objName("a_very_long_map_name_indeed"), "a_very_long_map");
  fc.assert(
    fc.property(fc.string(), (s) => {
      const n = objName(s);
      assert.ok(n.length <= 15);
      assert.match(n, /^[A-Za-z0-9_.]*$/);
    }),
  );
});

test("Attr writes little-endian fields and NUL-terminated fixed strings", () => {
  const a = new Attr(24)
    .u32(0, 0xdeadbeef)
    .i32(4, -1)
    .u64(8, 0x0102030405060708n)
    .str(16, 8, "abcdefghij");
  assert.deepEqual([...a.bytes.subarray(0, 4)], [0xef, 0xbe, 0xad, 0xde]);
  assert.equal(a.view.getInt32(4, true), -1);
  assert.equal(a.getU64(8), 0x0102030405060708n);
  assert.equal(readCString(a.bytes, 16, 8), "abcdefg");
  assert.equal(a.bytes[23], 0);
  assert.equal(a.clear().getU32(0), 0);
});

test("cString/readCString round-trip", () => {
  fc.assert(
    fc.property(
      fc.string().filter((s) => !s.includes("\0")),
      (s) => {
        const c = cString(s);
        assert.equal(c[c.length - 1], 0);
        assert.equal(readCString(c), s);
      },
    ),
  );
});

test("MAP_CREATE attr layout matches union bpf_attr", () => {
  const a = encodeMapCreate({
    type: 1,
    keySize: 4,
    valueSize: 8,
    maxEntries: 16,
    flags: 0x400,
    innerMapFd: 9,
    name: "counts",
    btfFd: 3,
    btfKeyTypeId: 5,
    btfValueTypeId: 6,
    mapExtra: 0x1234n,
  });
  assert.equal(a.bytes.byteLength, 80);
  const u32 = (o: number) => a.getU32(o);
  assert.deepEqual([u32(0), u32(4), u32(8), u32(12), u32(16), u32(20)], [1, 4, 8, 16, 0x400, 9]);
  assert.equal(readCString(a.bytes, 28, 16), "counts");
  assert.deepEqual([u32(48), u32(52), u32(56)], [3, 5, 6]);
  assert.equal(a.getU64(64), 0x1234n);
});

test("perf_event_attr layout: size, config, period, flags, config1/2", () => {
  const a = encodePerfEventAttr({
    type: PerfType.TRACEPOINT,
    config: 42,
    samplePeriod: 1,
    sampleType: 1 << 10,
    flags: 1n,
    wakeup: 1,
    config1: 0xaan,
    config2: 0xbbn,
  });
  assert.equal(a.bytes.byteLength, PERF_ATTR_SIZE);
  assert.deepEqual([a.getU32(0), a.getU32(4)], [2, 112]);
  assert.deepEqual([a.getU64(8), a.getU64(16), a.getU64(24), a.getU64(40)], [42n, 1n, 1024n, 1n]);
  assert.equal(a.getU32(48), 1);
  assert.deepEqual([a.getU64(56), a.getU64(64)], [0xaan, 0xbbn]);
});

test("command names for errors", () => {
  assert.equal(cmdName(Cmd.PROG_LOAD), "BPF_PROG_LOAD");
  assert.equal(cmdName(Cmd.MAP_LOOKUP_BATCH), "BPF_MAP_LOOKUP_BATCH");
  assert.equal(cmdName(999), "BPF_CMD_999");
});
