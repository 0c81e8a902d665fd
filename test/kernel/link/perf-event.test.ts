// perf_event programs: a software cpu-clock sampling event on each CPU runs the program;
// its per-CPU sample counts grow on every CPU sampled.
import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { Loader } from "../../../src/load/loader.js";
import { Collection } from "../../../src/load/collection.js";
import { AttachError, attachPerfEvent, PerfSoftware, PerfType } from "../../../src/link/index.js";
import { onlineCpus } from "../../../src/sys/cpus.js";
import { needsKernel } from "../../support/kernel.js";
import { fixture } from "../../support/fixtures.js";

const u32 = (n: number) => new Uint8Array(new Uint32Array([n]).buffer);

test("perf_event: cpu-clock samples on every online CPU", async (t) => {
  if (!needsKernel(t)) return;
  const cpus = onlineCpus();
  await using loaded = await Loader.create()
    .attachDefaults({
      perfEvent: { type: PerfType.SOFTWARE, config: PerfSoftware.CPU_CLOCK, sampleFreq: 1000 },
    })
    .loadFile(fixture("perf_sample.o"));
  const { link } = loaded.links[0]!;
  assert.equal(link.kind, "perf_event");
  assert.match(link.description, new RegExp(`1000 Hz\\) on CPUs ${cpus.join(",")}$`));
  const count = (cpu: number) =>
    Buffer.from(loaded.map("samples").get(u32(cpu))!).readBigUInt64LE(0);
  // cpu-clock ticks on idle CPUs too: wait until every CPU has been sampled (the test
  // runner's timeout bounds this; no timing is asserted).
  while (!cpus.every((c) => count(c) > 0n)) await sleep(20);
  link.close();
  const before = cpus.map(count);
  await sleep(50);
  assert.deepEqual(cpus.map(count), before, "no samples after close");
});

test("perf_event: a period instead of a frequency; one CPU; errors", async (t) => {
  if (!needsKernel(t)) return;
  using c = await Collection.loadFile(fixture("perf_sample.o"));
  const prog = c.program("on_sample");
  const cpu = onlineCpus()[0]!;
  {
    using link = attachPerfEvent(prog, { samplePeriod: 1_000_000, cpus: [cpu] }); // every 1 ms
    while (Buffer.from(c.map("samples").get(u32(cpu))!).readBigUInt64LE(0) === 0n) await sleep(20);
    assert.match(link.description, /every 1000000\) on CPUs \d+$/);
  }
  assert.throws(
    () => attachPerfEvent(prog, { samplePeriod: 1, sampleFreq: 1 }),
    /samplePeriod or sampleFreq, not both/,
  );
  assert.throws(
    () => prog.attach(),
    (e) =>
      e instanceof AttachError &&
      /needs a perf event: pass --sample-freq HZ \(the perfEvent option\)/.test(e.message),
  );
});
