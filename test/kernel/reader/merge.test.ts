import { test } from "node:test";
import assert from "node:assert/strict";
import { needsKernel } from "../../support/kernel.js";
import { mergeReaders, PerfReader, RingBufReader } from "../../../src/reader/index.js";
import { possibleCpus } from "../../../src/sys/cpus.js";
import { Emitter, decodeRecord, perfArrayMap, ringbufMap } from "./programs.js";

test("merged ring buffer and perf readers deliver both maps; closing both ends it", async (t) => {
  if (!needsKernel(t)) return;
  const rbMap = ringbufMap("m_ring", 4096);
  const paMap = perfArrayMap("m_perf", Math.max(...possibleCpus()) + 1);
  using toRing = Emitter.create(rbMap);
  using toPerf = Emitter.create(paMap);
  const ring = RingBufReader.open(rbMap);
  const perf = PerfReader.open(paMap);
  rbMap.fd.close();
  paMap.fd.close();
  setTimeout(() => {
    toRing.run(10);
    toPerf.run(7);
  }, 20);
  const counts = new Map<string, number[]>();
  for await (const { map, events, lost } of mergeReaders([ring, perf])) {
    assert.equal(lost, 0);
    const list = counts.get(map) ?? [];
    list.push(...events.map((e) => decodeRecord(e).seq));
    counts.set(map, list);
    if (counts.get("m_ring")?.length === 10 && counts.get("m_perf")?.length === 7) {
      setTimeout(() => {
        ring.close();
        perf.close();
      }, 10);
    }
  }
  assert.deepEqual(counts.get("m_ring"), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(
    counts.get("m_perf")!.sort((a, b) => a - b),
    [0, 1, 2, 3, 4, 5, 6],
  );
});
