// A probe can count its own lost samples: PerfMap.insert returns bpf_perf_event_output's
// result (0, or -ENOSPC when the CPU's ring is full). The count it keeps agrees with the
// reader's exact loss (PERF_FORMAT_LOST, Linux ≥ 6.0). Issue 17.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { needsKernel } from "../../support/kernel.js";
import { compileProbe } from "../../../src/compiler/index.js";
import { Collection } from "../../../src/load/collection.js";
import { PerfReader } from "../../../src/reader/perf.js";
import { possibleCpus } from "../../../src/sys/cpus.js";
import { pinMainThread } from "./programs.js";

const PROBE = `import { program, map, xdp, PerfMap, ArrayMap, XdpAction, atomicAdd, toBigInt, type XdpContext } from "tsbpf/probe";
import { struct, u64 } from "tsbpf/types";
program({ license: "GPL" });
const Counts = struct("Counts", { sent: u64, failed: u64, lastError: u64 });
const events = map("events", new PerfMap(u64, { maxEntries: ${Math.max(...possibleCpus()) + 1} }));
const counts = map("counts", new ArrayMap(Counts, { maxEntries: 1 }));
export const emit = xdp((ctx: XdpContext) => {
  const c = counts.get(0);
  if (!c) return XdpAction.Pass;
  const r = events.insert(ctx, 7n);
  if (r < 0) {
    atomicAdd(c, "failed", 1);
    c.lastError = toBigInt(-r);
  } else atomicAdd(c, "sent", 1);
  return XdpAction.Pass;
});
`;

test("PerfMap.insert returns the helper's result: a probe counts exactly what the reader lost", (t) => {
  if (!needsKernel(t, { minKernel: "6.0" })) return;
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-perf-insert-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "probe.ts"), PROBE);
  using coll = Collection.load(compileProbe(join(dir, "probe.ts")).elf);
  const reader = PerfReader.open(coll.map("events"), { pageCount: 1 });
  t.after(() => reader.close());
  const unpin = pinMainThread(reader.cpus[0]!);
  t.after(unpin);
  coll.program("emit").testRun({ data: new Uint8Array(64), repeat: 1000 });
  let received = 0;
  for (const b of reader.readBatch()) received += b.events.length;
  reader.commit();
  reader.close();
  const v = new DataView((coll.map("counts").get(new Uint8Array(4)) as Uint8Array).buffer);
  const sent = Number(v.getBigUint64(0, true));
  const failed = Number(v.getBigUint64(8, true));
  assert.equal(sent + failed, 1000);
  assert.ok(failed > 0, "a one-page ring overflows");
  assert.equal(Number(v.getBigUint64(16, true)), 28, "-ENOSPC");
  assert.equal(sent, received);
  assert.equal(failed, reader.totalLost, "the probe's count is the reader's exact loss");
});
