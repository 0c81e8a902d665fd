import { test } from "node:test";
import assert from "node:assert/strict";
import { needsKernel } from "../../support/kernel.js";
import { BpfMap } from "../../../src/map/map.js";
import { MapType } from "../../../src/obj/consts.js";
import { PerfReader, RingBufReader } from "../../../src/reader/index.js";
import { possibleCpus } from "../../../src/sys/cpus.js";

test("readers open a BpfMap directly and check its type", (t) => {
  if (!needsKernel(t)) return;
  using ringMap = BpfMap.create({
    type: MapType.RINGBUF,
    keySize: 0,
    valueSize: 0,
    maxEntries: 8192,
    name: "bm_ring",
  });
  using perfMap = BpfMap.create({
    type: MapType.PERF_EVENT_ARRAY,
    keySize: 4,
    valueSize: 4,
    maxEntries: 0, // one slot per possible CPU
    name: "bm_perf",
  });
  {
    using ring = RingBufReader.open(ringMap);
    using perf = PerfReader.open(perfMap);
    assert.equal(ring.name, "bm_ring");
    assert.equal(ring.size, 8192);
    assert.equal(perf.name, "bm_perf");
    assert.deepEqual(perf.cpus, possibleCpus());
    assert.deepEqual(ring.readBatch(), []);
    assert.deepEqual(perf.readBatch(), []);
  }
  assert.throws(() => RingBufReader.open(perfMap), /needs a BPF_MAP_TYPE_RINGBUF map/);
  assert.throws(() => PerfReader.open(ringMap), /needs a BPF_MAP_TYPE_PERF_EVENT_ARRAY map/);
});
