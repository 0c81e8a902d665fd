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
  const log: string[] = [];
  // Fail with a picture of the state instead of hanging if an event never shows up.
  const watchdog = setTimeout(() => {
    log.push(`TIMEOUT ring available ${ring.available()} perf sent ${toPerf.sent()}`);
    log.push(`perf now ${JSON.stringify(perf.readBatch().map((b) => [b.cpu, b.events.length]))}`);
    log.push(`ring now ${ring.readBatch().length}`);
    ring.close();
    perf.close();
  }, 5000);
  for await (const { map, events, lost, cpu } of mergeReaders([ring, perf])) {
    assert.equal(lost, 0);
    log.push(`${map}:${cpu ?? "-"}:${events.length}`);
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
  clearTimeout(watchdog);
  assert.ok(!log.some((l) => l.startsWith("TIMEOUT")), log.join(" | "));
  assert.deepEqual(counts.get("m_ring"), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(
    counts.get("m_perf")!.sort((a, b) => a - b),
    [0, 1, 2, 3, 4, 5, 6],
  );
});
