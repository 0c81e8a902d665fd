// The addon's mapElem entry point (the BpfMap element fast path) against a real hash map:
// lookups, updates, deletes and errors, with addresses of buffers this test keeps alive.
import { test } from "node:test";
import assert from "node:assert/strict";
import { needsKernel } from "../../support/kernel.js";
import { BpfMap } from "../../../src/map/map.js";
import { Cmd } from "../../../src/sys/bpf.js";
import { MapType } from "../../../src/obj/consts.js";
import { Errno } from "../../../src/sys/errors.js";
import { native } from "../../../src/sys/native.js";

type MapElem = (cmd: number, fd: number, key: number, value: number, flags: number) => number;

test("mapElem runs element commands on a real map and returns -errno", (t) => {
  if (!needsKernel(t)) return;
  const mapElem = (native() as unknown as { mapElem: MapElem }).mapElem;
  assert.equal(typeof mapElem, "function", "the addon must be rebuilt (npm install)");
  using m = BpfMap.create({ type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 4 });
  const key = new Uint8Array(4);
  const value = new Uint8Array(8);
  const k = Number(native().addressOf(key));
  const v = Number(native().addressOf(value));
  new DataView(key.buffer).setUint32(0, 7, true);
  new DataView(value.buffer).setBigUint64(0, 0x1122334455n, true);
  assert.equal(mapElem(Cmd.MAP_UPDATE_ELEM, m.fd, k, v, 1 /* BPF_NOEXIST */), 0);
  assert.equal(
    mapElem(Cmd.MAP_UPDATE_ELEM, m.fd, k, v, 1),
    -Errno.EEXIST,
    "flags reach the kernel",
  );
  value.fill(0);
  assert.equal(mapElem(Cmd.MAP_LOOKUP_ELEM, m.fd, k, v, 0), 0);
  assert.equal(new DataView(value.buffer).getBigUint64(0, true), 0x1122334455n);
  assert.deepEqual(m.get(key), value, "BpfMap reads the same element");
  assert.equal(mapElem(Cmd.MAP_DELETE_ELEM, m.fd, k, 0, 0), 0);
  assert.equal(mapElem(Cmd.MAP_LOOKUP_ELEM, m.fd, k, v, 0), -Errno.ENOENT);
  assert.equal(mapElem(Cmd.MAP_LOOKUP_ELEM, -1, k, v, 0), -Errno.EBADF);
  assert.throws(() => mapElem(Cmd.MAP_LOOKUP_ELEM, m.fd, "x" as never, v, 0), TypeError);
});
